// One per uv_loop_t: the flush handle, the one timer, the shared read buffer,
// the live connections and the batched notifications to the embedder.
#ifndef SSE_CORE_IO_LOOP_CONTEXT_H_
#define SSE_CORE_IO_LOOP_CONTEXT_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/frame.h"
#include "core/io/hub.h"
#include "core/shared_buffer.h"

namespace sse {

class Connection;

// One event for the embedder; `connection` stays valid until onNotifications
// returns, and for kClose it is freed right after.
struct Notification {
  enum Kind : uint8_t { kDrain, kClose };
  Connection* connection;
  void* user_data;
  Kind kind;
  // kClose: 0 when the embedder closed it (close/closeAll), otherwise why:
  // UV_EOF (client left or half-closed), UV_ECONNRESET/UV_EPIPE, UV_ENOBUFS
  // (slow consumer), UV_ETIMEDOUT (idle/max duration/drain limit).
  // kDrain: always 0.
  int status;
};

// Receives the notifications of one loop turn in one call, from the loop's
// thread (a uv_prepare callback); it may call send/close/flush/closeAll and
// destroy, and must not free a Connection itself.
class LoopObserver {
 public:
  virtual ~LoopObserver() = default;
  virtual void onNotifications(const Notification* items, size_t n) = 0;
  // A broadcast published on another loop (another thread) after this
  // loop's hub sent it to its adopted members: `frame` is its encoding
  // here, for the members the embedder writes itself.
  virtual void onRemoteBroadcast(std::string_view key, const Message& msg,
                                 const BufferRef& frame) {}
};

// A broadcast in transit between loops: owned copies of the fields.
struct PostedMessage {
  std::string key, event, data, id, comment;
  uint64_t retry = 0;
  bool has_event = false, has_data = false, has_id = false, has_comment = false,
       has_retry = false;
  Message view() const;
};

// Counters for metrics; plain fields, read on the loop's thread.
struct LoopStats {
  uint64_t connections_open = 0;     // adopted and not yet closed
  uint64_t connections_adopted = 0;  // total ever adopted
  uint64_t bytes_written = 0;        // accepted by the kernel
  uint64_t heartbeats_sent = 0;
  uint64_t drops = 0;                 // frames refused under kDrop
  uint64_t slow_consumer_closes = 0;  // connections closed under kClose
  uint64_t try_writes = 0;            // uv_try_write calls (one writev each)
  uint64_t queued_writes = 0;         // uv_write calls (kernel was full)
  uint64_t notification_batches = 0;  // onNotifications calls
  uint64_t events_sent = 0;           // event frames queued on connections
  uint64_t broadcasts = 0;            // Hub::broadcast calls that encoded
  uint64_t replayed_events = 0;       // frames replayed from rings
  uint64_t replay_gaps = 0;           // resumes that could not be served
};

// Owns the per-loop machinery; lives until destroy() completes. Every method
// runs on the loop's thread only.
class LoopContext {
 public:
  // Returns a context on `loop` (which must outlive it), or nullptr without
  // memory; `observer` (may be null) must outlive the context.
  static LoopContext* create(uv_loop_t* loop, LoopObserver* observer);

  // Closes every live connection: graceful drains its queue, then sends FIN;
  // each close is reported by a kClose notification as usual.
  void closeAll(bool graceful);

  // Abruptly closes every handle (connections, prepare, timer) without
  // delivering notifications; once all close callbacks ran it frees the
  // connections and this context, then calls done(arg). Idempotent.
  void destroy(void (*done)(void* arg), void* arg);

  // Calls fn(connection, arg) for every connection not yet closed (open or
  // closing), e.g. to send a last event before closeAll, or to find the
  // user_data of connections that destroy() will free without reporting;
  // fn may send and close but must not call destroy().
  void forEach(void (*fn)(Connection* c, void* arg), void* arg);

  uv_loop_t* loop() const { return loop_; }
  const LoopStats& stats() const { return stats_; }
  Hub& hub() { return hub_; }
  // Timer period in ms (the heartbeat/timeout granularity).
  uint64_t tickMs() const { return tick_ms_; }
  // Hands a copy of the broadcast to every other live LoopContext of the
  // process (Workers' loops and the main one); each broadcasts it on its
  // own thread, in the order this thread published. Any thread may call
  // it for its own context; returns how many loops it was posted to.
  size_t publish(std::string_view key, const Message& msg);

 private:
  friend class Connection;
  friend class Hub;
  static constexpr size_t kReadBufferSize = 16 * 1024;
  static constexpr uint64_t kMaxTickMs = 1000;

  LoopContext(uv_loop_t* loop, LoopObserver* observer);
  ~LoopContext();

  // For Connection.
  void link(Connection* c);
  void unlink(Connection* c);
  void markDirty(Connection* c);
  void notify(Connection* c, Notification::Kind kind, int status);
  void noteTimings(uint64_t heartbeat_ms, uint64_t idle_ms, uint64_t max_ms);
  void closingHandle() { ++pending_closes_; }
  void handleClosed();

  void wake();
  void flushDirty();
  void deliver();

  static void prepareCb(uv_prepare_t* handle);
  static void timerCb(uv_timer_t* handle);
  static void contextHandleCloseCb(uv_handle_t* handle);
  static void asyncCb(uv_async_t* handle);

  uv_loop_t* loop_;
  LoopObserver* observer_;
  uv_prepare_t prepare_;
  uv_timer_t timer_;
  uv_async_t async_;  // wakes this loop for posted broadcasts
  std::mutex inbox_mutex_;
  std::vector<PostedMessage> inbox_;  // guarded by inbox_mutex_
  bool prepare_active_ = false;
  bool destroying_ = false;
  uint64_t tick_ms_ = kMaxTickMs;
  size_t pending_closes_ = 0;  // uv_close calls whose callback is pending
  void (*done_)(void*) = nullptr;
  void* done_arg_ = nullptr;
  Connection* live_ = nullptr;   // intrusive doubly linked
  Connection* dirty_ = nullptr;  // intrusive singly linked
  std::vector<Notification> pending_;
  std::vector<Notification> delivering_;
  BufferRef keepalive_;  // ": keepalive\n\n", shared by every heartbeat
  LoopStats stats_;
  Hub hub_{this};
  char read_buffer_[kReadBufferSize];  // reads are discarded
};

}  // namespace sse

#endif  // SSE_CORE_IO_LOOP_CONTEXT_H_
