// The WHATWG event-stream parser: bytes in, events out, no I/O.
#ifndef SSE_CORE_PARSER_H_
#define SSE_CORE_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.h"

namespace sse {

// One dispatched event. The views point into the parser's buffers and are
// valid only until the callback returns. `event` is empty with
// has_event == false when no `event:` field (or an empty one) was seen;
// `id` has has_id == true only when this block carried a valid `id:` field
// (the shape of eventsource-parser 4.x).
struct Event {
  std::string_view event;
  std::string_view data;
  std::string_view id;
  bool has_event = false;
  bool has_id = false;
};

enum class ParseErrorKind : uint8_t {
  kInvalidRetry,           // `retry:` not all ASCII digits, or past UINT64_MAX
  kUnknownField,           // a field name the spec does not know
  kMaxBufferSizeExceeded,  // buffered line + data grew past max_buffer_size
};

// Receives what the parser finds, in stream order. Called synchronously from
// inside Parser::feed()/reset(); a handler must not call back into the
// parser that is calling it.
class ParserHandler {
 public:
  virtual ~ParserHandler() = default;
  // A blank line ended a block with data. Fired after onId for that block.
  virtual void onEvent(const Event& event) = 0;
  // A blank line ended a block that had a valid `id:` field (even an empty
  // one, even if the block had no data): the last event ID changed.
  virtual void onId(std::string_view id) = 0;
  // A `retry:` field with only ASCII digits whose value fits in uint64_t (a
  // larger one is ignored, as Chromium does, and reported as kInvalidRetry).
  virtual void onRetry(uint64_t ms) = 0;
  // A line starting with ':'; text after ':' with one leading space removed.
  // Never called when the parser was made with comments == false.
  virtual void onComment(std::string_view text) = 0;
  // Something was ignored. `field`, `value` and `line` are views as above
  // (empty where they do not apply).
  virtual void onError(ParseErrorKind kind, std::string_view field,
                       std::string_view value, std::string_view line) = 0;
};

// Incremental parser. Owns its buffers; allocates only while a line or an
// event grows past what it held before (nothing per event in steady state).
//
// A line still incomplete when a feed() ends is kept only while it can
// become a line the parser acts on: a prefix of `data`, `event`, `id` or
// `retry` (then ':' or nothing), or a comment when comments are wanted.
// Otherwise it is dropped at once, with the rest of it up to its line break
// as it arrives: never buffered, never counted against max_buffer_size, and
// not reported (an unknown field arriving whole within one feed() is still
// reported as kUnknownField). This is eventsource-parser 4.1's rule; it is
// what keeps a peer sending one endless junk line from costing memory.
class Parser {
 public:
  // `max_buffer_size` (bytes of pending line + pending data) 0 = unbounded.
  // Past it: onError(kMaxBufferSizeExceeded), state cleared, and feed()
  // returns false until reset(). With `comments` false, comment lines are
  // neither reported nor kept while incomplete (createParser without
  // onComment).
  explicit Parser(ParserHandler* handler, size_t max_buffer_size = 0,
                  bool comments = true);

  // Feeds raw bytes of the stream (UTF-8; invalid sequences decode to
  // U+FFFD as the WHATWG UTF-8 decoder does, a sequence split across calls
  // decodes as if whole). A leading BOM is stripped once per stream.
  // Returns false if the parser is terminated (see max_buffer_size).
  bool feed(const uint8_t* bytes, size_t length);
  bool feed(std::string_view bytes) {
    return feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }

  // Starts a new stream: forgets pending bytes, the pending event and the
  // BOM state. With consume == true the pending incomplete line is first
  // parsed as if a line break followed it (no event is dispatched by that).
  void reset(bool consume = false);

  bool terminated() const { return terminated_; }

 private:
  // Parses decoded, well-formed UTF-8 of whole characters; views into it
  // live until this call returns.
  void processSegment(const char* p, size_t n);
  // Whether the pending incomplete line `line_` may still become a line the
  // parser acts on (see the class comment).
  bool pendingLineMayMatter() const;
  // One complete line without its terminator. `in_segment` says the view
  // lives until processSegment returns (so data may be kept as a view).
  void processLine(std::string_view line, bool in_segment);
  void processField(std::string_view field, std::string_view value,
                    std::string_view line, bool in_segment);
  void dispatch();
  void clearBlock();
  void terminate();

  ParserHandler* handler_;
  size_t max_buffer_size_;
  bool comments_;
  bool terminated_ = false;
  bool skipping_ = false;     // dropping the rest of a line up to its break
  bool bom_checked_ = false;  // the first decoded character has been seen
  bool last_was_cr_ = false;  // a CR ended the previous segment: skip one LF
  Utf8Decoder decoder_;
  std::string line_;     // incomplete line carried across segments
  std::string decoded_;  // scratch for chunks that needed repair
  // The block's data is data_view_ while data_is_view_ (the first data line
  // of the block lay inside the current segment; copied into data_ when a
  // second data line comes or the segment ends), else data_.
  std::string data_;
  std::string_view data_view_;
  bool data_is_view_ = false;
  std::string event_;
  std::string id_;
  bool has_data_ = false;
  bool has_event_ = false;
  bool has_id_ = false;
};

}  // namespace sse

#endif  // SSE_CORE_PARSER_H_
