#include "core/http_head.h"
#include "core/http_token.h"

namespace sse {
namespace {

// RFC 9110 field-value and reason-phrase bytes are HTAB, SP, VCHAR and
// obs-text: any other control byte makes Node's llhttp (and other strict
// readers) reject the whole response ("Invalid header value char").
bool isFieldText(std::string_view s) {
  for (unsigned char c : s) {
    if (c != '\t' && (c < 0x20 || c == 0x7F)) return false;
  }
  return true;
}

}  // namespace

HeadStatus buildResponseHead(int status, std::string_view reason, const HeaderList& headers,
                             std::string* out, size_t* bad_index) {
  out->clear();
  if (status < 100 || status > 999) return HeadStatus::kInvalidStatus;
  if (!isFieldText(reason)) return HeadStatus::kInvalidReason;
  size_t size = 9 + 4 + reason.size() + 2 + 2;
  for (size_t i = 0; i < headers.size(); ++i) {
    const auto& [name, value] = headers[i];
    if (!isToken(name)) {
      if (bad_index != nullptr) *bad_index = i;
      return HeadStatus::kInvalidHeaderName;
    }
    if (!isFieldText(value)) {
      if (bad_index != nullptr) *bad_index = i;
      return HeadStatus::kInvalidHeaderValue;
    }
    size += name.size() + 2 + value.size() + 2;
  }
  out->reserve(size);
  out->append("HTTP/1.1 ");
  out->append(std::to_string(status));
  out->push_back(' ');
  out->append(reason);
  out->append("\r\n");
  for (const auto& [name, value] : headers) {
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  out->append("\r\n");
  return HeadStatus::kOk;
}

}  // namespace sse
