// libFuzzer target for the response head builder (native/core/http_head.*):
// it must refuse exactly what a strict HTTP/1.1 reader (Node's llhttp)
// would choke on, and what it builds must read back, line by line, as the
// status, reason and headers it was given, in order.
//
// Input layout: bytes 0..1 = status (little endian, so out-of-range codes
// come up too), then the reason and alternating header names and values,
// separated by 0x00 0xFF (so NUL alone still reaches the builder).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_head.h"

namespace {

[[noreturn]] void fail(const char* why) {
  std::fprintf(stderr, "http_head_fuzz: %s\n", why);
  std::abort();
}

bool isTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// RFC 9110 field-value / reason-phrase bytes: HTAB, SP, VCHAR, obs-text.
bool isFieldText(std::string_view s) {
  for (unsigned char c : s) {
    if (c != '\t' && (c < 0x20 || c == 0x7F)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 2) return 0;
  const int status = bytes[0] | (bytes[1] << 8);
  std::string_view rest(reinterpret_cast<const char*>(bytes + 2), size - 2);
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t sep = rest.find(std::string_view("\0\xFF", 2));
    parts.push_back(rest.substr(0, sep));
    if (sep == std::string_view::npos) break;
    rest.remove_prefix(sep + 2);
  }
  const std::string_view reason = parts[0];
  sse::HeaderList headers;
  for (size_t i = 1; i + 1 < parts.size(); i += 2) headers.emplace_back(parts[i], parts[i + 1]);

  sse::HeadStatus want = sse::HeadStatus::kOk;
  size_t want_index = 0;
  if (status < 100 || status > 999) {
    want = sse::HeadStatus::kInvalidStatus;
  } else if (!isFieldText(reason)) {
    want = sse::HeadStatus::kInvalidReason;
  } else {
    for (size_t i = 0; i < headers.size() && want == sse::HeadStatus::kOk; ++i) {
      const auto& [name, value] = headers[i];
      bool token = !name.empty();
      for (unsigned char c : name) token = token && isTchar(c);
      if (!token) {
        want = sse::HeadStatus::kInvalidHeaderName;
      } else if (!isFieldText(value)) {
        want = sse::HeadStatus::kInvalidHeaderValue;
      }
      want_index = i;
    }
  }

  std::string out = "junk";
  size_t bad = 12345;
  const sse::HeadStatus got = sse::buildResponseHead(status, reason, headers, &out, &bad);
  if (got != want) fail("status disagrees with the rules");
  if (got != sse::HeadStatus::kOk) {
    if (!out.empty()) fail("a bad head left bytes");
    const bool indexed = got == sse::HeadStatus::kInvalidHeaderName ||
                         got == sse::HeadStatus::kInvalidHeaderValue;
    if (indexed && bad != want_index) fail("wrong bad_index");
    return 0;
  }

  // Read it back: CRLF-separated lines, no bare CR or LF anywhere.
  std::vector<std::string_view> lines;
  std::string_view text(out);
  for (;;) {
    const size_t crlf = text.find("\r\n");
    if (crlf == std::string_view::npos) break;
    lines.push_back(text.substr(0, crlf));
    text.remove_prefix(crlf + 2);
  }
  if (!text.empty()) fail("bytes after the blank line");
  if (lines.size() != headers.size() + 2 || !lines.back().empty()) fail("wrong line count");
  for (std::string_view line : lines) {
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos) {
      fail("bare CR or LF");
    }
  }
  const std::string status_line = "HTTP/1.1 " + std::to_string(status) + " ";
  if (lines[0].substr(0, status_line.size()) != status_line || status_line.size() != 13) {
    fail("status line");
  }
  if (lines[0].substr(status_line.size()) != reason) fail("reason");
  for (size_t i = 0; i < headers.size(); ++i) {
    const std::string want_line =
        std::string(headers[i].first) + ": " + std::string(headers[i].second);
    if (lines[i + 1] != want_line) fail("header line");
  }
  return 0;
}
