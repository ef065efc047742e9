#include "core/http_request.h"

#include <gtest/gtest.h>

#include <string>

namespace sse {
namespace {

using S = RequestHeadStatus;

S parse(const std::string& s, RequestHead* h = nullptr) {
  RequestHead local;
  return parseRequestHead(s.data(), s.size(), h != nullptr ? h : &local);
}

TEST(HttpRequest, ParsesAGetWithHeadersTrimmed) {
  std::string s =
      "GET /events?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept:text/event-stream\r\n"
      "Last-Event-ID: \t 42 \t\r\nX-Empty:\r\n\r\nGET /next HTTP/1.1\r\n";
  RequestHead h;
  ASSERT_EQ(parse(s, &h), S::kOk);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/events?x=1");
  EXPECT_EQ(h.version_minor, 1);
  ASSERT_EQ(h.headers.size(), 4u);
  EXPECT_EQ(h.headers[0].first, "Host");
  EXPECT_EQ(h.headers[0].second, "example.com");
  EXPECT_EQ(h.headers[1].second, "text/event-stream");
  EXPECT_EQ(h.headers[2].first, "Last-Event-ID");
  EXPECT_EQ(h.headers[2].second, "42");
  EXPECT_EQ(h.headers[3].second, "");
  EXPECT_EQ(h.head_bytes, s.find("GET /next"));  // the pipelined rest is not ours
}

TEST(HttpRequest, Http10NeedsNoHost) {
  RequestHead h;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", &h), S::kOk);
  EXPECT_EQ(h.version_minor, 0);
  EXPECT_TRUE(h.headers.empty());
  EXPECT_EQ(h.head_bytes, 18u);
}

TEST(HttpRequest, EveryPrefixIsIncompleteAndUndecidable) {
  std::string s = "GET /a HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n";
  for (size_t n = 0; n < s.size(); ++n) {
    EXPECT_EQ(parse(s.substr(0, n)), S::kIncomplete) << n;
    EXPECT_FALSE(requestHeadDecidable(s.data(), n, 0)) << n;
    // Fed in two pieces, the second scan sees the end only at the end.
    for (size_t from = 0; from <= n; ++from) {
      ASSERT_FALSE(requestHeadDecidable(s.data(), n, from));
    }
  }
  for (size_t from = 0; from < s.size(); ++from) {
    EXPECT_TRUE(requestHeadDecidable(s.data(), s.size(), from)) << from;
  }
  EXPECT_EQ(parse(s), S::kOk);
}

TEST(HttpRequest, RefusesBadRequestLines) {
  for (const char* s : {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "GET /\r\nHost: a\r\n\r\n",
                        "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", " GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                        "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
                        "GET / http/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.10\r\nHost: a\r\n\r\n",
                        "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.1\n\n",
                        "GET / HTTP/1.1\rX"}) {
    EXPECT_EQ(parse(s), S::kBadRequestLine) << s;
  }
}

TEST(HttpRequest, RefusesOtherVersions) {
  EXPECT_EQ(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), S::kBadVersion);
  EXPECT_EQ(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), S::kBadVersion);
  EXPECT_EQ(parse("GET / HTTP/0.9\r\n\r\n"), S::kBadVersion);
}

TEST(HttpRequest, RefusesBadHeaders) {
  for (const char* s : {
           "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",     // not a token
           "GET / HTTP/1.1\r\nHost: a\r\nName : x\r\n\r\n",        // space before colon
           "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",         // no colon
           "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n",             // empty name
           "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n",    // CTL in value
           "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n",        // DEL in value
           "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n", // obs-fold
           "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",              // lone LF
           "GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n",         // lone CR
           "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 0\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
       }) {
    EXPECT_EQ(parse(s), S::kBadHeader) << s;
  }
  // A bad line end is seen before the head ends.
  std::string lf = "GET / HTTP/1.1\r\nHost: a\nX";
  EXPECT_EQ(parse(lf), S::kBadHeader);
  EXPECT_TRUE(requestHeadDecidable(lf.data(), lf.size(), lf.size() - 2));
  // Tabs and obs-text are field text.
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\xe9\r\n\r\n"), S::kOk);
}

TEST(HttpRequest, NeedsExactlyOneHostOn11) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\n\r\n"), S::kBadHost);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), S::kBadHost);
  EXPECT_EQ(parse("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n"), S::kBadHost);
}

TEST(HttpRequest, RefusesBodies) {
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"), S::kBodyNotSupported);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
            S::kBodyNotSupported);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\ncontent-length: 000\r\n\r\n"), S::kOk);
}

TEST(HttpRequest, TooManyHeadersIsTooLarge) {
  std::string s = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (size_t i = 1; i < kMaxRequestHeaders; ++i) s += "X: y\r\n";
  EXPECT_EQ(parse(s + "\r\n"), S::kOk);
  EXPECT_EQ(parse(s + "X: y\r\n\r\n"), S::kHeadTooLarge);
}

TEST(HttpRequest, ReusedHeadDoesNotGrow) {
  RequestHead h;
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &h), S::kOk);
  const void* data = h.headers.data();
  size_t cap = h.headers.capacity();
  EXPECT_GE(cap, kMaxRequestHeaders);
  ASSERT_EQ(parse("GET /b HTTP/1.1\r\nHost: b\r\nA: 1\r\nB: 2\r\n\r\n", &h), S::kOk);
  EXPECT_EQ(h.headers.data(), data);
  EXPECT_EQ(h.headers.capacity(), cap);
  EXPECT_EQ(h.headers.size(), 3u);
}

TEST(HttpRequest, AnswersNameTheProblem) {
  EXPECT_EQ(requestHeadAnswer(S::kBadRequestLine).status, 400);
  EXPECT_EQ(requestHeadAnswer(S::kBadHeader).status, 400);
  EXPECT_EQ(requestHeadAnswer(S::kBadHost).status, 400);
  EXPECT_EQ(requestHeadAnswer(S::kBadVersion).status, 505);
  EXPECT_EQ(requestHeadAnswer(S::kBodyNotSupported).status, 413);
  EXPECT_EQ(requestHeadAnswer(S::kHeadTooLarge).status, 431);
  EXPECT_EQ(requestHeadAnswer(S::kOk).status, 0);
  EXPECT_NE(std::string(requestHeadAnswer(S::kBadHost).text).find("Host"), std::string::npos);
}

}  // namespace
}  // namespace sse
