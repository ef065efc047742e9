// The core's own HTTP listener: accepts connections on the loop itself,
// reads and parses each request head (core/http_request.h) without Node's
// per-connection objects, and hands the embedder only the parsed head. The
// embedder then either turns the connection into a member (Pending::accept,
// the adopted-stream machinery) or answers it (Pending::respond).
//
// A connection between accept and answer is a Pending: its own uv_tcp_t and
// a head buffer growing up to max_head_bytes. One uv_timer per listener
// closes pendings whose head or answer is late (head_timeout_ms each): the
// pendings sit in one list in deadline order (every phase lasts the same
// head_timeout_ms, so appending keeps it sorted), and a tick costs what is
// due. Bad heads are answered by the core (400/413/431/505, Connection:
// close) and never reach the embedder.
#ifndef SSE_CORE_IO_LISTENER_H_
#define SSE_CORE_IO_LISTENER_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_head.h"
#include "core/http_request.h"
#include "core/io/loop_context.h"
#include "core/shared_buffer.h"

namespace sse {

class Connection;

struct ListenerOptions {
  int backlog = 511;
  size_t max_head_bytes = 8192;      // a longer head is answered 431
  uint64_t head_timeout_ms = 10000;  // for the head to arrive, then again for the answer
  size_t max_pending = 4096;         // beyond it, accepted and closed at once
  // SO_REUSEPORT: several listeners (one per thread or process) bind the
  // same address and port; the kernel spreads new connections over them.
  bool reuse_port = false;
};

// Counters of one listener; `pending` is current, the rest cumulative.
struct ListenerStats {
  uint64_t accepted = 0;         // connections accepted, over the cap included
  uint64_t pending = 0;          // reading a head, waiting for an answer or being answered
  uint64_t requests = 0;         // complete heads handed to the embedder
  uint64_t bad_heads = 0;        // refused heads the core answered itself
  uint64_t head_timeouts = 0;    // closed: no complete head within head_timeout_ms
  uint64_t answer_timeouts = 0;  // closed: no answer within head_timeout_ms of the head
  uint64_t over_cap = 0;         // closed at once: max_pending were pending
  uint64_t adopted = 0;          // turned into members (accept)
  uint64_t responded = 0;        // answered by the embedder (respond)
  uint64_t client_gone = 0;      // client left while its head waited for an answer
  uint64_t accept_errors = 0;    // the listen socket reported an error
};

// One accepted connection until it is answered; owned by its Listener, freed
// in its close callback. Named by id() (never 0, not reused while the loop
// keeps fewer than 2^31 pendings); LoopContext::request(id) finds it while
// it waits for an answer.
class Pending final {
 public:
  uint32_t id() const { return id_; }
  uint32_t listenerId() const;
  // Parses the head again into *out (views into this pending's buffer, valid
  // until it is answered). Only while waiting for an answer.
  void head(RequestHead* out) const;
  // Bytes the client sent past its head (a pipelined request; never answered).
  uint64_t extraBytes() const { return extra_; }
  // The client's address and port; false if the socket cannot tell.
  bool peer(std::string* address, int* port) const;
  // Turns held external member `member` into a socket member on this
  // connection (Connection::adoptSocket: `head` goes first), then closes
  // this pending. 0; UV_ENOENT if it is not waiting for an answer;
  // UV_EINVAL if `member` is not a held open external member (both then
  // unchanged); another negative UV_E* code (out of fds or memory): the
  // member is unchanged and the connection closed.
  int accept(Connection* member, BufferRef head);
  // Writes "HTTP/1.1 status reason", `headers` (Content-Length, Connection
  // and Transfer-Encoding given there are left out), Content-Length and
  // Connection: close, then `body`; then shuts down and closes (within
  // head_timeout_ms). A bad status, reason or header: that HeadStatus
  // (*bad_index names the header), nothing written, still waiting. Only
  // while waiting (LoopContext::request finds it); otherwise a no-op
  // returning kOk.
  HeadStatus respond(int status, std::string_view reason, const HeaderList& headers,
                     std::string_view body, size_t* bad_index);

 private:
  friend class Listener;
  enum class State : uint8_t { kReading, kWaiting, kAnswering, kClosing };
  struct Answer;

  explicit Pending(class Listener* listener);
  ~Pending();

  // Queues `bytes` (the whole response), then shutdown and close.
  void answer(std::string bytes);
  void answerBadHead(RequestHeadStatus st);
  void onRead(size_t n);
  void closeNow();

  static void allocCb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void readCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void writeCb(uv_write_t* req, int status);
  static void shutdownCb(uv_shutdown_t* req, int status);
  static void closeCb(uv_handle_t* handle);

  uv_tcp_t tcp_;
  class Listener* listener_;
  Pending* prev_ = nullptr;  // the listener's list, in deadline order
  Pending* next_ = nullptr;
  Answer* answer_ = nullptr;  // while answering
  char* buf_ = nullptr;       // the head read so far (freed once answered)
  uint64_t deadline_ms_ = 0;
  uint64_t extra_ = 0;
  uint32_t len_ = 0, cap_ = 0;
  uint32_t id_ = 0;
  State state_ = State::kReading;
};

// Owned by its LoopContext from open() until close() and its handles'
// callbacks ran (then freed, after its last pending). Loop thread only.
class Listener final {
 public:
  // Binds `host` (an IPv4 or IPv6 address, no name lookup) and `port` (0:
  // any), listens and registers the listener with ctx (LoopContext::listener
  // finds it by id()). 0 and *out set; or a negative UV_E* code (UV_EINVAL
  // for a host that is not an address, UV_EADDRINUSE...) with nothing left
  // open once the loop turned.
  static int open(LoopContext* ctx, std::string_view host, int port,
                  const ListenerOptions& options, Listener** out);

  uint32_t id() const { return id_; }
  // The bound address (e.g. "127.0.0.1") and port; a negative UV_E* code
  // if the socket cannot tell.
  int address(std::string* host, int* port) const;
  // Stops accepting and closes every pending (unanswered) connection.
  // Idempotent; the listener is unregistered at once.
  void close();
  // Whether the listening socket keeps the loop alive (it does at first,
  // as a Node server does); connections being read or answered always do.
  void setRef(bool ref);
  const ListenerStats& stats() const { return stats_; }
  const ListenerOptions& options() const { return options_; }

 private:
  friend class Pending;
  friend class LoopContext;

  Listener(LoopContext* ctx, const ListenerOptions& options);
  ~Listener() = default;

  // Puts p at the tail of the deadline list, due head_timeout_ms from now.
  void schedule(Pending* p);
  void unschedule(Pending* p);
  void pendingFreed();
  void maybeFree();

  static void connectionCb(uv_stream_t* server, int status);
  static void timerCb(uv_timer_t* handle);
  static void handleCloseCb(uv_handle_t* handle);
  static void overCapCloseCb(uv_handle_t* handle);

  uv_tcp_t tcp_;
  uv_timer_t timer_;
  LoopContext* ctx_;
  ListenerOptions options_;
  ListenerStats stats_;
  Pending* first_ = nullptr;  // deadline order
  Pending* last_ = nullptr;
  RequestHead scratch_;  // reused by every parse (its vector is reserved once)
  size_t live_ = 0;      // pendings not yet freed
  int handles_ = 0;      // own handles not yet closed
  uint32_t id_ = 0;
  bool closed_ = false;
};

}  // namespace sse

#endif  // SSE_CORE_IO_LISTENER_H_
