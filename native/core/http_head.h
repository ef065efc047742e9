// The HTTP/1.1 response head written before an adopted SSE stream.
#ifndef SSE_CORE_HTTP_HEAD_H_
#define SSE_CORE_HTTP_HEAD_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sse {

using HeaderList = std::vector<std::pair<std::string_view, std::string_view>>;

// Why a head cannot be built. Nothing is produced for a bad head.
enum class HeadStatus : uint8_t {
  kOk,
  kInvalidStatus,       // status code outside 100..999
  kInvalidReason,       // reason phrase holds a control byte other than HTAB
  kInvalidHeaderName,   // empty, or not an RFC 9110 token
  kInvalidHeaderValue,  // holds a control byte other than HTAB (CR, LF, NUL...)
};

// Builds "HTTP/1.1 <status> <reason>\r\n" + one "Name: value\r\n" per header,
// in the order given, + "\r\n" into *out (replacing its contents). The caller
// decides which headers to send (the SSE set, the app's, the options'); a
// header named in `headers` twice is written twice. On error *out is left
// empty and *bad_index (if given) is the offending header's index.
HeadStatus buildResponseHead(int status, std::string_view reason, const HeaderList& headers,
                             std::string* out, size_t* bad_index = nullptr);

}  // namespace sse

#endif  // SSE_CORE_HTTP_HEAD_H_
