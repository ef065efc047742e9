// Parser tests: the shared vectors replayed at every split, a reference
// model written straight from the spec, random streams, and the edges of
// reset() and max_buffer_size.
#include "core/parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <new>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "utf8_reference.h"

#include "core/utf8.h"

// Counts allocations for the steady-state test. Weak, so another test file
// may define its own; the test checks that counting works before relying on
// it. Not under sanitizers, which bring their own allocator.
#if defined(__SANITIZE_ADDRESS__)
#define SSE_COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SSE_COUNT_ALLOCS 0
#endif
#endif
#ifndef SSE_COUNT_ALLOCS
#define SSE_COUNT_ALLOCS 1
#endif

namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

#if SSE_COUNT_ALLOCS
__attribute__((weak)) void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
__attribute__((weak)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((weak)) void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
#endif

namespace sse {
namespace {

using Arg = std::optional<std::string>;

// One handler callback, in the vector file's vocabulary.
struct Call {
  std::string kind;  // event, id, retry, comment, error
  std::vector<Arg> args;
  bool operator==(const Call& o) const {
    return kind == o.kind && args == o.args;
  }
};

std::string escape(std::string_view s) {
  std::string out;
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7F || c == ' ') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void PrintTo(const Call& call, std::ostream* os) {
  *os << call.kind;
  for (const Arg& arg : call.args) {
    *os << ' ' << (arg ? (arg->empty() ? "\"\"" : escape(*arg)) : "-");
  }
}

std::string str(std::string_view v) { return std::string(v); }

// Records callbacks and checks every view it is handed.
class Recorder : public ParserHandler {
 public:
  std::vector<Call> calls;

  void onEvent(const Event& e) override {
    check(e.event);
    check(e.data);
    check(e.id);
    EXPECT_EQ(e.has_event, !e.event.empty());
    EXPECT_TRUE(e.has_id || e.id.empty());
    calls.push_back({"event",
                     {e.has_event ? Arg(str(e.event)) : Arg(),
                      e.has_id ? Arg(str(e.id)) : Arg(), str(e.data)}});
  }
  void onId(std::string_view id) override {
    check(id);
    calls.push_back({"id", {str(id)}});
  }
  void onRetry(uint64_t ms) override {
    calls.push_back({"retry", {std::to_string(ms)}});
  }
  void onComment(std::string_view text) override {
    check(text);
    calls.push_back({"comment", {str(text)}});
  }
  void onError(ParseErrorKind kind, std::string_view field,
               std::string_view value, std::string_view line) override {
    check(field);
    check(value);
    check(line);
    switch (kind) {
      case ParseErrorKind::kInvalidRetry:
        EXPECT_EQ(field, "retry");
        calls.push_back({"error", {"invalid-retry", str(value), str(line)}});
        break;
      case ParseErrorKind::kUnknownField:
        calls.push_back(
            {"error", {"unknown-field", str(field), str(value), str(line)}});
        break;
      case ParseErrorKind::kMaxBufferSizeExceeded:
        EXPECT_TRUE(field.empty() && value.empty() && line.empty());
        calls.push_back({"error", {"max-buffer-size-exceeded"}});
        break;
    }
  }

 private:
  static void check(std::string_view v) {
    EXPECT_NE(v.data(), nullptr);
    EXPECT_TRUE(isValidUtf8(v.data(), v.size())) << escape(v);
  }
};

// How a vector's parser is made and its stream ended (see its `!` options).
struct Options {
  bool consume = false;
  bool comments = true;
  size_t max_buffer = 0;
};

// Feeds `input` cut at the sorted positions `cuts`.
std::vector<Call> parseWithCuts(std::string_view input,
                                const std::vector<size_t>& cuts,
                                const Options& opt = {}) {
  Recorder rec;
  Parser parser(&rec, opt.max_buffer, opt.comments);
  size_t at = 0;
  for (size_t cut : cuts) {
    EXPECT_TRUE(parser.feed(input.substr(at, cut - at)));
    at = cut;
  }
  EXPECT_TRUE(parser.feed(input.substr(at)));
  if (opt.consume) parser.reset(true);
  return rec.calls;
}

std::vector<Call> parseWhole(std::string_view input, const Options& opt = {}) {
  return parseWithCuts(input, {}, opt);
}

std::vector<Call> parseBytewise(std::string_view input,
                                const Options& opt = {}) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  return parseWithCuts(input, cuts, opt);
}

// Feeds the chunks as given; once the parser terminated (max buffer size)
// the rest are not fed.
std::vector<Call> parseChunks(const std::vector<std::string>& chunks,
                              const Options& opt) {
  Recorder rec;
  Parser parser(&rec, opt.max_buffer, opt.comments);
  for (const std::string& chunk : chunks) {
    if (!parser.feed(chunk)) break;
  }
  if (opt.consume) parser.reset(true);
  return rec.calls;
}

bool isUnknownField(const Call& c) {
  return c.kind == "error" && !c.args.empty() && c.args[0] == "unknown-field";
}

std::vector<Call> withoutUnknownFields(const std::vector<Call>& calls) {
  std::vector<Call> out;
  for (const Call& c : calls) {
    if (!isUnknownField(c)) out.push_back(c);
  }
  return out;
}

// What a replay fed in pieces must give, given the calls of the whole feed:
// the same calls except that unknown-field errors of lines cut by a feed
// boundary may be missing (see "LINES THAT CANNOT MATTER" in the vectors).
::testing::AssertionResult splitAgrees(const std::vector<Call>& split,
                                       const std::vector<Call>& whole) {
  if (withoutUnknownFields(split) != withoutUnknownFields(whole)) {
    return ::testing::AssertionFailure()
           << ::testing::PrintToString(split) << " vs whole "
           << ::testing::PrintToString(whole);
  }
  size_t at = 0;
  for (const Call& c : split) {
    if (!isUnknownField(c)) continue;
    while (at < whole.size() && !(whole[at] == c)) ++at;
    if (at == whole.size()) {
      return ::testing::AssertionFailure()
             << "unknown-field not in the whole feed's order: "
             << ::testing::PrintToString(c);
    }
    ++at;
  }
  return ::testing::AssertionSuccess();
}

std::vector<size_t> randomCuts(size_t size, std::mt19937* rng) {
  std::vector<size_t> cuts;
  if (size == 0) return cuts;
  const size_t count = (*rng)() % 6 + 1;
  for (size_t i = 0; i < count; ++i) cuts.push_back((*rng)() % (size + 1));
  std::sort(cuts.begin(), cuts.end());  // duplicates feed empty chunks
  return cuts;
}

// ---- Reference model: the spec's algorithms, literally, on whole input.

// refDecodeUtf8 comes from utf8_reference.h.

std::vector<Call> referenceParse(std::string_view input) {
  std::string text = refDecodeUtf8(input);
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r' && text[i] != '\n') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  // What follows the last line break is an unfinished line: never parsed.
  std::vector<Call> calls;
  // Plain strings and flags: GCC 12 misreports optional<string> here.
  std::string type, id, data;
  bool has_type = false, has_id = false, has_data = false;
  for (const std::string& line : lines) {
    if (line.empty()) {
      if (has_id) calls.push_back({"id", {id}});
      if (has_data) {
        calls.push_back(
            {"event",
             {has_type ? Arg(type) : Arg(), has_id ? Arg(id) : Arg(), data}});
      }
      type.clear();
      id.clear();
      data.clear();
      has_type = has_id = has_data = false;
      continue;
    }
    if (line[0] == ':') {
      std::string text = line.substr(1);
      if (!text.empty() && text[0] == ' ') text.erase(0, 1);
      calls.push_back({"comment", {text}});
      continue;
    }
    const size_t colon = line.find(':');
    std::string field = line.substr(0, colon);
    std::string value;
    if (colon != std::string::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    }
    if (field == "data") {
      if (has_data) data += '\n';
      data += value;
      has_data = true;
    } else if (field == "event") {
      type = value;
      has_type = !value.empty();
    } else if (field == "id") {
      if (value.find('\0') == std::string::npos) {
        id = value;
        has_id = true;
      }
    } else if (field == "retry") {
      const bool digits =
          !value.empty() &&
          value.find_first_not_of("0123456789") == std::string::npos;
      if (!digits) {
        calls.push_back({"error", {"invalid-retry", value, line}});
        continue;
      }
      std::string n = value.substr(
          std::min(value.find_first_not_of('0'), value.size() - 1));
      const std::string kMax = "18446744073709551615";
      if (n.size() > kMax.size() || (n.size() == kMax.size() && n > kMax)) {
        calls.push_back({"error", {"invalid-retry", value, line}});
        continue;
      }
      calls.push_back({"retry", {n}});
    } else {
      calls.push_back({"error", {"unknown-field", field, value, line}});
    }
  }
  return calls;
}

// ---- The vector file (format documented at its top).

struct Vector {
  std::string name;
  int line = 0;
  std::string input;
  std::vector<Call> expected;
  std::vector<std::string> chunks;  // the '>' lines, one chunk each
  bool chunked = false;             // `! chunks`: replay only as given
  Options options;
};

std::string unescape(std::string_view s, bool* ok) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) {
      *ok = false;
      break;
    }
    switch (s[i]) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '0':
        out += '\0';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x': {
        const std::string hex(s.substr(i + 1, 2));
        if (hex.size() != 2 ||
            !std::isxdigit(static_cast<unsigned char>(hex[0])) ||
            !std::isxdigit(static_cast<unsigned char>(hex[1]))) {
          *ok = false;
          break;
        }
        out += static_cast<char>(std::stoi(hex, nullptr, 16));
        i += 2;
        break;
      }
      default:
        *ok = false;
    }
  }
  return out;
}

