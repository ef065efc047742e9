// The one status enum of the core: every outcome the embedder may turn into
// an error, with its stable code and its text. The addon throws from one
// function that maps a Status to a JS error (see native/addon/errors.cc);
// lib/ never matches on message text, only on `code`.
#ifndef SSE_CORE_STATUS_H_
#define SSE_CORE_STATUS_H_

#include <cstdint>

namespace sse {

// Values are part of the binding's contract (exported as constants at init).
enum class Status : uint8_t {
  kOk = 0,
  // Bad arguments (JS TypeError with code ERR_INVALID_ARG_VALUE).
  kInvalidEvent,        // `event` holds CR or LF
  kInvalidId,           // `id` holds CR, LF or NUL
  kInvalidStatusCode,   // HTTP status outside 100..999
  kInvalidReason,       // reason phrase holds CR, LF or NUL
  kInvalidHeaderName,   // header name not an RFC 9110 token
  kInvalidHeaderValue,  // header value holds CR, LF or NUL
  // State and limits (JS SSEError).
  kClosed,            // the stream is closed: SSE_CLOSED
  kAlreadyMember,     // the stream is already in that key: SSE_ALREADY_MEMBER
  kNotMember,         // the stream is not in that key: SSE_NOT_MEMBER
  kLimitConnections,  // maxConnections reached: SSE_LIMIT
  kLimitPerKey,       // maxConnectionsPerKey reached: SSE_LIMIT
  kLimitPerAddress,   // maxConnectionsPerAddress reached: SSE_LIMIT
  kSlowConsumer,      // closed as a slow consumer: SSE_SLOW_CONSUMER
  kNoMemory,          // allocation failed: SSE_NO_MEMORY
  kNoLoop,            // the environment has no event loop: SSE_NO_LOOP
  kAdoptFailed,       // the socket could not be adopted: SSE_ADOPT_FAILED
  kCount
};

// How the embedder should report a status: a bad argument (TypeError), a bad
// value in range terms (RangeError), or a state/limit error (SSEError).
enum class StatusKind : uint8_t { kOk, kTypeError, kRangeError, kState };

StatusKind statusKind(Status s);
// Stable machine-readable code, e.g. "ERR_INVALID_ARG_VALUE", "SSE_LIMIT".
const char* statusCode(Status s);
// Stable name of the status itself, e.g. "kLimitPerKey" -> "LIMIT_PER_KEY".
const char* statusName(Status s);
// One sentence for a user, naming the fix where there is one.
const char* statusText(Status s);

}  // namespace sse

#endif  // SSE_CORE_STATUS_H_
