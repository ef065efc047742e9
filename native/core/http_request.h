// A strict HTTP/1.x request-head reader for the core's own listener
// (native/core/io/listener.h). Pure: bytes in, string_views out.
//
// Strictness (RFC 9112), chosen because nothing behind this reader may
// disagree with a proxy in front of it about where a request ends:
//  - lines end with CRLF; a lone LF (or a CR not followed by LF) is an error,
//    never a line end (RFC 9112 2.2 allows accepting a lone LF; we do not);
//  - obs-fold (a line starting with SP or HTAB) is an error;
//  - a request with a body is refused: Content-Length other than 0, or any
//    Transfer-Encoding (an SSE subscription is a bodyless GET);
//  - HTTP/1.1 needs exactly one Host header; HTTP/1.0 at most one.
#ifndef SSE_CORE_HTTP_REQUEST_H_
#define SSE_CORE_HTTP_REQUEST_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace sse {

// More header fields than this is kHeadTooLarge (as a head over the byte
// limit is): the header vector is reserved for this many once.
constexpr size_t kMaxRequestHeaders = 128;

enum class RequestHeadStatus : uint8_t {
  kOk,
  kIncomplete,        // no CRLF CRLF yet (and nothing wrong so far)
  kBadRequestLine,    // not "method SP target SP HTTP/d.d", or a bad line end
  kBadVersion,        // HTTP/x.y other than 1.0 and 1.1
  kBadHeader,         // name not a token, no colon, CTL in value, obs-fold,
                      // malformed Content-Length, bad line end
  kBadHost,           // HTTP/1.1 without Host, or Host given twice
  kBodyNotSupported,  // Content-Length other than 0, or Transfer-Encoding
  kHeadTooLarge,      // over kMaxRequestHeaders fields (the byte limit is the caller's)
};

// A parsed head. Every view points into the buffer given to
// parseRequestHead and is valid while that buffer is.
struct RequestHead {
  std::string_view method;
  std::string_view target;
  int version_minor = 1;  // 0 or 1 (HTTP/1.0, HTTP/1.1)
  // (name as sent, value with leading and trailing SP/HTAB removed), in order.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  size_t head_bytes = 0;  // bytes of the head, the blank line included
};

// Parses the request head at the start of data[0..len). kOk: *out holds it
// and out->head_bytes says where it ends (bytes past it are the next
// request's). kIncomplete: no blank line yet and nothing wrong before it
// (a line end seen so far was a good one); the caller reads more, and
// enforces its byte limit. Any other status: the head is refused (*out is
// partly filled). The first call reserves out->headers once; later calls on
// the same RequestHead do not allocate.
RequestHeadStatus parseRequestHead(const char* data, size_t len, RequestHead* out);

// True when data[from..len) (with the 3 bytes before `from`, so a CRLFCRLF
// split over two reads is seen) holds the end of a head or a bad line end:
// i.e. parseRequestHead on data[0..len) will not say kIncomplete. Lets a
// reader that appends to a buffer parse once per head, not once per read.
bool requestHeadDecidable(const char* data, size_t len, size_t from);

// HTTP status, reason and a one-line text naming the problem, for a refused
// head (status 0 for kOk and kIncomplete).
struct RequestHeadAnswer {
  int status;
  const char* reason;
  const char* text;
};
RequestHeadAnswer requestHeadAnswer(RequestHeadStatus st);

}  // namespace sse

#endif  // SSE_CORE_HTTP_REQUEST_H_
