#include "core/http_request.h"
#include "core/http_token.h"

namespace sse {
namespace {

// A request-target byte: visible ASCII or obs-text (no SP, no CTL, no DEL).
bool isTargetChar(unsigned char c) { return c > 0x20 && c != 0x7F; }

// field-value bytes: HTAB, SP, VCHAR, obs-text.
bool isFieldChar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

bool isOws(char c) { return c == ' ' || c == '\t'; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Where the head ends (bytes through the blank line's LF), 0 if not yet;
// *bad_line is the 0-based line holding a bad line end (a lone LF or a CR
// not followed by LF), or -1. Scans data[from..len); `from` must be 0 or the
// start of a line the caller has already checked.
size_t scanHead(const char* data, size_t len, size_t from, long* bad_line) {
  *bad_line = -1;
  long line = 0;
  size_t line_start = 0;
  for (size_t i = from; i < len; ++i) {
    char c = data[i];
    if (c == '\r') {
      if (i + 1 < len && data[i + 1] != '\n') {
        *bad_line = line;
        return 0;
      }
    } else if (c == '\n') {
      if (i == 0 || data[i - 1] != '\r') {
        *bad_line = line;
        return 0;
      }
      if (i - 1 == line_start) return i + 1;  // the empty line
      ++line;
      line_start = i + 1;
    }
  }
  return 0;
}

RequestHeadStatus parseRequestLine(std::string_view line, RequestHead* out) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return RequestHeadStatus::kBadRequestLine;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return RequestHeadStatus::kBadRequestLine;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method) || target.empty()) return RequestHeadStatus::kBadRequestLine;
  for (unsigned char c : target) {
    if (!isTargetChar(c)) return RequestHeadStatus::kBadRequestLine;
  }
  // HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive).
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return RequestHeadStatus::kBadRequestLine;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return RequestHeadStatus::kBadVersion;
  }
  out->method = method;
  out->target = target;
  out->version_minor = version[7] - '0';
  return RequestHeadStatus::kOk;
}

}  // namespace

RequestHeadStatus parseRequestHead(const char* data, size_t len, RequestHead* out) {
  if (out->headers.capacity() < kMaxRequestHeaders) out->headers.reserve(kMaxRequestHeaders);
  out->headers.clear();
  out->head_bytes = 0;
  long bad_line = -1;
  size_t end = scanHead(data, len, 0, &bad_line);
  if (bad_line == 0) return RequestHeadStatus::kBadRequestLine;
  if (bad_line > 0) return RequestHeadStatus::kBadHeader;
  if (end == 0) return RequestHeadStatus::kIncomplete;

  std::string_view head(data, end - 2);  // without the blank line's CRLF
  size_t eol = head.find("\r\n");        // there is one: the head ends CRLF CRLF
  if (eol == std::string_view::npos) return RequestHeadStatus::kBadRequestLine;
  RequestHeadStatus st = parseRequestLine(head.substr(0, eol), out);
  if (st != RequestHeadStatus::kOk) return st;

  int hosts = 0;
  bool body = false;
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, next - pos);
    pos = next + 2;
    if (isOws(line[0])) return RequestHeadStatus::kBadHeader;  // obs-fold
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return RequestHeadStatus::kBadHeader;
    std::string_view name = line.substr(0, colon);
    if (!isToken(name)) return RequestHeadStatus::kBadHeader;  // also "Name :"
    std::string_view value = line.substr(colon + 1);
    for (unsigned char c : value) {
      if (!isFieldChar(c)) return RequestHeadStatus::kBadHeader;
    }
    while (!value.empty() && isOws(value.front())) value.remove_prefix(1);
    while (!value.empty() && isOws(value.back())) value.remove_suffix(1);
    if (out->headers.size() == kMaxRequestHeaders) return RequestHeadStatus::kHeadTooLarge;
    out->headers.emplace_back(name, value);
    if (equalsIgnoreCase(name, "host")) {
      ++hosts;
    } else if (equalsIgnoreCase(name, "content-length")) {
      // 1*DIGIT; any value but zero means a body.
      if (value.empty()) return RequestHeadStatus::kBadHeader;
      for (char c : value) {
        if (c < '0' || c > '9') return RequestHeadStatus::kBadHeader;
        if (c != '0') body = true;
      }
    } else if (equalsIgnoreCase(name, "transfer-encoding")) {
      body = true;
    }
  }
  if (hosts > 1 || (hosts == 0 && out->version_minor == 1)) return RequestHeadStatus::kBadHost;
  if (body) return RequestHeadStatus::kBodyNotSupported;
  out->head_bytes = end;
  return RequestHeadStatus::kOk;
}

bool requestHeadDecidable(const char* data, size_t len, size_t from) {
  size_t i = from > 3 ? from - 3 : 0;
  for (; i < len; ++i) {
    char c = data[i];
    if (c == '\r') {
      if (i + 1 < len && data[i + 1] != '\n') return true;
    } else if (c == '\n') {
      if (i == 0 || data[i - 1] != '\r') return true;
      // An empty line: CRLF at the very start, or CRLF CRLF.
      if (i == 1 || (i >= 3 && data[i - 2] == '\n' && data[i - 3] == '\r')) return true;
    }
  }
  return false;
}

RequestHeadAnswer requestHeadAnswer(RequestHeadStatus st) {
  switch (st) {
    case RequestHeadStatus::kBadRequestLine:
      return {400, "Bad Request", "bad request line: send \"METHOD /target HTTP/1.1\" ending with CRLF"};
    case RequestHeadStatus::kBadVersion:
      return {505, "HTTP Version Not Supported", "only HTTP/1.0 and HTTP/1.1 are served"};
    case RequestHeadStatus::kBadHeader:
      return {400, "Bad Request",
              "bad header field: \"Name: value\" lines ending with CRLF, a token name, no control bytes, no folding"};
    case RequestHeadStatus::kBadHost:
      return {400, "Bad Request", "an HTTP/1.1 request needs exactly one Host header"};
    case RequestHeadStatus::kBodyNotSupported:
      return {413, "Content Too Large",
              "this server takes no request body: send Content-Length: 0 or none, and no Transfer-Encoding"};
    case RequestHeadStatus::kHeadTooLarge:
      return {431, "Request Header Fields Too Large", "request head too large (too many bytes or header fields)"};
    case RequestHeadStatus::kOk:
    case RequestHeadStatus::kIncomplete:
      break;
  }
  return {0, "", ""};
}

}  // namespace sse
