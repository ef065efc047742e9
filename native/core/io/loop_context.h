// One per uv_loop_t: the flush handle, the one timer driving the timer
// wheel, the shared read buffer, the live members, the hub, the connection
// limits and the batched notifications to the embedder.
//
// The process-wide bus: every LoopContext of the process (the main thread's
// and each Worker's) is listed in one mutex-guarded vector. publish() copies
// a broadcast into every other context's inbox and wakes its loop with
// uv_async_send; each loop then broadcasts it to its own members on its own
// thread, in the order the publisher published. A context leaves the bus
// (under the lock) before its async handle closes, so a publisher never
// touches a context that is going away.
#ifndef SSE_CORE_IO_LOOP_CONTEXT_H_
#define SSE_CORE_IO_LOOP_CONTEXT_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/frame.h"
#include "core/hub.h"
#include "core/shared_buffer.h"
#include "core/stats.h"
#include "core/status.h"
#include "core/timer_wheel.h"

namespace sse {

class Connection;
class Listener;
class Pending;
class SendRing;

// One event for the embedder; `connection` stays valid until onNotifications
// returns, and for kClose it is freed right after.
struct Notification {
  // 3 is the binding's DATA_ACCEPTED (native/addon/addon.h). kRequest: a
  // listener's connection sent a complete head; `connection` is null,
  // `user_data` the pending's id and `status` the listener's id (see
  // LoopContext::request; it may have gone by the time this is delivered).
  enum Kind : uint8_t { kDrain = 0, kClose = 1, kData = 2, kRequest = 4 };
  Connection* connection;
  void* user_data;
  Kind kind;
  // kClose: 0 when the embedder closed it (close/closeAll), otherwise why:
  // UV_EOF (client left or half-closed), UV_ECONNRESET/UV_EPIPE, UV_ENOBUFS
  // (slow consumer), UV_ETIMEDOUT (idle/max duration/drain limit).
  // kDrain, kData: 0.
  int status;
  // kData: the bytes for an external member's sink (one reference, released
  // after onNotifications returns; share() it to keep it). Otherwise null.
  SharedBuffer* data;
};

// Receives the notifications of one loop turn in one call, from the loop's
// thread (a uv_prepare or uv_check callback); it may call send/close/flush/closeAll,
// acknowledge and destroy, and must not free a Connection itself.
class LoopObserver {
 public:
  virtual ~LoopObserver() = default;
  virtual void onNotifications(const Notification* items, size_t n) = 0;
  // A broadcast published on another loop (another thread), after this
  // loop's hub queued it on its members, when the key has function members
  // here: the embedder calls them with the message.
  virtual void onRemoteBroadcast(std::string_view key, const Message& msg,
                                 const std::vector<HubMember*>& functions) {}
};

// A broadcast in transit between loops: owned copies of the fields.
struct PostedMessage {
  std::string key, event, data, id, comment;
  uint64_t retry = 0;
  bool has_event = false, has_data = false, has_id = false, has_comment = false,
       has_retry = false;
  Message view() const;
};

// Connection limits, checked by the embedder before it opens a stream.
struct ConnectionLimits {
  uint64_t max_connections = UINT64_MAX;  // open streams of this loop
  uint64_t max_per_key = UINT64_MAX;      // members of one key
  uint64_t max_per_address = UINT64_MAX;  // open streams of one client address
};

// Owns the per-loop machinery; lives until destroy() completes. Every method
// runs on the loop's thread only (publish() excepted).
class LoopContext final : private HubHost {
 public:
  // Returns a context on `loop` (which must outlive it), or nullptr without
  // memory; `observer` (may be null) must outlive the context.
  static LoopContext* create(uv_loop_t* loop, LoopObserver* observer);

  // Closes every live stream: graceful drains its queue, then ends it;
  // each close is reported by a kClose notification as usual. Function
  // members are not streams and stay.
  void closeAll(bool graceful);

  // Abruptly closes every handle (connections, prepare, check, timer) without
  // delivering notifications; once all close callbacks ran it frees the
  // connections and this context, then calls done(arg). Idempotent.
  void destroy(void (*done)(void* arg), void* arg);

  // Calls fn(connection, arg) for every stream not yet closed (open or
  // closing), e.g. to send a last event before closeAll; fn may send and
  // close but must not call destroy().
  void forEach(void (*fn)(Connection* c, void* arg), void* arg);

  // Broadcasts on this loop's hub (see Hub::broadcast), then posts it to
  // every other loop of the process (the bus, above).
  FrameStatus broadcast(std::string_view key, const Message& msg, BroadcastResult* result,
                        std::vector<HubMember*>* functions);
  // Posts a copy of the broadcast to every other live LoopContext; any
  // thread may call it for its own context. Returns how many it reached.
  size_t publish(std::string_view key, const Message& msg);

