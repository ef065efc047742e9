// libFuzzer target for the request-head reader (native/core/http_request.*).
// Input: byte 0 picks a split point, the rest is the bytes a client sent.
// Checks, without a second parser, what the listener relies on:
//  - requestHeadDecidable(all, 0) says exactly whether the parse is final
//    (not kIncomplete), and a reader that scanned a prefix first and then
//    the rest from the split point agrees with one scan of the whole;
//  - a prefix of an incomplete input is incomplete too;
//  - kOk: the head ends at the first CRLF CRLF, every view lies inside it,
//    names are tokens, values hold no CTL but HTAB and no outer OWS, the
//    request line reads back, and bytes after the head change nothing;
//  - reusing a RequestHead never reallocates its header vector.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/http_request.h"

namespace {

[[noreturn]] void fail(const char* why) {
  std::fprintf(stderr, "http_request_fuzz: %s\n", why);
  std::abort();
}

bool isTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool inside(std::string_view v, const char* base, size_t len) {
  return v.empty() || (v.data() >= base && v.data() + v.size() <= base + len);
}

sse::RequestHead& reused() {
  static sse::RequestHead h;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  const char* data = reinterpret_cast<const char*>(bytes + 1);
  const size_t len = size - 1;
  const size_t split = len == 0 ? 0 : bytes[0] % (len + 1);

  sse::RequestHead& head = reused();
  const void* storage = head.headers.data();
  const bool warmed = head.headers.capacity() >= sse::kMaxRequestHeaders;
  const sse::RequestHeadStatus st = sse::parseRequestHead(data, len, &head);
  if (warmed && head.headers.data() != storage) fail("the header vector was reallocated");

  const bool final = st != sse::RequestHeadStatus::kIncomplete;
  if (sse::requestHeadDecidable(data, len, 0) != final) fail("decidable disagrees with parse");
  if (!sse::requestHeadDecidable(data, split, 0) &&
      sse::requestHeadDecidable(data, len, split) != final) {
    fail("a split scan disagrees with a whole scan");
  }
  sse::RequestHead prefix;
  if (!final && sse::parseRequestHead(data, split, &prefix) != sse::RequestHeadStatus::kIncomplete) {
    fail("a prefix of an incomplete head is final");
  }
  if (st != sse::RequestHeadStatus::kOk) return 0;

  const std::string_view all(data, len);
  const size_t end = head.head_bytes;
  if (end < 4 || end > len || all.substr(end - 4, 4) != "\r\n\r\n") fail("head end");
  if (all.find("\r\n\r\n") != end - 4) fail("not the first blank line");
  if (head.version_minor != 0 && head.version_minor != 1) fail("version");
  const std::string line = std::string(head.method) + " " + std::string(head.target) +
                           " HTTP/1." + std::to_string(head.version_minor) + "\r\n";
  if (all.substr(0, line.size()) != line) fail("request line does not read back");
  if (head.method.empty() || head.target.empty()) fail("empty method or target");
  for (unsigned char c : head.method) {
    if (!isTchar(c)) fail("method not a token");
  }
  for (unsigned char c : head.target) {
    if (c <= 0x20 || c == 0x7F) fail("target byte");
  }
  if (head.headers.size() > sse::kMaxRequestHeaders) fail("too many headers");
  for (const auto& [name, value] : head.headers) {
    if (!inside(name, data, end) || !inside(value, data, end)) fail("view outside the head");
    if (name.empty()) fail("empty name");
    for (unsigned char c : name) {
      if (!isTchar(c)) fail("name not a token");
    }
    for (unsigned char c : value) {
      if (c != '\t' && (c < 0x20 || c == 0x7F)) fail("CTL in value");
    }
    if (!value.empty() && (value.front() == ' ' || value.front() == '\t' || value.back() == ' ' ||
                           value.back() == '\t')) {
      fail("OWS left around a value");
    }
  }
  sse::RequestHead alone;
  if (sse::parseRequestHead(data, end, &alone) != sse::RequestHeadStatus::kOk ||
      alone.head_bytes != end || alone.headers.size() != head.headers.size()) {
    fail("bytes after the head changed the head");
  }
  return 0;
}
