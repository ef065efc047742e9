#include "core/frame.h"

#include <gtest/gtest.h>

#include <string>

namespace sse {
namespace {

std::string encode(const Message& m) {
  std::string out;
  EXPECT_EQ(appendFrame(m, &out), FrameStatus::kOk);
  EXPECT_EQ(out.size(), encodedSize(m));
  return out;
}

Message data(std::string_view d) {
  Message m;
  m.data = d;
  m.has_data = true;
  return m;
}

TEST(Frame, DataOnly) { EXPECT_EQ(encode(data("hello")), "data: hello\n\n"); }

TEST(Frame, EmptyData) { EXPECT_EQ(encode(data("")), "data: \n\n"); }

TEST(Frame, AllFieldsInOrder) {
  Message m = data("{\"a\":1}");
  m.event = "chunk";
  m.has_event = true;
  m.id = "42";
  m.has_id = true;
  m.retry = 3000;
  m.has_retry = true;
  m.comment = "hi";
  m.has_comment = true;
  EXPECT_EQ(encode(m), ": hi\nevent: chunk\nid: 42\nretry: 3000\ndata: {\"a\":1}\n\n");
}

TEST(Frame, EveryLineBreakKindSplitsData) {
  EXPECT_EQ(encode(data("a\nb\rc\r\nd")), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(encode(data("\n")), "data: \ndata: \n\n");
  EXPECT_EQ(encode(data("x\r")), "data: x\ndata: \n\n");
  EXPECT_EQ(encode(data("\r\n\r\n")), "data: \ndata: \ndata: \n\n");
  EXPECT_EQ(encode(data("\n\r")), "data: \ndata: \ndata: \n\n");
}

TEST(Frame, LeadingSpaceInDataSurvivesOneStrip) {
  EXPECT_EQ(encode(data(" x")), "data:  x\n\n");
}

TEST(Frame, CommentLinesArePrefixed) {
  Message m;
  m.comment = "a\r\nb";
  m.has_comment = true;
  EXPECT_EQ(encode(m), ": a\n: b\n\n");
}

TEST(Frame, RetryZeroAndLarge) {
  Message m;
  m.has_retry = true;
  m.retry = 0;
  EXPECT_EQ(encode(m), "retry: 0\n\n");
  m.retry = 18446744073709551615ull;
  EXPECT_EQ(encode(m), "retry: 18446744073709551615\n\n");
}

TEST(Frame, RejectsBreaksAndNulInIdAndBreaksInEvent) {
  for (std::string_view bad : {std::string_view("a\nb"), std::string_view("a\rb"),
                               std::string_view("a\0b", 3)}) {
    Message m = data("x");
    m.id = bad;
    m.has_id = true;
    std::string out = "keep";
    EXPECT_EQ(appendFrame(m, &out), FrameStatus::kInvalidId);
    EXPECT_EQ(out, "keep");
    EXPECT_STREQ(frameStatusField(FrameStatus::kInvalidId), "id");
    if (bad.find('\0') != std::string_view::npos) continue;  // fine in event

    Message e = data("x");
    e.event = bad;
    e.has_event = true;
    EXPECT_EQ(appendFrame(e, &out), FrameStatus::kInvalidEvent);
    EXPECT_EQ(out, "keep");
    FrameStatus st;
    EXPECT_FALSE(encodeShared(e, &st));
    EXPECT_EQ(st, FrameStatus::kInvalidEvent);
  }
}

// The spec gives NUL meaning only in an id (the field is then ignored); an
// event type holding NUL is dispatched as it is, so the encoder keeps it.
TEST(Frame, NulInEventIsKept) {
  Message m = data("x");
  m.event = std::string_view("a\0b", 3);
  m.has_event = true;
  std::string out;
  EXPECT_EQ(appendFrame(m, &out), FrameStatus::kOk);
  EXPECT_EQ(out, std::string("event: a\0b\ndata: x\n\n", 20));
  EXPECT_EQ(out.size(), encodedSize(m));
}

// Default (null) views for present fields: nothing may touch the null
// pointer (UBSan flags memcpy(dst, nullptr, 0)); found by frame_fuzz.
TEST(Frame, NullEmptyViewsEncode) {
  Message m;
  m.has_event = m.has_data = m.has_id = m.has_comment = true;
  std::string out;
  EXPECT_EQ(appendFrame(m, &out), FrameStatus::kOk);
  EXPECT_EQ(out, ": \nevent: \nid: \ndata: \n\n");
}

TEST(Frame, NulInDataIsKept) {
  EXPECT_EQ(encode(data(std::string_view("a\0b", 3))), std::string("data: a\0b\n\n", 11));
}

TEST(Frame, SharedBufferHoldsTheFrame) {
  FrameStatus st;
  BufferRef b = encodeShared(data("tok"), &st);
  ASSERT_TRUE(b);
  EXPECT_EQ(st, FrameStatus::kOk);
  EXPECT_EQ(std::string(b.data(), b.size()), "data: tok\n\n");
  BufferRef c = b.share();
  EXPECT_EQ(b.get()->refCount(), 2u);
  c.reset();
  EXPECT_EQ(b.get()->refCount(), 1u);
}

TEST(Frame, NdjsonIsOneLine) {
  std::string json = "{\"a\":\"x\ny\"}";
  std::string out(ndjsonSize(json), '?');
  char* end = encodeNdjsonTo(json, out.data());
  EXPECT_EQ(static_cast<size_t>(end - out.data()), out.size());
  EXPECT_EQ(out, "{\"a\":\"x\\ny\"}\n");
}

}  // namespace
}  // namespace sse
