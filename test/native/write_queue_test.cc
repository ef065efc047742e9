#include "core/io/write_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sse {
namespace detail {
namespace {

SharedBuffer* bytesOf(const std::string& s) {
  return SharedBuffer::copyOf(s.data(), s.size());
}

std::string contents(const WriteQueue& q) {
  uv_buf_t bufs[64];
  size_t total;
  uint32_t n = q.fill(bufs, 64, &total);
  std::string out;
  for (uint32_t i = 0; i < n; ++i) out.append(bufs[i].base, bufs[i].len);
  EXPECT_EQ(out.size(), total);
  return out;
}

TEST(WriteQueue, ConsumesWholeAndPartialSlotsInOrder) {
  WriteQueue q;
  std::string all;
  for (int i = 0; i < 10; ++i) {  // grows past the inline slots
    std::string s(static_cast<size_t>(i + 1), static_cast<char>('a' + i));
    ASSERT_TRUE(q.push(bytesOf(s)));
    all += s;
  }
  EXPECT_EQ(q.bytes(), all.size());
  EXPECT_EQ(q.slots(), 10u);
  EXPECT_EQ(contents(q), all);
  q.consume(4);  // "a", "bb", and one byte of "ccc"
  EXPECT_EQ(q.slots(), 8u);
  EXPECT_EQ(contents(q), all.substr(4));
  q.consume(q.bytes());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(WriteQueue, FillStopsAtMax) {
  WriteQueue q;
  for (int i = 0; i < 5; ++i) q.push(bytesOf("xy"));
  uv_buf_t bufs[3];
  size_t total;
  EXPECT_EQ(q.fill(bufs, 3, &total), 3u);
  EXPECT_EQ(total, 6u);
}

TEST(WriteQueue, InflightSlotsStayReferencedUntilPopped) {
  WriteQueue q;
  SharedBuffer* shared = bytesOf("frame");
  for (int i = 0; i < 3; ++i) {
    shared->ref();
    q.push(shared);
  }
  q.consume(2);  // the first slot is partly written
  q.markInflight(2);
  EXPECT_FALSE(q.allInflight());
  for (int i = 0; i < 20; ++i) {  // compaction and growth under a write
    shared->ref();
    q.push(shared);
  }
  EXPECT_EQ(shared->refCount(), 24u);
  EXPECT_EQ(q.popInflight(), 3u + 5u);
  EXPECT_EQ(shared->refCount(), 22u);
  EXPECT_EQ(q.bytes(), 21u * 5);
  EXPECT_EQ(q.inflight(), 0u);
  q.clear();
  EXPECT_EQ(shared->refCount(), 1u);
  shared->unref();
}

TEST(WriteQueue, DestructorDropsEveryReference) {
  SharedBuffer* shared = bytesOf("x");
  {
    WriteQueue q;
    for (int i = 0; i < 100; ++i) {
      shared->ref();
      q.push(shared);
    }
    q.consume(37);
    q.markInflight(10);
  }
  EXPECT_EQ(shared->refCount(), 1u);
  shared->unref();
}

TEST(WriteQueue, SteadyStateFifoDoesNotGrow) {
  WriteQueue q;
  for (int round = 0; round < 1000; ++round) {
    q.push(bytesOf("ab"));
    q.push(bytesOf("cd"));
    q.consume(3);
    ASSERT_EQ(contents(q), "d");
    q.consume(q.bytes());
    EXPECT_TRUE(q.empty());
  }
}

}  // namespace
}  // namespace detail
}  // namespace sse
