// Regression for a finding of test/fuzz/http_head_fuzz.cc: a header value or
// reason holding a control byte other than HTAB (here \x01 and DEL) was
// written, and Node's client then rejected the whole response with
// "Parse Error: Invalid header value char". Such bytes are now refused.
#include <gtest/gtest.h>

#include <string>

#include "core/http_head.h"

namespace sse {
namespace {

TEST(HttpHeadFieldText, ControlBytesAreRefused) {
  std::string out;
  size_t bad = 99;
  for (std::string_view value : {std::string_view("a\x01" "b"), std::string_view("a\x7f"),
                                 std::string_view("\x1b[0m"), std::string_view("a\0b", 3)}) {
    HeaderList headers = {{"X-Ok", "fine"}, {"X-Bad", value}};
    EXPECT_EQ(buildResponseHead(200, "OK", headers, &out, &bad), HeadStatus::kInvalidHeaderValue);
    EXPECT_EQ(bad, 1u);
    EXPECT_TRUE(out.empty());
  }
  EXPECT_EQ(buildResponseHead(200, "O\x01K", {}, &out), HeadStatus::kInvalidReason);
}

TEST(HttpHeadFieldText, TabSpaceAndObsTextAreFine) {
  std::string out;
  HeaderList headers = {{"X-A", "\ta b\t"}, {"X-B", "caf\xC3\xA9"}};
  ASSERT_EQ(buildResponseHead(200, "Caf\xC3\xA9 OK", headers, &out), HeadStatus::kOk);
  EXPECT_EQ(out, "HTTP/1.1 200 Caf\xC3\xA9 OK\r\nX-A: \ta b\t\r\nX-B: caf\xC3\xA9\r\n\r\n");
}

}  // namespace
}  // namespace sse
