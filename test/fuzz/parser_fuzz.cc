// libFuzzer target for sse::Parser: the input fed whole must give the same
// callbacks as the input fed in pieces (cut where the input itself says),
// except unknown-field errors, which a line cut by a feed boundary may drop
// (see "LINES THAT CANNOT MATTER" in test/vectors/parser.vectors); every
// view handed to the handler must be well-formed UTF-8.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/parser.h"
#include "core/utf8.h"

namespace {

// Serializes callbacks unambiguously (kind byte, then length-prefixed
// fields) so two runs compare as strings.
class LogHandler : public sse::ParserHandler {
 public:
  std::string log;
  std::string unknown;  // unknown-field errors, kept apart

  void onEvent(const sse::Event& e) override {
    log += e.has_event ? 'E' : 'e';
    log += e.has_id ? 'I' : 'i';
    add(e.event);
    add(e.id);
    add(e.data);
  }
  void onId(std::string_view id) override {
    log += 'd';
    add(id);
  }
  void onRetry(uint64_t ms) override {
    log += 'r';
    log.append(reinterpret_cast<const char*>(&ms), sizeof(ms));
  }
  void onComment(std::string_view text) override {
    log += 'c';
    add(text);
  }
  void onError(sse::ParseErrorKind kind, std::string_view field,
               std::string_view value, std::string_view line) override {
    std::string& to =
        kind == sse::ParseErrorKind::kUnknownField ? unknown : log;
    to += 'x';
    to += static_cast<char>(kind);
    add(field, &to);
    add(value, &to);
    add(line, &to);
  }

 private:
  void add(std::string_view v, std::string* to = nullptr) {
    if (!sse::isValidUtf8(v.data(), v.size())) {
      std::fprintf(stderr, "parser_fuzz: ill-formed UTF-8 handed out\n");
      std::abort();
    }
    if (to == nullptr) to = &log;
    const uint64_t n = v.size();
    to->append(reinterpret_cast<const char*>(&n), sizeof(n));
    to->append(v.data(), v.size());
  }
};

// Feeds `data` in chunks of up to `max_chunk` bytes whose sizes come from a
// generator seeded by the input (whole when max_chunk is 0), then ends the
// stream with reset(consume = true).
std::string run(const uint8_t* data, size_t size, uint64_t seed,
                size_t max_chunk, bool comments = true) {
  LogHandler handler;
  sse::Parser parser(&handler, 0, comments);
  if (max_chunk == 0) parser.feed(data, size);
  size_t at = max_chunk == 0 ? size : 0;
  uint64_t x = seed | 1;
  while (at < size) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const size_t chunk = static_cast<size_t>(x % (max_chunk + 1));  // may be 0
    const size_t n = chunk < size - at ? chunk : size - at;
    parser.feed(data + at, n);
    at += n;
  }
  parser.reset(true);
  return handler.log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t seed = 0xcbf29ce484222325ull;  // FNV-1a of the input
  for (size_t i = 0; i < size; ++i) seed = (seed ^ data[i]) * 0x100000001b3ull;

  const std::string whole = run(data, size, 0, 0);
  const std::string pieces[] = {
      run(data, size, seed, 1),  // one byte (or nothing) at a time
      run(data, size, seed, 7),
      run(data, size, seed >> 7, 64),
  };
  for (const std::string& other : pieces) {
    if (other != whole) {
      std::fprintf(stderr, "parser_fuzz: split feed differs from whole\n");
      std::abort();
    }
  }
  // Without onComment: the same, minus every comment.
  if (run(data, size, seed, 5, false) != run(data, size, 0, 0, false)) {
    std::fprintf(stderr, "parser_fuzz: split feed differs (no comments)\n");
    std::abort();
  }

  // A tight max_buffer_size must never break the UTF-8 guarantee either.
  LogHandler bounded;
  sse::Parser parser(&bounded, 1 + seed % 64);
  for (size_t at = 0; at < size; at += 16) {
    if (!parser.feed(data + at, size - at < 16 ? size - at : 16)) {
      parser.reset();
    }
  }
  parser.reset(true);
  return 0;
}
