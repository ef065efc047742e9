#include "core/io/listener.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "io_fixture.h"

namespace sse {
namespace {

using testing_io::IoTest;
using testing_io::Pair;

class ListenerTest : public IoTest {
 protected:
  void TearDown() override {
    if (listener_ != nullptr) listener_->close();
    IoTest::TearDown();
  }

  Listener* listen(ListenerOptions o = ListenerOptions()) {
    Listener* l = nullptr;
    int err = Listener::open(ctx_, "127.0.0.1", 0, o, &l);
    EXPECT_EQ(err, 0) << uv_err_name(err);
    listener_ = l;
    if (l != nullptr) listener_id_ = l->id();
    return l;
  }

  // A client connected to the listener (no server fd: the core accepts).
  Pair* client(Listener* l) {
    std::string host;
    int port = 0;
    EXPECT_EQ(l->address(&host, &port), 0);
    EXPECT_EQ(host, "127.0.0.1");
    Pair* p = new Pair;
    pairs_.push_back(p);
    p->client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(p->client, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    fcntl(p->client, F_SETFL, fcntl(p->client, F_GETFL) | O_NONBLOCK);
    return p;
  }

  void put(Pair* p, const std::string& s) {
    ASSERT_EQ(::send(p->client, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }

  // Ids of the kRequest notifications seen so far.
  std::vector<uint32_t> requests() const {
    std::vector<uint32_t> ids;
    for (const Notification& n : rec_.all) {
      if (n.kind == Notification::kRequest) {
        EXPECT_EQ(n.connection, nullptr);
        EXPECT_EQ(static_cast<uint32_t>(n.status), listener_id_);
        ids.push_back(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(n.user_data)));
      }
    }
    return ids;
  }

  bool waitRequests(size_t n) {
    return runUntil([&] { return requests().size() >= n; });
  }

  Listener* listener_ = nullptr;
  uint32_t listener_id_ = 0;
};

TEST_F(ListenerTest, HeadInPiecesReachesTheEmbedder) {
  Listener* l = listen();
  Pair* p = client(l);
  std::string head = "GET /x?k=1 HTTP/1.1\r\nHost: a\r\nLast-Event-ID:  7 \r\n\r\n";
  for (size_t i = 0; i < head.size(); i += 5) {
    put(p, head.substr(i, 5));
    runUntil([&] { return l->stats().accepted == 1; });
    uv_run(&loop_, UV_RUN_NOWAIT);
    if (i + 5 < head.size()) {
      EXPECT_TRUE(requests().empty()) << i;
    }
  }
  put(p, "GET /pipelined HTTP/1.1\r\n");
  ASSERT_TRUE(waitRequests(1));
  ASSERT_TRUE(runUntil([&] { return ctx_->request(requests()[0]) != nullptr; }));
  Pending* r = ctx_->request(requests()[0]);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->listenerId(), l->id());
  RequestHead h;
  r->head(&h);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/x?k=1");
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[1].first, "Last-Event-ID");
  EXPECT_EQ(h.headers[1].second, "7");
  ASSERT_TRUE(runUntil([&] { return r->extraBytes() == 25; }));
  std::string addr;
  int port = 0;
  ASSERT_TRUE(r->peer(&addr, &port));
  EXPECT_EQ(addr, "127.0.0.1");
  EXPECT_GT(port, 0);
  EXPECT_EQ(l->stats().pending, 1u);
  EXPECT_EQ(l->stats().requests, 1u);
}

TEST_F(ListenerTest, BadHeadsGetTheirAnswerAndClose) {
  Listener* l = listen();
  struct Case {
    std::string head;
    std::string status;
  } cases[] = {
      {"GET / HTTP/1.1\r\nBad Name: x\r\nHost: a\r\n\r\n", "400 Bad Request"},
      {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505 HTTP Version Not Supported"},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", "413 Content Too Large"},
      {"GET / HTTP/1.1\r\n\r\n", "400 Bad Request"},
      {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n",
       "431 Request Header Fields Too Large"},
  };
  for (const Case& c : cases) {
    Pair* p = client(l);
    put(p, c.head);
    ASSERT_TRUE(readToEof(p)) << c.head;
    EXPECT_EQ(p->got.rfind("HTTP/1.1 " + c.status + "\r\n", 0), 0u) << p->got;
    EXPECT_NE(p->got.find("Connection: close\r\n"), std::string::npos);
    size_t body = p->got.find("\r\n\r\n") + 4;
    std::string len = "Content-Length: " + std::to_string(p->got.size() - body) + "\r\n";
    EXPECT_NE(p->got.find(len), std::string::npos) << p->got;
    closeClient(p);  // the core reads on until the client closes
  }
  EXPECT_TRUE(requests().empty());
  EXPECT_EQ(l->stats().bad_heads, 5u);
  ASSERT_TRUE(runUntil([&] { return l->stats().pending == 0; }));
}

TEST_F(ListenerTest, SlowHeadTimesOutThenUnansweredHeadToo) {
  ListenerOptions o;
  o.head_timeout_ms = 50;
  Listener* l = listen(o);
  Pair* slow = client(l);
  put(slow, "GET / HTTP/1.1\r\nHo");
  Pair* unanswered = client(l);
  put(unanswered, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(waitRequests(1));
  uint32_t id = requests()[0];
  ASSERT_TRUE(readToEof(slow));
  EXPECT_EQ(slow->got, "");  // closed, not answered
  ASSERT_TRUE(readToEof(unanswered));
  EXPECT_EQ(l->stats().head_timeouts, 1u);
  EXPECT_EQ(l->stats().answer_timeouts, 1u);
  EXPECT_EQ(l->stats().pending, 0u);
  EXPECT_EQ(ctx_->request(id), nullptr);  // a later answer finds nothing
}

TEST_F(ListenerTest, AcceptTurnsItIntoAMemberThatReceivesSends) {
  Listener* l = listen();
  Pair* p = client(l);
  put(p, "GET /events HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(waitRequests(1));
  Pending* r = ctx_->request(requests()[0]);
  ASSERT_NE(r, nullptr);
  ConnectionOptions co;
  co.heartbeat_ms = 0;
  int tag = 0;
  Connection* c = Connection::createExternal(ctx_, co, "", &tag);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->sendCopy("data: early\n\n", 13), SendResult::kSuccess);  // held: queued
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
  int fds = testing_io::countOpenFds();
  ASSERT_EQ(r->accept(c, buffer(head)), 0);
  EXPECT_EQ(c->kind(), MemberKind::kSocket);
  EXPECT_EQ(ctx_->request(requests()[0]), nullptr);
  EXPECT_EQ(r->accept(c, buffer(head)), UV_ENOENT);  // never freed before the loop turns
  EXPECT_EQ(c->sendCopy("data: x\n\n", 9), SendResult::kSuccess);
  std::string expected = head + "data: early\n\ndata: x\n\n";
  ASSERT_TRUE(readUntil(p, expected.size()));
  EXPECT_EQ(p->got, expected);
  EXPECT_EQ(testing_io::countOpenFds(), fds);  // the duplicate replaced the original
  EXPECT_EQ(l->stats().adopted, 1u);
  EXPECT_EQ(l->stats().pending, 0u);
  // TCP_NODELAY carried over to the member's socket (same socket).
  closeClient(p);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), UV_EOF);
}

TEST_F(ListenerTest, RespondWritesTheResponseAndCloses) {
  Listener* l = listen();
  Pair* p = client(l);
  put(p, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(waitRequests(1));
  Pending* r = ctx_->request(requests()[0]);
  ASSERT_NE(r, nullptr);
  size_t bad = 99;
  EXPECT_EQ(r->respond(404, "Not Found", {{"Content-Length", "1"}, {"Bad Name", "x"}}, "", &bad),
            HeadStatus::kInvalidHeaderName);
  EXPECT_EQ(bad, 1u);  // index in the caller's list
  ASSERT_EQ(r->respond(404, "Not Found", {{"Content-Type", "text/plain"}, {"connection", "keep-alive"}},
                       "no such stream\n", nullptr),
            HeadStatus::kOk);
  EXPECT_EQ(ctx_->request(requests()[0]), nullptr);
  ASSERT_TRUE(readToEof(p));
  EXPECT_EQ(p->got,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 15\r\n"
            "Connection: close\r\n\r\nno such stream\n");
  closeClient(p);
  ASSERT_TRUE(runUntil([&] { return l->stats().pending == 0; }));
  EXPECT_EQ(l->stats().responded, 1u);
}

TEST_F(ListenerTest, ClientLeavingWhileWaitingFreesIt) {
  Listener* l = listen();
  Pair* p = client(l);
  put(p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(waitRequests(1));
  closeClient(p);
  ASSERT_TRUE(runUntil([&] { return l->stats().pending == 0; }));
  EXPECT_EQ(l->stats().client_gone, 1u);
  EXPECT_EQ(ctx_->request(requests()[0]), nullptr);
}

TEST_F(ListenerTest, CapClosesBeyondMaxPending) {
  ListenerOptions o;
  o.max_pending = 2;
  Listener* l = listen(o);
  Pair* a = client(l);
  Pair* b = client(l);
  ASSERT_TRUE(runUntil([&] { return l->stats().accepted == 2; }));
  Pair* c = client(l);
  ASSERT_TRUE(readToEof(c));
  EXPECT_EQ(c->got, "");
  EXPECT_EQ(l->stats().over_cap, 1u);
  EXPECT_EQ(l->stats().pending, 2u);
  put(a, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  put(b, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(waitRequests(2));
}

TEST_F(ListenerTest, CloseListenerClosesPendingsAndStopsAccepting) {
  Listener* l = listen();
  std::string host;
  int port = 0;
  ASSERT_EQ(l->address(&host, &port), 0);
  Pair* reading = client(l);
  put(reading, "GET / HT");
  Pair* waiting = client(l);
  put(waiting, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(waitRequests(1));
  uint32_t lid = l->id();
  l->close();
  l->close();  // idempotent
  listener_ = nullptr;
  EXPECT_EQ(ctx_->listener(lid), nullptr);
  EXPECT_EQ(ctx_->request(requests()[0]), nullptr);
  ASSERT_TRUE(readToEof(reading));
  ASSERT_TRUE(readToEof(waiting));
  // Nobody listens on the port any more.
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_NE(connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ::close(s);
}

TEST_F(ListenerTest, DestroyingTheContextClosesListenersAndPendings) {
  Listener* l = listen();
  Pair* reading = client(l);
  put(reading, "GET / HT");
  Pair* waiting = client(l);
  put(waiting, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(waitRequests(1));
  Pair* answering = client(l);
  put(answering, "BAD\r\n\r\n");
  ASSERT_TRUE(runUntil([&] { return l->stats().bad_heads == 1; }));
  listener_ = nullptr;
  destroyContext();  // TearDown asserts uv_loop_close() == 0 (LSan: no leak)
  for (Pair* p : {reading, waiting}) {
    char c;
    EXPECT_EQ(recv(p->client, &c, 1, 0), 0);  // closed
  }
}

TEST_F(ListenerTest, ListenErrorsLeaveNothingOpen) {
  Listener* l = listen();
  std::string host;
  int port = 0;
  ASSERT_EQ(l->address(&host, &port), 0);
  Listener* again = nullptr;
  EXPECT_EQ(Listener::open(ctx_, "127.0.0.1", port, ListenerOptions(), &again), UV_EADDRINUSE);
  EXPECT_EQ(again, nullptr);
  EXPECT_EQ(Listener::open(ctx_, "localhost", 0, ListenerOptions(), &again), UV_EINVAL);
  Listener* six = nullptr;
  if (Listener::open(ctx_, "::1", 0, ListenerOptions(), &six) == 0) {
    ASSERT_EQ(six->address(&host, &port), 0);
    EXPECT_EQ(host, "::1");
    EXPECT_GT(port, 0);
    six->close();
  }
  uv_run(&loop_, UV_RUN_NOWAIT);
}

TEST_F(ListenerTest, ReusePortLetsTwoListenersShareAPort) {
  ListenerOptions o;
  o.reuse_port = true;
  Listener* a = nullptr;
  ASSERT_EQ(Listener::open(ctx_, "127.0.0.1", 0, o, &a), 0);
  std::string host;
  int port = 0;
  ASSERT_EQ(a->address(&host, &port), 0);
  // Without the option on the second, the port is taken.
  Listener* plain = nullptr;
  EXPECT_EQ(Listener::open(ctx_, "127.0.0.1", port, ListenerOptions(), &plain), UV_EADDRINUSE);
  Listener* b = nullptr;
  ASSERT_EQ(Listener::open(ctx_, "127.0.0.1", port, o, &b), 0);
  int port_b = 0;
  ASSERT_EQ(b->address(&host, &port_b), 0);
  EXPECT_EQ(port_b, port);
  a->close();
  b->close();
  uv_run(&loop_, UV_RUN_NOWAIT);
}

TEST(ListenerSizes, Print) {
  std::printf("sizeof(Connection) = %zu, sizeof(Pending) = %zu, sizeof(Listener) = %zu\n",
              sizeof(Connection), sizeof(Pending), sizeof(Listener));
}

}  // namespace
}  // namespace sse