// Splits at the first n-1 spaces; the last part is the rest of the line.
std::vector<std::string> splitFields(const std::string& line, size_t n) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (parts.size() + 1 < n) {
    const size_t space = line.find(' ', at);
    if (space == std::string::npos) break;
    parts.push_back(line.substr(at, space - at));
    at = space + 1;
  }
  parts.push_back(line.substr(at));
  return parts;
}

Arg field(const std::string& raw, bool* ok) {
  if (raw == "-") return std::nullopt;
  if (raw == "\"\"") return std::string();
  return unescape(raw, ok);
}

std::vector<Vector> loadVectors(std::string* error) {
  std::vector<Vector> out;
  std::ifstream file(SSE_VECTORS_DIR "/parser.vectors", std::ios::binary);
  if (!file) {
    *error = "cannot open " SSE_VECTORS_DIR "/parser.vectors";
    return out;
  }
  std::string line;
  int number = 0;
  auto fail = [&](const std::string& why) {
    *error = "parser.vectors:" + std::to_string(number) + ": " + why;
  };
  while (std::getline(file, line)) {
    ++number;
    if (line.empty()) continue;
    if (line.rfind("## ", 0) == 0) {
      out.push_back({line.substr(3), number, "", {}, {}, false, {}});
      continue;
    }
    if (line[0] == '#') continue;
    if (out.empty()) {
      fail("record before the first case");
      return out;
    }
    Vector& v = out.back();
    bool ok = true;
    if (line == ">") {
      v.chunks.emplace_back();
      continue;
    }
    if (line.rfind("> ", 0) == 0) {
      v.chunks.push_back(unescape(std::string_view(line).substr(2), &ok));
      v.input += v.chunks.back();
      if (!ok) fail("bad escape");
      continue;
    }
    if (line.rfind("! ", 0) == 0) {
      const std::string opt = line.substr(2);
      if (opt == "chunks") {
        v.chunked = true;
      } else if (opt == "consume") {
        v.options.consume = true;
      } else if (opt == "no-comments") {
        v.options.comments = false;
      } else if (opt.rfind("max-buffer-size ", 0) == 0) {
        v.options.max_buffer = std::stoul(opt.substr(16));
      } else {
        fail("unknown option: " + line);
        return out;
      }
      continue;
    }
    const std::string kind = line.substr(0, line.find(' '));
    size_t n = 0;
    if (kind == "event") n = 4;
    if (kind == "id" || kind == "retry" || kind == "comment") n = 2;
    if (line.rfind("error invalid-retry ", 0) == 0) n = 4;
    if (line.rfind("error unknown-field ", 0) == 0) n = 5;
    if (line == "error max-buffer-size-exceeded") n = 2;
    const std::vector<std::string> parts = splitFields(line, n);
    if (n == 0 || parts.size() != n) {
      fail("bad record: " + line);
      return out;
    }
    Call call{kind, {}};
    for (size_t i = 1; i < n; ++i) call.args.push_back(field(parts[i], &ok));
    if (!ok) fail("bad escape");
    v.expected.push_back(call);
  }
  return out;
}

