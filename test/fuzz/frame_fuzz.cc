// libFuzzer target for the encoders (native/core/frame.*): whatever the
// message, validateMessage must agree with the rules written out here, a
// valid message must encode to exactly encodedSize() bytes that the parser
// reads back as the same event, and an NDJSON line must be one line.
//
// Input layout: byte 0 = which fields are present (bit 0 event, 1 data, 2 id,
// 3 comment, 4 retry), bytes 1..8 = retry (little endian), the rest = the
// values of event, data, id and comment, separated by 0xFF (a byte UTF-8
// never holds, so valid text survives the split).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/frame.h"
#include "core/parser.h"
#include "core/utf8.h"

namespace {

[[noreturn]] void fail(const char* why) {
  std::fprintf(stderr, "frame_fuzz: %s\n", why);
  std::abort();
}

// What a reader must get back: the parser's callbacks, in order.
class Collect : public sse::ParserHandler {
 public:
  std::vector<std::string> comments;
  std::vector<uint64_t> retries;
  std::vector<std::string> ids;
  int events = 0;
  std::string event, data, id;
  bool has_event = false, has_id = false;
  int errors = 0;

  void onEvent(const sse::Event& e) override {
    ++events;
    event.assign(e.event);
    data.assign(e.data);
    id.assign(e.id);
    has_event = e.has_event;
    has_id = e.has_id;
  }
  void onId(std::string_view v) override { ids.emplace_back(v); }
  void onRetry(uint64_t ms) override { retries.push_back(ms); }
  void onComment(std::string_view text) override { comments.emplace_back(text); }
  void onError(sse::ParseErrorKind, std::string_view, std::string_view,
               std::string_view) override {
    ++errors;
  }
};

bool has(std::string_view s, char a, char b = '\n', char c = '\r') {
  return s.find(a) != std::string_view::npos || s.find(b) != std::string_view::npos ||
         s.find(c) != std::string_view::npos;
}

// `text` with every CR, LF and CRLF turned into LF: what a reader gets back
// from lines the encoder split.
std::string normalizeBreaks(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::vector<std::string> splitLines(std::string_view text) {
  std::vector<std::string> lines(1);
  for (char c : normalizeBreaks(text)) {
    if (c == '\n') {
      lines.emplace_back();
    } else {
      lines.back() += c;
    }
  }
  return lines;
}

void checkNdjson(std::string_view json) {
  std::string out(sse::ndjsonSize(json), '\0');
  char* end = sse::encodeNdjsonTo(json, out.data());
  if (static_cast<size_t>(end - out.data()) != out.size()) fail("ndjsonSize is wrong");
  if (out.back() != '\n') fail("NDJSON line does not end with LF");
  if (has(std::string_view(out).substr(0, out.size() - 1), '\n')) {
    fail("NDJSON line holds a line break");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 9) return 0;
  const uint8_t flags = bytes[0];
  uint64_t retry = 0;
  for (int i = 0; i < 8; ++i) retry |= static_cast<uint64_t>(bytes[1 + i]) << (8 * i);
  std::string_view rest(reinterpret_cast<const char*>(bytes + 9), size - 9);
  std::string_view parts[4];
  for (int i = 0; i < 4; ++i) {
    const size_t sep = i < 3 ? rest.find('\xFF') : std::string_view::npos;
    parts[i] = rest.substr(0, sep);
    rest = sep == std::string_view::npos ? std::string_view() : rest.substr(sep + 1);
  }

  sse::Message m;
  m.has_event = flags & 1;
  m.has_data = flags & 2;
  m.has_id = flags & 4;
  m.has_comment = flags & 8;
  m.has_retry = flags & 16;
  m.event = parts[0];
  m.data = parts[1];
  m.id = parts[2];
  m.comment = parts[3];
  m.retry = retry;

  checkNdjson(parts[1]);

  // The rules: CR/LF break an event line; CR/LF/NUL break or void an id.
  sse::FrameStatus want = sse::FrameStatus::kOk;
  if (m.has_event && has(m.event, '\r')) {
    want = sse::FrameStatus::kInvalidEvent;
  } else if (m.has_id && has(m.id, '\0')) {
    want = sse::FrameStatus::kInvalidId;
  }
  std::string frame = "keep";
  if (sse::appendFrame(m, &frame) != want) fail("validateMessage disagrees with the rules");
  if (want != sse::FrameStatus::kOk) {
    if (frame != "keep") fail("a bad message wrote bytes");
    sse::FrameStatus st;
    if (sse::encodeShared(m, &st) || st != want) fail("encodeShared disagrees");
    return 0;
  }
  frame.erase(0, 4);
  if (frame.size() != sse::encodedSize(m)) fail("encodedSize is wrong");
  if (frame.size() < 1 || frame.back() != '\n') fail("frame does not end with LF");
  if (frame.size() >= 2 && frame[frame.size() - 2] != '\n') fail("no blank line at the end");
  // The frame is one block: no blank line before its end.
  if (frame.find("\n\n") != frame.size() - 2 && frame != "\n") fail("blank line inside a frame");
  if (frame.find('\r') != std::string::npos) fail("CR in a frame");

  // Read it back, fed whole and byte by byte.
  for (int pass = 0; pass < 2; ++pass) {
    Collect got;
    sse::Parser parser(&got);
    if (pass == 0) {
      parser.feed(frame);
    } else {
      for (char c : frame) parser.feed(std::string_view(&c, 1));
    }
    if (got.errors != 0) fail("the parser reported an error on a frame");
    if (got.events != (m.has_data ? 1 : 0)) fail("event count");
    if (got.retries != (m.has_retry ? std::vector<uint64_t>{m.retry} : std::vector<uint64_t>{})) {
      fail("retry did not round-trip");
    }
    if (got.ids.size() != (m.has_id ? 1u : 0u)) fail("id count");
    // Text compares only when it was valid UTF-8 (the parser repairs it).
    const bool text_ok = sse::isValidUtf8(m.event.data(), m.event.size()) &&
                         sse::isValidUtf8(m.data.data(), m.data.size()) &&
                         sse::isValidUtf8(m.id.data(), m.id.size()) &&
                         sse::isValidUtf8(m.comment.data(), m.comment.size());
    if (!text_ok) continue;
    if (m.has_id && got.ids[0] != m.id) fail("id did not round-trip");
    if (m.has_comment && got.comments != splitLines(m.comment)) fail("comment did not round-trip");
    if (!m.has_comment && !got.comments.empty()) fail("comment out of nowhere");
    if (m.has_data) {
      if (got.data != normalizeBreaks(m.data)) fail("data did not round-trip");
      const bool typed = m.has_event && !m.event.empty();
      if (got.has_event != typed || (typed && got.event != m.event)) fail("event type");
      if (got.has_id != m.has_id || (m.has_id && got.id != m.id)) fail("event id");
    }
  }
  return 0;
}