  void setLimits(const ConnectionLimits& limits) { limits_ = limits; }
  const ConnectionLimits& limits() const { return limits_; }
  // The limit a new stream from `address` (may be empty) joining `keys`
  // would pass (kLimit*), or kOk. Counts the refusal in stats.
  Status checkLimits(std::string_view address, const std::vector<std::string>& keys);
  size_t addressCount(std::string_view address) const;

  uv_loop_t* loop() const { return loop_; }
  uint64_t now() const { return uv_now(loop_); }
  // Counts prepare phases, each followed by a poll phase: a member can only
  // make progress across one (see Connection::judge).
  uint64_t polls() const { return polls_; }
  const LoopStats& stats() const { return stats_; }
  // True when the flush submits its sends through io_uring (send_ring.h).
  bool batching() const { return ring_ != nullptr; }
  Hub& hub() { return hub_; }
  // Timer period in ms (the heartbeat/timeout granularity).
  uint64_t tickMs() const { return tick_ms_; }
  // The open listener with this id (see Listener::open), or nullptr.
  Listener* listener(uint32_t id) const;
  // The pending connection with this id while it waits for an answer, or
  // nullptr (answered, expired, client gone, never existed).
  Pending* request(uint32_t id) const;

 private:
  friend class Connection;
  friend class Listener;
  friend class Pending;
  static constexpr size_t kReadBufferSize = 16 * 1024;
  static constexpr uint64_t kMaxTickMs = 1000;

  LoopContext(uv_loop_t* loop, LoopObserver* observer);
  ~LoopContext();

  // HubHost.
  uint64_t hubNow() override { return now(); }
  void hubWake() override { wake(); }
  bool hubTearingDown() const override { return destroying_; }

  // For Connection.
  void link(Connection* c);
  void unlink(Connection* c);
  void markDirty(Connection* c);
  void notify(Connection* c, Notification::Kind kind, int status);
  void notifyData(Connection* c, SharedBuffer* data);
  void noteTimings(uint64_t heartbeat_ms, uint64_t idle_ms, uint64_t max_ms, uint64_t slow_ms);
  const std::string* holdAddress(std::string_view address);
  void releaseAddress(const std::string* address);
  // Frees a closed connection now, or once its failed socket handle closed.
  void release(Connection* c);
  void closingHandle() { ++pending_closes_; }
  void handleClosed();

  // For Listener and Pending: ids of listeners and of waiting pendings.
  uint32_t addListener(Listener* l);
  void removeListener(uint32_t id);
  uint32_t addRequest(Pending* p);
  void removeRequest(uint32_t id);
  void notifyRequest(uint32_t pending_id, uint32_t listener_id);

  void wake();
  void flushDirty();
#ifdef SSE_HAVE_LIBURING
  bool ringPrepare(Connection* c);
  void submitRing();
#endif
  void deliver();
  void startTimer();

  // The flush: seal the hub's batches, write the dirty members, deliver the
  // notifications (up to kMaxRounds times); stops both handles when idle.
  void runFlush();
  static void prepareCb(uv_prepare_t* handle);
  static void checkCb(uv_check_t* handle);
  static void timerCb(uv_timer_t* handle);
  static void fireCb(TimerEntry* e, void* arg);
  static void contextHandleCloseCb(uv_handle_t* handle);
  static void asyncCb(uv_async_t* handle);

  uv_loop_t* loop_;
  LoopObserver* observer_;
  // The flush runs in whichever of these two comes first after a wake():
  // prepare (before the loop polls: broadcasts made in timers, setImmediate
  // and close callbacks) or check (right after the poll phase: broadcasts
  // made in I/O callbacks go out before setImmediate callbacks and before
  // the next turn's timers). Both are active only while there is work.
  uv_prepare_t prepare_;
  uv_check_t check_;
  uint64_t polls_ = 0;
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
  std::vector<HubMember*> scratch_functions_;
  BufferRef keepalive_;  // ": keepalive\n\n", shared by every heartbeat
  LoopStats stats_;
  // The batched flush's io_uring (send_ring.h) when wanted and available;
  // null otherwise.
  SendRing* ring_ = nullptr;
  ConnectionLimits limits_;
  // Open streams per client address; keys are stable (node-based map), so
  // a connection keeps a pointer to its own.
  std::unordered_map<std::string, size_t> per_address_;
  TimerWheel wheel_;
  // Open listeners and the pendings waiting for an answer, by id. Ids count
  // up (wrapping below 2^31, skipping those in use): an answer for an old
  // pending never reaches a new one.
  std::unordered_map<uint32_t, Listener*> listeners_;
  std::unordered_map<uint32_t, Pending*> requests_;
  uint32_t next_listener_id_ = 1;
  uint32_t next_request_id_ = 1;
  Hub hub_{this};
  char read_buffer_[kReadBufferSize];  // reads are discarded
};

}  // namespace sse

#endif  // SSE_CORE_IO_LOOP_CONTEXT_H_