const std::vector<Vector>& vectors() {
  static std::string error;
  static const std::vector<Vector> all = loadVectors(&error);
  EXPECT_EQ(error, "");
  return all;
}

TEST(ParserVectorFile, LoadsManyCases) {
  EXPECT_GE(vectors().size(), 60u);
  std::vector<std::string> names;
  for (const Vector& v : vectors()) names.push_back(v.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end())
      << "duplicate case name";
}

class ParserVector : public ::testing::TestWithParam<size_t> {
 protected:
  const Vector& vec() const { return vectors()[GetParam()]; }
};

TEST_P(ParserVector, EverySplit) {
  const Vector& v = vec();
  SCOPED_TRACE("parser.vectors:" + std::to_string(v.line) + " " + v.name);
  if (v.chunked) {
    SCOPED_TRACE("chunks as given");
    EXPECT_EQ(parseChunks(v.chunks, v.options), v.expected);
    return;
  }
  {
    SCOPED_TRACE("whole");
    EXPECT_EQ(parseWhole(v.input, v.options), v.expected);
  }
  {
    SCOPED_TRACE("one byte at a time");
    EXPECT_TRUE(splitAgrees(parseBytewise(v.input, v.options), v.expected));
  }
  for (size_t cut = 0; cut <= v.input.size(); ++cut) {
    SCOPED_TRACE("split at " + std::to_string(cut));
    ASSERT_TRUE(
        splitAgrees(parseWithCuts(v.input, {cut}, v.options), v.expected));
  }
  std::mt19937 rng(static_cast<uint32_t>(GetParam()));
  for (int round = 0; round < 20; ++round) {
    const std::vector<size_t> cuts = randomCuts(v.input.size(), &rng);
    std::string where;
    for (size_t c : cuts) where += " " + std::to_string(c);
    SCOPED_TRACE("split at" + where);
    ASSERT_TRUE(
        splitAgrees(parseWithCuts(v.input, cuts, v.options), v.expected));
  }
}

