#include "core/frame.h"

#include <cstring>

namespace sse {
namespace {

constexpr std::string_view kData = "data: ";
constexpr std::string_view kEvent = "event: ";
constexpr std::string_view kId = "id: ";
constexpr std::string_view kRetry = "retry: ";
constexpr std::string_view kComment = ": ";

bool hasBreak(std::string_view s) {
  for (char c : s) {
    if (c == '\n' || c == '\r') return true;
  }
  return false;
}

bool hasBreakOrNul(std::string_view s) {
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\0') return true;
  }
  return false;
}

// Index of the first CR or LF at or after `from`, or npos.
size_t findBreak(std::string_view s, size_t from) {
  const char* p = s.data() + from;
  const char* end = s.data() + s.size();
  for (; p < end; ++p) {
    if (*p == '\n' || *p == '\r') return static_cast<size_t>(p - s.data());
  }
  return std::string_view::npos;
}

// Bytes needed to write `text` as prefixed lines, one per line of text.
size_t linesSize(std::string_view prefix, std::string_view text) {
  size_t lines = 1;
  size_t breaks_len = 0;  // bytes of CR, LF, CRLF removed
  size_t i = findBreak(text, 0);
  while (i != std::string_view::npos) {
    size_t len = (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
    breaks_len += len;
    ++lines;
    i = findBreak(text, i + len);
  }
  return text.size() - breaks_len + lines * (prefix.size() + 1);
}

char* put(char* out, std::string_view s) {
  // An empty view may hold a null pointer, which memcpy must not get even
  // for zero bytes (found by test/fuzz/frame_fuzz.cc under UBSan).
  if (!s.empty()) std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

char* putLines(char* out, std::string_view prefix, std::string_view text) {
  size_t start = 0;
  for (;;) {
    size_t i = findBreak(text, start);
    out = put(out, prefix);
    if (i == std::string_view::npos) {
      out = put(out, text.substr(start));
      *out++ = '\n';
      return out;
    }
    out = put(out, text.substr(start, i - start));
    *out++ = '\n';
    start = i + ((text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1);
  }
}

size_t decimalDigits(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

char* putDecimal(char* out, uint64_t v) {
  size_t n = decimalDigits(v);
  char* end = out + n;
  do {
    *--end = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return out + n;
}

}  // namespace

const char* frameStatusField(FrameStatus status) {
  switch (status) {
    case FrameStatus::kInvalidEvent:
      return "event";
    case FrameStatus::kInvalidId:
      return "id";
    case FrameStatus::kOk:
      break;
  }
  return "";
}

FrameStatus validateMessage(const Message& msg) {
  if (msg.has_event && hasBreak(msg.event)) return FrameStatus::kInvalidEvent;
  if (msg.has_id && hasBreakOrNul(msg.id)) return FrameStatus::kInvalidId;
  return FrameStatus::kOk;
}

size_t encodedSize(const Message& msg) {
  size_t n = 1;  // the blank line that ends the frame
  if (msg.has_comment) n += linesSize(kComment, msg.comment);
  if (msg.has_event) n += kEvent.size() + msg.event.size() + 1;
  if (msg.has_id) n += kId.size() + msg.id.size() + 1;
  if (msg.has_retry) n += kRetry.size() + decimalDigits(msg.retry) + 1;
  if (msg.has_data) n += linesSize(kData, msg.data);
  return n;
}

char* encodeTo(const Message& msg, char* out) {
  if (msg.has_comment) out = putLines(out, kComment, msg.comment);
  if (msg.has_event) {
    out = put(put(out, kEvent), msg.event);
    *out++ = '\n';
  }
  if (msg.has_id) {
    out = put(put(out, kId), msg.id);
    *out++ = '\n';
  }
  if (msg.has_retry) {
    out = putDecimal(put(out, kRetry), msg.retry);
    *out++ = '\n';
  }
  if (msg.has_data) out = putLines(out, kData, msg.data);
  *out++ = '\n';
  return out;
}

BufferRef encodeShared(const Message& msg, FrameStatus* status) {
  *status = validateMessage(msg);
  if (*status != FrameStatus::kOk) return BufferRef();
  BufferRef buf(SharedBuffer::create(encodedSize(msg)));
  if (buf) encodeTo(msg, buf.get()->data());
  return buf;
}

FrameStatus appendFrame(const Message& msg, std::string* out) {
  FrameStatus status = validateMessage(msg);
  if (status != FrameStatus::kOk) return status;
  size_t old = out->size();
  out->resize(old + encodedSize(msg));
  encodeTo(msg, out->data() + old);
  return status;
}

size_t ndjsonSize(std::string_view json) {
  size_t n = json.size() + 1;
  for (char c : json) {
    if (c == '\n' || c == '\r') ++n;
  }
  return n;
}

char* encodeNdjsonTo(std::string_view json, char* out) {
  for (char c : json) {
    if (c == '\n') {
      *out++ = '\\';
      *out++ = 'n';
    } else if (c == '\r') {
      *out++ = '\\';
      *out++ = 'r';
    } else {
      *out++ = c;
    }
  }
  *out++ = '\n';
  return out;
}

}  // namespace sse
