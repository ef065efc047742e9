// libFuzzer target for the client parse path: the core parser as a client
// drives it (bytes in socket-sized pieces, reset({consume}) at the end of
// the stream, with or without onComment, optionally with a buffer limit),
// checked against a reference written straight from the WHATWG algorithm on
// the whole input. The TypeScript twin is held to the core by the shared
// vectors and test/31's differential run.
//
// Input layout: byte 0 = options (bit 0: comments off, bit 1: consume at the
// end, bits 2..7: max chunk size), then the stream.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/parser.h"
#include "../native/utf8_reference.h"

namespace {

[[noreturn]] void fail(const char* why) {
  std::fprintf(stderr, "client_parse_fuzz: %s\n", why);
  std::abort();
}

void put(std::string* log, std::string_view v) {
  const uint32_t n = static_cast<uint32_t>(v.size());
  log->append(reinterpret_cast<const char*>(&n), sizeof(n));
  log->append(v.data(), v.size());
}

// Callbacks as one string; unknown-field errors apart (a line cut by a feed
// boundary may lose its report, see test/vectors/parser.vectors).
class Log : public sse::ParserHandler {
 public:
  std::string log, unknown;
  int overflows = 0;
  void onEvent(const sse::Event& e) override {
    log += e.has_event ? 'E' : 'e';
    log += e.has_id ? 'I' : 'i';
    put(&log, e.event);
    put(&log, e.id);
    put(&log, e.data);
  }
  void onId(std::string_view id) override {
    log += 'd';
    put(&log, id);
  }
  void onRetry(uint64_t ms) override {
    log += 'r';
    log.append(reinterpret_cast<const char*>(&ms), sizeof(ms));
  }
  void onComment(std::string_view text) override {
    log += 'c';
    put(&log, text);
  }
  void onError(sse::ParseErrorKind kind, std::string_view field, std::string_view value,
               std::string_view line) override {
    if (kind == sse::ParseErrorKind::kMaxBufferSizeExceeded) {
      ++overflows;
      return;
    }
    std::string* to = kind == sse::ParseErrorKind::kUnknownField ? &unknown : &log;
    *to += 'x';
    *to += static_cast<char>(kind);
    put(to, field);
    put(to, value);
    put(to, line);
  }
};

bool mayBeField(std::string_view line, std::string_view name) {
  for (size_t i = 0; i < line.size() && i < name.size(); ++i) {
    if (line[i] != name[i]) return false;
  }
  return line.size() <= name.size() || line[name.size()] == ':';
}

// Bytes at the end of `s` that a UTF-8 decoder still holds: a lead byte and
// the valid continuation bytes that follow it, one short of a character.
size_t pendingSuffix(std::string_view s) {
  for (size_t k = 1; k <= 3 && k <= s.size(); ++k) {
    const auto lead = static_cast<unsigned char>(s[s.size() - k]);
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      need = 2;
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      need = 3;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    }
    if (need == 0 || k > need) continue;
    bool ok = true;
    for (size_t j = 1; j < k; ++j) {
      const auto c = static_cast<unsigned char>(s[s.size() - k + j]);
      if (c < (j == 1 ? lo : 0x80) || c > (j == 1 ? hi : 0xBF)) ok = false;
    }
    if (ok) return k;
  }
  return 0;
}

bool mayMatter(std::string_view line, bool comments) {
  if (line[0] == ':') return comments;
  return mayBeField(line, "data") || mayBeField(line, "event") || mayBeField(line, "id") ||
         mayBeField(line, "retry");
}

