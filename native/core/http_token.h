// RFC 9110 tokens (method and header names), shared by the request-head
// reader and the response-head builder.
#ifndef SSE_CORE_HTTP_TOKEN_H_
#define SSE_CORE_HTTP_TOKEN_H_

#include <string_view>

namespace sse {

// RFC 9110 tchar.
inline bool isTokenChar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// A non-empty run of tchar.
inline bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!isTokenChar(c)) return false;
  }
  return true;
}

}  // namespace sse

#endif  // SSE_CORE_HTTP_TOKEN_H_
