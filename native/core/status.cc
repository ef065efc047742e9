#include "core/status.h"

#include <cstddef>

namespace sse {

namespace {
struct Row {
  StatusKind kind;
  const char* code;
  const char* name;
  const char* text;
};

// Indexed by Status; kept in the enum's order (checked by status_test.cc).
constexpr Row kRows[] = {
    {StatusKind::kOk, "", "OK", ""},
    {StatusKind::kTypeError, "ERR_INVALID_ARG_VALUE", "INVALID_EVENT",
     "`event` must not contain CR or LF: pass a one-line event name (line breaks belong in `data`)"},
    {StatusKind::kTypeError, "ERR_INVALID_ARG_VALUE", "INVALID_ID",
     "`id` must not contain CR, LF or NUL: pass a one-line id (e.g. a counter)"},
    {StatusKind::kRangeError, "ERR_OUT_OF_RANGE", "INVALID_STATUS_CODE",
     "the status code must be an HTTP status between 100 and 999: pass `status` as a number like 200"},
    {StatusKind::kTypeError, "ERR_INVALID_ARG_VALUE", "INVALID_REASON",
     "the reason phrase must not contain CR, LF or NUL: pass a one-line reason phrase"},
    {StatusKind::kTypeError, "ERR_INVALID_HTTP_TOKEN", "INVALID_HEADER_NAME",
     "a header name must be a token: use letters, digits and !#$%&'*+-.^_`|~ only"},
    {StatusKind::kTypeError, "ERR_INVALID_CHAR", "INVALID_HEADER_VALUE",
     "a header value must not contain CR, LF or NUL: send one line (encode other text, e.g. with "
     "encodeURIComponent)"},
    {StatusKind::kState, "SSE_CLOSED", "CLOSED",
     "the stream is closed: stop sending once it emitted 'close' (check `stream.closed`)"},
    {StatusKind::kState, "SSE_ALREADY_MEMBER", "ALREADY_MEMBER",
     "the stream is already a member of that key: register it once per key"},
    {StatusKind::kState, "SSE_NOT_MEMBER", "NOT_MEMBER",
     "the stream is not a member of that key: call registerConnection(key, stream) first (a "
     "closed stream has left every key)"},
    {StatusKind::kState, "SSE_LIMIT", "LIMIT_CONNECTIONS",
     "maxConnections reached (raise it with setLimits or add processes)"},
    {StatusKind::kState, "SSE_LIMIT", "LIMIT_PER_KEY",
     "maxConnectionsPerKey reached for this key (raise it with setLimits)"},
    {StatusKind::kState, "SSE_LIMIT", "LIMIT_PER_ADDRESS",
     "maxConnectionsPerAddress reached for this client address (raise it with setLimits)"},
    {StatusKind::kState, "SSE_SLOW_CONSUMER", "SLOW_CONSUMER",
     "the client did not read fast enough (nothing taken for slowConsumerMs above highWaterMark, "
     "or more than maxBuffered waiting): await drained() before sending more, raise "
     "slowConsumerMs or maxBuffered, or pass onSlowConsumer: 'drop' to drop events instead"},
    {StatusKind::kState, "SSE_NO_MEMORY", "NO_MEMORY",
     "out of memory: lower maxBuffered, the replay sizes (configureKey) or the number of "
     "connections"},
    {StatusKind::kState, "SSE_NO_LOOP", "NO_LOOP",
     "this environment has no event loop: create streams from code running on the main "
     "thread or in a Worker that is not terminating"},
    {StatusKind::kState, "SSE_ADOPT_FAILED", "ADOPT_FAILED",
     "the socket could not be adopted (pass { adopt: false } to always use res.write)"},
};
static_assert(sizeof(kRows) / sizeof(kRows[0]) == static_cast<size_t>(Status::kCount),
              "one row per Status");

const Row& row(Status s) {
  size_t i = static_cast<size_t>(s);
  return kRows[i < static_cast<size_t>(Status::kCount) ? i : 0];
}
}  // namespace

StatusKind statusKind(Status s) { return row(s).kind; }
const char* statusCode(Status s) { return row(s).code; }
const char* statusName(Status s) { return row(s).name; }
const char* statusText(Status s) { return row(s).text; }

}  // namespace sse
