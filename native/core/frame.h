// The SSE and NDJSON encoders: a message in, the exact wire bytes out.
#ifndef SSE_CORE_FRAME_H_
#define SSE_CORE_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/shared_buffer.h"

namespace sse {

// One event to encode. Fields whose has_* flag is false are left out. The
// views are borrowed for the duration of the call; text must be UTF-8.
struct Message {
  std::string_view event;
  std::string_view data;
  std::string_view id;
  std::string_view comment;
  uint64_t retry = 0;
  bool has_event = false;
  bool has_data = false;
  bool has_id = false;
  bool has_comment = false;
  bool has_retry = false;
};

// Why a message cannot be encoded. Nothing is written for a bad message.
enum class FrameStatus : uint8_t {
  kOk,
  kInvalidEvent,  // `event` holds CR or LF (NUL is fine: only ids care)
  kInvalidId,     // `id` holds CR, LF or NUL
};

// The field a status complains about ("event", "id"), or "" for kOk.
const char* frameStatusField(FrameStatus status);

// Checks the fields that must not break a line: no CR or LF in `event` or
// `id`, and no NUL in `id` (a client ignores an id holding NUL).
FrameStatus validateMessage(const Message& msg);

// Exact number of bytes encodeTo() writes for a valid message.
size_t encodedSize(const Message& msg);

// Writes the frame for a valid message to `out` (encodedSize(msg) bytes) and
// returns the end. Layout: comment lines (": text", one per line of the
// comment), then `event:`, `id:`, `retry:`, then one `data:` line per line of
// data (LF, CR and CRLF all split lines, so a reader gets the text back with
// LF), then the blank line. A message with only a comment is a comment frame.
char* encodeTo(const Message& msg, char* out);

// Validates and encodes into a new shared buffer (one reference, owned by
// the caller). On a bad message returns an empty ref and sets *status.
BufferRef encodeShared(const Message& msg, FrameStatus* status);

// Validates and appends the frame to `out`; `out` is untouched on error.
FrameStatus appendFrame(const Message& msg, std::string* out);

// One NDJSON line: the JSON text as given, then LF. The caller supplies
// JSON (which never holds a raw line break); a CR or LF in it is escaped as
// \r or \n so one value is always one line.
size_t ndjsonSize(std::string_view json);
char* encodeNdjsonTo(std::string_view json, char* out);

}  // namespace sse

#endif  // SSE_CORE_FRAME_H_