// The model knows neither chunks nor options: plain whole-input cases only.
TEST_P(ParserVector, ReferenceModelAgrees) {
  const Vector& v = vec();
  SCOPED_TRACE("parser.vectors:" + std::to_string(v.line) + " " + v.name);
  if (v.chunked || v.options.consume || !v.options.comments) return;
  EXPECT_EQ(referenceParse(v.input), v.expected);
}

std::string testName(const ::testing::TestParamInfo<size_t>& info) {
  std::string name = "v" + std::to_string(info.param) + "_";
  for (char c : vectors()[info.param].name) {
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name;
}

std::vector<size_t> vectorIndexes() {
  std::vector<size_t> idx(vectors().size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  return idx;
}

INSTANTIATE_TEST_SUITE_P(Vectors, ParserVector,
                         ::testing::ValuesIn(vectorIndexes()), testName);

// ---- Random streams: split invariance and agreement with the model.

std::string randomStream(std::mt19937* rng) {
  static const char* const kPieces[] = {"data:",
                                        "data: ",
                                        "data",
                                        "event:",
                                        "event: ",
                                        "id:",
                                        "id: ",
                                        "retry:",
                                        "retry: ",
                                        ":",
                                        ": ",
                                        "\n",
                                        "\n",
                                        "\n",
                                        "\n\n",
                                        "\r",
                                        "\r\n",
                                        "foo",
                                        " ",
                                        "a",
                                        "bc",
                                        "123",
                                        "99999999999999999999999",
                                        "\xEF\xBB\xBF",
                                        "\xEF\xBB",
                                        "\xE2\x82\xAC",
                                        "\xF0\x9F\x98\x80",
                                        "\xF0\x9F",
                                        "\xC0",
                                        "\x80",
                                        "\xED\xA0\x80",
                                        "\xFF",
                                        "\xC3\xA9",
                                        "{\"k\":\"v\"}"};
  const size_t kCount = sizeof(kPieces) / sizeof(kPieces[0]);
  std::string s;
  const size_t pieces = (*rng)() % 40;
  for (size_t i = 0; i < pieces; ++i) {
    const uint32_t r = (*rng)();
    if (r % 16 == 0) {
      s += static_cast<char>((r >> 8) & 0xFF);
    } else if (r % 16 == 1) {
      s += '\0';
    } else {
      s += kPieces[(r >> 8) % kCount];
    }
  }
  return s;
}

TEST(ParserRandom, SplitInvariantAndMatchesModel) {
  std::mt19937 rng(20240601);
  for (int round = 0; round < 4000; ++round) {
    const std::string input = randomStream(&rng);
    SCOPED_TRACE("input " + escape(input));
    const std::vector<Call> whole = parseWhole(input);
    ASSERT_EQ(whole, referenceParse(input));
    ASSERT_TRUE(splitAgrees(parseBytewise(input), whole));
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(splitAgrees(
          parseWithCuts(input, randomCuts(input.size(), &rng)), whole));
    }
  }
}

// ---- Larger inputs and the fast paths.

TEST(Parser, LargeEventAcrossManyFeeds) {
  std::string payload;
  for (int i = 0; i < 100000; ++i) payload += static_cast<char>('a' + i % 26);
  payload += "\xE2\x82\xAC";  // a multi-byte tail split by 1000-byte feeds
  const std::string input = "data: " + payload + "\ndata: x\n\n";
  std::vector<size_t> cuts;
  for (size_t c = 1000; c < input.size(); c += 1000) cuts.push_back(c);
  const std::vector<Call> calls = parseWithCuts(input, cuts);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(*calls[0].args[2], payload + "\nx");
}

TEST(Parser, ManyEventsInOneFeed) {
  std::string input;
  for (int i = 0; i < 1000; ++i) {
    input +=
        "id: " + std::to_string(i) + "\ndata: " + std::to_string(i) + "\n\n";
  }
  const std::vector<Call> calls = parseWhole(input);
  ASSERT_EQ(calls.size(), 2000u);
  EXPECT_EQ(calls[1999], (Call{"event", {Arg(), "999", "999"}}));
}

// ---- reset()

TEST(ParserReset, DropsPendingLineAndBlock) {
  Recorder rec;
  Parser parser(&rec);
  parser.feed("data: a\nretry: 5");
  parser.reset();
  parser.feed("\n\ndata: b\n\n");
  EXPECT_EQ(rec.calls, (std::vector<Call>{{"event", {Arg(), Arg(), "b"}}}));
}

TEST(ParserReset, RearmsBom) {
  Recorder rec;
  Parser parser(&rec);
  parser.feed(
      "\xEF\xBB\xBF"
      "data: a\n\n");
  parser.reset();
  parser.feed("\xEF\xBB");
  parser.feed(
      "\xBF"
      "data: b\n\n");
  EXPECT_EQ(rec.calls, (std::vector<Call>{{"event", {Arg(), Arg(), "a"}},
                                          {"event", {Arg(), Arg(), "b"}}}));
}

TEST(ParserReset, ForgetsPartialBomAndSequence) {
  Recorder rec;
  Parser parser(&rec);
  parser.feed("\xEF\xBB");
  parser.reset();
  // The BF is now a lone continuation byte: one U+FFFD in the field name.
  parser.feed(
      "\xBF"
      "data: x\n\n");
  EXPECT_EQ(rec.calls, (std::vector<Call>{{"error",
                                           {"unknown-field",
                                            "\xEF\xBF\xBD"
                                            "data",
                                            "x",
                                            "\xEF\xBF\xBD"
                                            "data: x"}}}));
}

TEST(ParserReset, ConsumeParsesPendingLineWithoutDispatch) {
  Recorder rec;
  Parser parser(&rec);
  parser.feed("data: x\nretry: 5");
  parser.reset(true);
  parser.feed(": c");
  parser.reset(true);
  parser.feed("data: y");
  parser.reset(true);
  parser.feed("\n\n");  // a new stream: nothing pending
  EXPECT_EQ(rec.calls,
            (std::vector<Call>{{"retry", {"5"}}, {"comment", {"c"}}}));
}

TEST(ParserReset, ConsumeEndsTruncatedSequence) {
  Recorder rec;
  Parser parser(&rec);
  parser.feed(": a\xE2\x82");
  parser.reset(true);
  parser.feed("\xE2");
  parser.reset(true);  // the pending bytes alone form a line
  EXPECT_EQ(
      rec.calls,
      (std::vector<Call>{
          {"comment", {"a\xEF\xBF\xBD"}},
          {"error", {"unknown-field", "\xEF\xBF\xBD", "", "\xEF\xBF\xBD"}}}));
}

TEST(ParserReset, ConsumeAfterCompleteLineDoesNothing) {
  Recorder rec;
  Parser parser(&rec);
  parser.feed("data: x\r");
  parser.reset(true);
  EXPECT_TRUE(rec.calls.empty());
}

// ---- max_buffer_size

TEST(ParserMaxBuffer, LongPendingLineTerminates) {
  Recorder rec;
  Parser parser(&rec, 16);
  EXPECT_TRUE(parser.feed("data: 0123456789"));  // 16 bytes: at the limit
  EXPECT_FALSE(parser.feed("x"));
  EXPECT_TRUE(parser.terminated());
  EXPECT_FALSE(parser.feed("\n\ndata: ok\n\n"));
  EXPECT_EQ(rec.calls, (std::vector<Call>{{"error", {"max-buffer-size-exceeded"}}}));
  parser.reset();
  EXPECT_FALSE(parser.terminated());
  EXPECT_TRUE(parser.feed("data: ok\n\n"));
  EXPECT_EQ(rec.calls.back(), (Call{"event", {Arg(), Arg(), "ok"}}));
}

TEST(ParserMaxBuffer, PendingDataCounts) {
  Recorder rec;
  Parser parser(&rec, 16);
  EXPECT_TRUE(parser.feed("data: 0123456789\n"));  // 10 bytes of data
  EXPECT_FALSE(parser.feed("data: abcdef"));       // + 12 pending
  EXPECT_EQ(rec.calls, (std::vector<Call>{{"error", {"max-buffer-size-exceeded"}}}));
  parser.reset(true);  // nothing left to consume
  EXPECT_EQ(rec.calls.size(), 1u);
}

TEST(ParserMaxBuffer, EventCompletedWithinOneFeedIsFine) {
  Recorder rec;
  Parser parser(&rec, 16);
  const std::string big(100, 'z');
  EXPECT_TRUE(parser.feed("data: " + big + "\n\n"));
  EXPECT_EQ(rec.calls, (std::vector<Call>{{"event", {Arg(), Arg(), big}}}));
}

TEST(ParserMaxBuffer, ZeroMeansUnbounded) {
  Recorder rec;
  Parser parser(&rec, 0);
  EXPECT_TRUE(parser.feed("data: " + std::string(1 << 20, 'z')));
  EXPECT_TRUE(parser.feed("\n\n"));
  EXPECT_EQ(rec.calls.size(), 1u);
}

TEST(ParserMaxBuffer, EndlessJunkLineIsDroppedNotBuffered) {
  Recorder rec;
  Parser parser(&rec, 1024);
  const std::string junk(4096, 'x');
  EXPECT_TRUE(parser.feed("data: a\n"));
  // 16 MiB of one line that can never be a field, in 4 KiB reads.
  for (int i = 0; i < 4096; ++i) ASSERT_TRUE(parser.feed(junk));
  EXPECT_TRUE(parser.feed("x\n\n"));
  EXPECT_FALSE(parser.terminated());
  EXPECT_EQ(rec.calls, (std::vector<Call>{{"event", {Arg(), Arg(), "a"}}}));
}

TEST(ParserMaxBuffer, DroppedLineAllocatesNothing) {
  if (!SSE_COUNT_ALLOCS) GTEST_SKIP() << "allocation counting off";
  const size_t before_probe = g_allocations.load();
  ::operator delete(::operator new(16));
  if (g_allocations.load() == before_probe) {
    GTEST_SKIP() << "another operator new is in use";
  }
  Recorder rec;
  Parser parser(&rec);  // unbounded: only the rule keeps memory flat
  const std::string junk(4096, 'y');
  parser.feed(": no comment is wanted here but one is kept");
  parser.feed("\n");
  parser.feed("junk");
  const size_t before = g_allocations.load();
  for (int i = 0; i < 1024; ++i) parser.feed(junk);
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

TEST(ParserComments, OffMeansNeitherReportedNorKept) {
  Recorder rec;
  Parser parser(&rec, 8, /*comments=*/false);
  EXPECT_TRUE(parser.feed(": a comment longer than the limit"));
  EXPECT_TRUE(parser.feed(" and more\n: whole\ndata: x\n\n"));
  EXPECT_EQ(rec.calls, (std::vector<Call>{{"event", {Arg(), Arg(), "x"}}}));
}

// ---- No allocation per event in steady state.

class CountingHandler : public ParserHandler {
 public:
  size_t events = 0;
  size_t bytes = 0;
  void onEvent(const Event& e) override {
    ++events;
    bytes += e.data.size() + e.event.size() + e.id.size();
  }
  void onId(std::string_view) override {}
  void onRetry(uint64_t) override {}
  void onComment(std::string_view) override {}
  void onError(ParseErrorKind, std::string_view, std::string_view,
               std::string_view) override {}
};

TEST(ParserSteadyState, NoAllocationPerEvent) {
  if (!SSE_COUNT_ALLOCS) GTEST_SKIP() << "allocation counting off";
  const size_t before_probe = g_allocations.load();
  // A direct call, which unlike a new-expression cannot be elided.
  ::operator delete(::operator new(16));
  if (g_allocations.load() == before_probe) {
    GTEST_SKIP() << "another operator new is in use";
  }
  std::string stream;
  for (int i = 0; i < 200; ++i) {
    stream += "data: {\"choices\":[{\"delta\":{\"content\":\" token\"}}]}\n\n";
    stream += "id: " + std::to_string(i) + "\r\nevent: e\r\ndata: a\r\n";
    stream += "data: b \xC3\xA9\r\n\r\n: keepalive\n\n";
    if (i % 50 == 0) stream += "data: " + std::string(4096, 'x') + "\n\n";
    if (i % 70 == 0) stream += "data: bad \xFF\n\n";
  }
  CountingHandler handler;
  Parser parser(&handler);
  auto feedAll = [&] {
    for (size_t at = 0; at < stream.size(); at += 4096) {
      parser.feed(std::string_view(stream).substr(at, 4096));
    }
  };
  const size_t before_warm = g_allocations.load();
  feedAll();  // warm-up grows the buffers once
  EXPECT_GT(g_allocations.load(), before_warm);
  const size_t events_warm = handler.events;
  const size_t before = g_allocations.load();
  feedAll();
  feedAll();
  const size_t allocations = g_allocations.load() - before;
  EXPECT_EQ(handler.events, 3 * events_warm);
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace sse
