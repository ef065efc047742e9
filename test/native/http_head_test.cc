#include "core/http_head.h"

#include <gtest/gtest.h>

namespace sse {
namespace {

TEST(HttpHead, BuildsStatusLineAndHeadersInOrder) {
  std::string out;
  HeaderList h = {{"Content-Type", "text/event-stream; charset=utf-8"},
                  {"Cache-Control", "no-cache, no-transform"},
                  {"Access-Control-Allow-Origin", "*"}};
  ASSERT_EQ(buildResponseHead(200, "OK", h, &out), HeadStatus::kOk);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
            "Cache-Control: no-cache, no-transform\r\nAccess-Control-Allow-Origin: *\r\n\r\n");
}

TEST(HttpHead, EmptyValueAndNoHeaders) {
  std::string out;
  ASSERT_EQ(buildResponseHead(204, "No Content", {{"X-Empty", ""}}, &out), HeadStatus::kOk);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nX-Empty: \r\n\r\n");
  ASSERT_EQ(buildResponseHead(200, "", {}, &out), HeadStatus::kOk);
  EXPECT_EQ(out, "HTTP/1.1 200 \r\n\r\n");
}

TEST(HttpHead, RejectsInjection) {
  std::string out = "x";
  size_t bad = 99;
  EXPECT_EQ(buildResponseHead(200, "OK", {{"A", "1"}, {"X-Evil", "a\r\nSet-Cookie: x"}}, &out, &bad),
            HeadStatus::kInvalidHeaderValue);
  EXPECT_EQ(bad, 1u);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(buildResponseHead(200, "OK", {{"Bad Name", "1"}}, &out, &bad),
            HeadStatus::kInvalidHeaderName);
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(buildResponseHead(200, "OK", {{"", "1"}}, &out), HeadStatus::kInvalidHeaderName);
  EXPECT_EQ(buildResponseHead(200, "OK", {{"A:", "1"}}, &out), HeadStatus::kInvalidHeaderName);
  EXPECT_EQ(buildResponseHead(200, "O\nK", {}, &out), HeadStatus::kInvalidReason);
  EXPECT_EQ(buildResponseHead(99, "OK", {}, &out), HeadStatus::kInvalidStatus);
  EXPECT_EQ(buildResponseHead(1000, "OK", {}, &out), HeadStatus::kInvalidStatus);
  EXPECT_EQ(buildResponseHead(200, "OK", {{"A", std::string_view("a\0b", 3)}}, &out),
            HeadStatus::kInvalidHeaderValue);
}

}  // namespace
}  // namespace sse
