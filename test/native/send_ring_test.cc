// The batched flush (core/io/send_ring.h): with SSE_NATIVE_IO_URING=1 one
// io_uring_enter carries every socket member's send of a flush, each
// completion is posted by the submit itself, and a full or reset socket is
// handled exactly as a uv_try_write result (uv_write for the rest, close on
// an error). The rest of the core suite runs with the ring on and off
// (scripts/test-native.sh runs ctest both ways).
#include "core/io/send_ring.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/io/connection.h"
#include "io_fixture.h"

namespace sse {
namespace {

using testing_io::IoTest;
using testing_io::Pair;

const char kHead[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";

ConnectionOptions quiet() {
  ConnectionOptions o;
  o.heartbeat_ms = 0;
  return o;
}

class RingTest : public IoTest {
 protected:
  // A fresh context with SSE_NATIVE_IO_URING set to `value`.
  void recreate(const char* value) {
    const char* old = std::getenv("SSE_NATIVE_IO_URING");
    std::string saved = old == nullptr ? "" : old;
    destroyContext();
    setenv("SSE_NATIVE_IO_URING", value, 1);
    ctx_ = LoopContext::create(&loop_, &rec_);
    if (old == nullptr) {
      unsetenv("SSE_NATIVE_IO_URING");
    } else {
      setenv("SSE_NATIVE_IO_URING", saved.c_str(), 1);
    }
    ASSERT_NE(ctx_, nullptr);
  }
  // With the ring on; skips where io_uring is not built or not allowed.
  bool ringOn() {
    recreate("1");
    if (!send_ring::built()) {
      std::printf("built without liburing\n");
      return false;
    }
    if (!ctx_->batching()) {
      std::printf("io_uring_queue_init failed here (kernel, seccomp or io_uring_disabled)\n");
      return false;
    }
    return true;
  }
};

TEST_F(RingTest, OneEnterCarriesEveryMembersSend) {
  if (!ringOn()) GTEST_SKIP();
  constexpr int kMembers = 50;
  std::vector<Pair*> pairs;
  std::vector<Connection*> conns;
  for (int i = 0; i < kMembers; ++i) {
    Pair* p = connectPair();
    pairs.push_back(p);
    conns.push_back(adopt(p, quiet(), kHead, nullptr));
  }
  for (Pair* p : pairs) ASSERT_TRUE(readUntil(p, sizeof(kHead) - 1));
  LoopStats before = ctx_->stats();
  std::string frame = "data: one per turn\n\n";
  for (Connection* c : conns) c->sendCopy(frame.data(), frame.size());
  uv_run(&loop_, UV_RUN_NOWAIT);  // one flush
  const LoopStats& s = ctx_->stats();
  EXPECT_EQ(s.ring_enters - before.ring_enters, 1u);  // one system call
  EXPECT_EQ(s.ring_sends - before.ring_sends, static_cast<uint64_t>(kMembers));
  EXPECT_EQ(s.try_writes - before.try_writes, static_cast<uint64_t>(kMembers));
  EXPECT_EQ(s.ring_late, 0u);  // every completion posted by the submit
  EXPECT_EQ(s.queued_writes, 0u);
  for (Connection* c : conns) EXPECT_EQ(c->bufferedAmount(), 0u);
  for (Pair* p : pairs) {
    ASSERT_TRUE(readUntil(p, sizeof(kHead) - 1 + frame.size()));
    EXPECT_EQ(p->got, kHead + frame);
  }
}

TEST_F(RingTest, FullSocketSendsTheRestWithUvWrite) {
  if (!ringOn()) GTEST_SKIP();
  Pair* p = connectPair(4096, 4096);
  Connection* c = adopt(p, quiet(), kHead, nullptr);
  std::string expected = kHead;
  // Many turns of 16 KiB without the client reading: the ring's sends come
  // back short or -EAGAIN, and the rest waits in one uv_write each time.
  for (int turn = 0; turn < 64; ++turn) {
    std::string f = "data: " + std::string(16 * 1024, static_cast<char>('a' + turn % 26)) + "\n\n";
    c->sendCopy(f.data(), f.size());
    expected += f;
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  EXPECT_GT(ctx_->stats().ring_sends, 0u);
  EXPECT_GT(ctx_->stats().queued_writes, 0u);  // the kernel was full
  EXPECT_EQ(ctx_->stats().ring_late, 0u);
  ASSERT_TRUE(readUntil(p, expected.size()));
  EXPECT_TRUE(p->got == expected);  // in order, nothing twice
  EXPECT_EQ(rec_.closes, 0);
}

TEST_F(RingTest, ResetPeerClosesWithTheSendsError) {
  if (!ringOn()) GTEST_SKIP();
  Pair* p = connectPair();
  int tag = 0;
  Connection* c = adopt(p, quiet(), kHead, &tag);
  ASSERT_TRUE(readUntil(p, sizeof(kHead) - 1));
  linger lg{1, 0};  // close sends an RST
  setsockopt(p->client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  closeClient(p);
  uint64_t sends = ctx_->stats().ring_sends;
  // The flush (prepare phase) runs before the poll phase reads the reset.
  c->sendCopy("data: x\n\n", 9);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(ctx_->stats().ring_sends - sends, 1u);
  int st = rec_.statusOf(&tag);
  EXPECT_TRUE(st == UV_ECONNRESET || st == UV_EPIPE) << uv_err_name(st);
}

TEST_F(RingTest, OnUnlessTurnedOff) {
  const char* old = std::getenv("SSE_NATIVE_IO_URING");
  std::string saved = old == nullptr ? "" : old;
  unsetenv("SSE_NATIVE_IO_URING");
  EXPECT_EQ(send_ring::wanted(), send_ring::built());  // the default: on
  for (const char* off : {"0", "false", "off"}) {
    setenv("SSE_NATIVE_IO_URING", off, 1);
    EXPECT_FALSE(send_ring::wanted()) << off;
  }
  if (old == nullptr) {
    unsetenv("SSE_NATIVE_IO_URING");
  } else {
    setenv("SSE_NATIVE_IO_URING", saved.c_str(), 1);
  }
}

TEST_F(RingTest, ZeroTurnsItOff) {
  recreate("0");
  EXPECT_FALSE(ctx_->batching());
  Pair* p = connectPair();
  adopt(p, quiet(), kHead, nullptr);
  ASSERT_TRUE(readUntil(p, sizeof(kHead) - 1));
  EXPECT_EQ(ctx_->stats().ring_enters, 0u);
  EXPECT_EQ(ctx_->stats().ring_sends, 0u);
  EXPECT_EQ(ctx_->stats().try_writes, 1u);
}

}  // namespace
}  // namespace sse
