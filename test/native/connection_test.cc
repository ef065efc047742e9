#include "core/io/connection.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "io_fixture.h"

namespace sse {
namespace {

using testing_io::IoTest;
using testing_io::Pair;

const char kHead[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";

// "data: <seq>\n\n" padded with 'x' to `size` bytes (size >= 16).
std::string frame(int seq, size_t size = 16) {
  char num[16];
  std::snprintf(num, sizeof(num), "%06d", seq);
  std::string f = "data: ";
  f += num;
  f.append(size - f.size() - 2, 'x');
  f += "\n\n";
  return f;
}

ConnectionOptions quiet() {
  ConnectionOptions o;
  o.heartbeat_ms = 0;
  return o;
}

TEST_F(IoTest, HeadThenFramesArriveInOrder) {
  Pair* p = connectPair();
  int tag = 0;
  Connection* c = adopt(p, quiet(), kHead, &tag);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->user_data(), &tag);
  std::string expected = kHead;
  for (int i = 0; i < 10; ++i) {
    std::string f = frame(i);
    EXPECT_EQ(i % 2 ? c->send(buffer(f)) : c->sendCopy(f.data(), f.size()),
              SendResult::kSuccess);
    expected += f;
  }
  EXPECT_EQ(c->bufferedAmount(), expected.size());
  ASSERT_TRUE(readUntil(p, expected.size()));
  EXPECT_EQ(p->got, expected);
  EXPECT_EQ(c->bufferedAmount(), 0u);
  EXPECT_EQ(ctx_->stats().bytes_written, expected.size());
  EXPECT_EQ(ctx_->stats().connections_open, 1u);
  EXPECT_EQ(rec_.closes, 0);
}

TEST_F(IoTest, SendsOfOneTurnLeaveAsOneWritev) {
  Pair* p = connectPair();
  Connection* c = adopt(p, quiet(), kHead, nullptr);
  ASSERT_TRUE(readUntil(p, sizeof(kHead) - 1));
  uint64_t before = ctx_->stats().try_writes;
  std::string expected;
  SharedBuffer* shared = SharedBuffer::copyOf("data: x\n\n", 9);
  BufferRef ref(shared);
  for (int i = 0; i < 50; ++i) {  // a shared frame and private copies
    std::string f = frame(i);
    c->sendCopy(f.data(), f.size());
    c->send(ref.share());
    expected += f + "data: x\n\n";
  }
  EXPECT_EQ(shared->refCount(), 51u);  // references, not copies
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(ctx_->stats().try_writes - before, 1u);  // 100 sends, one writev
  EXPECT_EQ(ctx_->stats().queued_writes, 0u);
  EXPECT_EQ(shared->refCount(), 1u);
  ASSERT_TRUE(readUntil(p, sizeof(kHead) - 1 + expected.size()));
  EXPECT_EQ(p->got.substr(sizeof(kHead) - 1), expected);
}

TEST_F(IoTest, FlushWritesNow) {
  Pair* p = connectPair();
  Connection* c = adopt(p, quiet(), "", nullptr);
  c->sendCopy("data: a\n\n", 9);
  c->flush();
  EXPECT_EQ(c->bufferedAmount(), 0u);
  EXPECT_EQ(ctx_->stats().try_writes, 1u);
  ASSERT_TRUE(readUntil(p, 9));
}

TEST_F(IoTest, ClientCloseGivesExactlyOneCloseNotification) {
  Pair* p = connectPair();
  int tag = 0;
  Connection* c = adopt(p, quiet(), kHead, &tag);
  ASSERT_TRUE(readUntil(p, sizeof(kHead) - 1));
  closeClient(p);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), UV_EOF);
  EXPECT_EQ(rec_.all.back().connection, c);
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
  runUntil([] { return false; }, 30);
  EXPECT_EQ(rec_.closes, 1);
}

TEST_F(IoTest, ClientHalfCloseCountsAsLeaving) {
  Pair* p = connectPair();
  int tag = 0;
  adopt(p, quiet(), kHead, &tag);
  ASSERT_EQ(shutdown(p->client, SHUT_WR), 0);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), UV_EOF);
  ASSERT_TRUE(readToEof(p));
  EXPECT_EQ(p->got, kHead);
}