std::string decodeStripBom(std::string_view bytes, bool at_start) {
  std::string text = sse::refDecodeUtf8(bytes);
  if (at_start && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  return text;
}

// The spec's "interpret an event stream" on the whole (decoded) input.
Log reference(std::string_view input, bool comments, bool consume) {
  Log out;
  std::string text = decodeStripBom(input, true);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r' && text[i] != '\n') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (consume && start < text.size()) {
    // At the end of the stream the unfinished line is parsed, unless it was
    // dropped as one that cannot matter. That is judged on the characters
    // decoded so far: not on bytes the decoder still held (CR and LF are
    // ASCII, so the raw tail starts after the last raw CR or LF).
    const size_t brk = input.find_last_of("\r\n");
    const std::string_view raw = brk == std::string_view::npos ? input : input.substr(brk + 1);
    const std::string known =
        decodeStripBom(raw.substr(0, raw.size() - pendingSuffix(raw)), brk == std::string_view::npos);
    if (known.empty() || mayMatter(known, comments)) lines.push_back(text.substr(start));
  }
  std::string type, id, data;
  bool has_type = false, has_id = false, has_data = false;
  for (const std::string& line : lines) {
    if (line.empty()) {
      if (has_id) {
        out.log += 'd';
        put(&out.log, id);
      }
      if (has_data) {
        out.log += has_type ? 'E' : 'e';
        out.log += has_id ? 'I' : 'i';
        put(&out.log, has_type ? type : "");
        put(&out.log, has_id ? id : "");
        put(&out.log, data);
      }
      type.clear();
      id.clear();
      data.clear();
      has_type = has_id = has_data = false;
      continue;
    }
    if (line[0] == ':') {
      if (comments) {
        std::string_view c = std::string_view(line).substr(1);
        if (!c.empty() && c[0] == ' ') c.remove_prefix(1);
        out.log += 'c';
        put(&out.log, c);
      }
      continue;
    }
    const size_t colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
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
      // Digits only, and a value that fits in 64 bits (else ignored).
      bool ok = !value.empty();
      unsigned __int128 ms = 0;
      for (char c : value) {
        if (c < '0' || c > '9') ok = false;
        if (ok) ms = ms * 10 + static_cast<unsigned>(c - '0');
        if (ms > UINT64_MAX) ok = false;
      }
      if (ok) {
        const uint64_t v = static_cast<uint64_t>(ms);
        out.log += 'r';
        out.log.append(reinterpret_cast<const char*>(&v), sizeof(v));
      } else {
        out.log += 'x';
        out.log += static_cast<char>(sse::ParseErrorKind::kInvalidRetry);
        put(&out.log, field);
        put(&out.log, value);
        put(&out.log, line);
      }
    } else {
      out.unknown += 'x';
      out.unknown += static_cast<char>(sse::ParseErrorKind::kUnknownField);
      put(&out.unknown, field);
      put(&out.unknown, value);
      put(&out.unknown, line);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  const bool comments = (bytes[0] & 1) == 0;
  const bool consume = (bytes[0] & 2) != 0;
  const size_t max_chunk = bytes[0] >> 2;  // 0: whole
  const uint8_t* data = bytes + 1;
  size = size - 1;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const Log want = reference(input, comments, consume);

  // Whole: exactly the reference, unknown fields included.
  Log whole;
  {
    sse::Parser parser(&whole, 0, comments);
    parser.feed(data, size);
    if (consume) parser.reset(true);
  }
  if (whole.log != want.log || whole.unknown != want.unknown) fail("whole feed differs from the reference");

  // In pieces whose sizes follow the input: the same, but unknown fields may go.
  Log split;
  {
    sse::Parser parser(&split, 0, comments);
    uint64_t x = 0x9E3779B97F4A7C15ull ^ size;
    for (size_t at = 0; at < size;) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const size_t n = max_chunk == 0 ? size : 1 + x % max_chunk;
      const size_t take = n < size - at ? n : size - at;
      parser.feed(data + at, take);
      at += take;
    }
    if (consume) parser.reset(true);
  }
  if (split.log != want.log) fail("split feed differs from the reference");

  // A client's buffer limit: the parser either keeps to the reference up to
  // the overflow or overflows; never anything else. Memory stays bounded by
  // the limit, which ASan would notice if not.
  Log bounded;
  {
    sse::Parser parser(&bounded, 64, comments);
    for (size_t at = 0; at < size; at += 16) {
      if (!parser.feed(data + at, size - at < 16 ? size - at : 16)) break;
    }
  }
  if (bounded.overflows == 0 && want.log.compare(0, bounded.log.size(), bounded.log) != 0) {
    fail("bounded feed diverged from the reference without overflowing");
  }
  return 0;
}
