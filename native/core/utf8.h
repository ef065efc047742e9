// UTF-8 validation and WHATWG-conformant incremental decoding, no I/O.
#ifndef SSE_CORE_UTF8_H_
#define SSE_CORE_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sse {

// The UTF-8 encoding of U+FFFD REPLACEMENT CHARACTER.
inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

// Returns the length of the longest prefix of `p[0, n)` that is well-formed
// UTF-8 made of whole characters; it stops before an ill-formed or truncated
// sequence.
size_t validUtf8Prefix(const char* p, size_t n);

// Returns true when `p[0, n)` is entirely well-formed UTF-8.
inline bool isValidUtf8(const char* p, size_t n) {
  return validUtf8Prefix(p, n) == n;
}

// Returns the number of UTF-16 code units that the well-formed UTF-8 text
// `p[0, n)` encodes (what JavaScript's String#length would report); the
// result is unspecified for ill-formed input.
size_t utf16Length(const char* p, size_t n);

// Incremental UTF-8 decoder with the error handling of the WHATWG Encoding
// standard: each maximal subpart of an ill-formed sequence becomes one
// U+FFFD, and a sequence split across decode() calls decodes as if whole.
// Well-formed input is validated in place and never copied.
class Utf8Decoder {
 public:
  // What one decode() call produced, in stream order: `head` then `body`.
  // Both are well-formed UTF-8 of whole characters.
  struct Output {
    std::string_view head;
    std::string_view body;
  };

  // Decodes the next `n` bytes of the stream. `head` is the completion of a
  // sequence left pending by the previous call (or U+FFFD when it turned out
  // ill-formed) and points into the decoder; `body` points into `p` when the
  // rest was well-formed, else into `*scratch`, which then holds the repaired
  // text. Views stay valid until the next call or until `*scratch` changes.
  // A truncated sequence at the end of `p` is kept for the next call.
  Output decode(const char* p, size_t n, std::string* scratch);

  // Ends the stream: returns U+FFFD if a truncated sequence was pending (it
  // is dropped), else an empty view. The decoder is then ready for a new
  // stream.
  std::string_view finish();

  // Forgets any pending sequence.
  void reset() { pending_len_ = 0; }

  // Returns true while a truncated sequence waits for more bytes.
  bool hasPending() const { return pending_len_ != 0; }

 private:
  // Bytes of a truncated sequence (lead byte first); never a whole character.
  uint8_t pending_[4] = {};
  uint8_t pending_len_ = 0;
  // Storage for Output::head; separate from pending_ because one call can
  // both complete the old sequence and leave a new one pending.
  char head_[4] = {};
};

}  // namespace sse

#endif  // SSE_CORE_UTF8_H_