TEST_F(IoTest, VanishedPeerIsReaped) {
  Pair* p = connectPair();
  int tag = 0;
  adopt(p, quiet(), kHead, &tag);
  ASSERT_TRUE(readUntil(p, sizeof(kHead) - 1));
  linger lg{1, 0};
  ASSERT_EQ(setsockopt(p->client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  closeClient(p);  // RST
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  int status = rec_.statusOf(&tag);
  EXPECT_TRUE(status == UV_ECONNRESET || status == UV_EOF)
      << uv_err_name(status);
}

TEST_F(IoTest, CloseIsIdempotentAndSendAfterCloseIsClosed) {
  Pair* p = connectPair();
  int tag = 0;
  Connection* c = adopt(p, quiet(), kHead, &tag);
  c->close(false);
  c->close(false);
  c->close(true);
  EXPECT_FALSE(c->isOpen());
  EXPECT_EQ(c->sendCopy("data: x\n\n", 9), SendResult::kClosed);
  BufferRef ref(SharedBuffer::copyOf("x", 1));
  SharedBuffer* raw = ref.get();
  raw->ref();
  EXPECT_EQ(c->send(std::move(ref)), SendResult::kClosed);
  EXPECT_EQ(raw->refCount(), 1u);  // the refused reference was dropped
  raw->unref();
  bool closed_seen_open = true;
  rec_.hook = [&](const Notification* n, size_t k) {
    // Still valid inside the callback; sends there are refused.
    closed_seen_open = n[0].connection->isOpen();
    EXPECT_EQ(n[0].connection->sendCopy("x", 1), SendResult::kClosed);
  };
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_FALSE(closed_seen_open);
  EXPECT_EQ(rec_.count(Notification::kClose, &tag), 1);
  EXPECT_EQ(rec_.statusOf(&tag), 0);
  ASSERT_TRUE(readToEof(p));  // an abrupt close drops the unsent head
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
}

TEST_F(IoTest, GracefulCloseDeliversEverythingThenFin) {
  Pair* p = connectPair(4096, 4096);
  int tag = 0;
  ConnectionOptions o = quiet();
  Connection* c = adopt(p, o, kHead, &tag);
  std::string expected = kHead;
  for (int i = 0; i < 200; ++i) {  // 200 KiB: far more than the socket holds
    std::string f = frame(i, 1024);
    ASSERT_NE(c->send(buffer(f)), SendResult::kClosed);
    expected += f;
    if (i % 20 == 0) uv_run(&loop_, UV_RUN_NOWAIT);
  }
  c->close(true);
  EXPECT_EQ(c->sendCopy("late", 4), SendResult::kClosed);
  ASSERT_TRUE(readToEof(p));
  EXPECT_EQ(p->got.size(), expected.size());
  EXPECT_TRUE(p->got == expected);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), 0);
  EXPECT_GT(ctx_->stats().queued_writes, 0u);  // the slow path was taken
}

TEST_F(IoTest, AdoptFailureLeavesNothingBehind) {
  Connection* c = reinterpret_cast<Connection*>(1);
  EXPECT_EQ(Connection::adopt(ctx_, -1, quiet(), buffer(kHead), nullptr, &c),
            UV_EBADF);
  EXPECT_EQ(c, nullptr);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // not a socket: uv_tcp_open accepts, reads fail
  int before = testing_io::countOpenFds();
  int err =
      Connection::adopt(ctx_, fds[0], quiet(), buffer(kHead), nullptr, &c);
  if (err == 0) c->close(false);
  runUntil([] { return false; }, 20);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(testing_io::countOpenFds(), before - 2);
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
}

TEST_F(IoTest, ChurnKeepsFdCountFlat) {
  int before = testing_io::countOpenFds();
  for (int i = 0; i < 2000; ++i) {
    Pair* p = connectPair();
    adopt(p, ConnectionOptions(), kHead, nullptr);
    if (i % 2) {
      closeClient(p);
    } else {
      ctx_->closeAll(i % 4 == 0);
      ASSERT_TRUE(readToEof(p));
      closeClient(p);
    }
    ASSERT_TRUE(runUntil([&] { return rec_.closes == i + 1; }));
    delete p;
    pairs_.pop_back();
  }
  EXPECT_EQ(testing_io::countOpenFds(), before);
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
  EXPECT_EQ(ctx_->stats().connections_adopted, 2000u);
  std::printf("sizeof(Connection) = %zu, sizeof(uv_tcp_t) = %zu\n",
              sizeof(Connection), sizeof(uv_tcp_t));
}

}  // namespace
}  // namespace sse
