// One member of a loop: an SSE stream and its write queue of shared buffer
// references, cork, backpressure, heartbeats, timeouts and close. A member
// is one of three kinds:
//  - a socket: a uv_tcp_t on a duplicate of Node's fd, written by the core;
//  - external: a stream the embedder writes (res.write, a web stream). The
//    core queues its frames exactly as for a socket and, once per loop turn,
//    hands what is queued to the embedder as one buffer (a kData
//    notification); the embedder acknowledges it when its sink took it, and
//    only then is the next buffer handed over. So the queue, the
//    high-water mark, the slow-consumer policy, heartbeats and timeouts are
//    this one implementation for every sink. An external member is created
//    *held* (queueing, handing nothing) until the embedder attaches a sink
//    or turns it into a socket member with adoptSocket() (a POST stream
//    adopted once its body was read keeps its queue and its keys);
//  - a function: a hub member the embedder calls with each broadcast
//    message; it has no queue.
#ifndef SSE_CORE_IO_CONNECTION_H_
#define SSE_CORE_IO_CONNECTION_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "core/hub_member.h"
#include "core/io/loop_context.h"
#include "core/io/write_queue.h"
#include "core/shared_buffer.h"
#include "core/timer_wheel.h"

namespace sse {

// Per-connection limits; 0 turns a timing off.
//
// A slow consumer is judged after trying to write, and by time, never by
// the size of one loop turn's sends: a member is slow when its queue stays
// above high_water_mark with no byte taken by the kernel (or the sink) for
// slow_consumer_ms, or when more than max_buffered of its own bytes wait
// behind a write that made no progress since the previous flush. Its charge
// for a broadcast frame is the frame's share (size / members it was queued
// on), not a copy. The policy then closes it or drops what it is sent until
// it takes bytes again.
struct ConnectionOptions {
  size_t high_water_mark = 64 * 1024;
  size_t max_buffered = 1024 * 1024;  // memory cap on waiting bytes (see above)
  uint64_t slow_consumer_ms = 10000;  // above high_water_mark this long, stuck
  SlowConsumerPolicy policy = SlowConsumerPolicy::kClose;
  uint64_t heartbeat_ms = 15000;  // ": keepalive" after this long unwritten
  uint64_t idle_timeout_ms = 0;   // graceful close after no send() this long
  uint64_t max_duration_ms = 0;   // graceful close this long after opening
};

enum class MemberKind : uint8_t { kSocket, kExternal, kFunction };

// Owned by its LoopContext from creation until its kClose notification has
// been delivered (then freed); used on the loop's thread only.
class Connection final : public HubMember {
 public:
  // Duplicates `fd` (the original stays the caller's to close), takes it off
  // the loop's epoll set, queues `head` and starts reading; returns 0 and
  // sets *out, or a negative UV_E* code leaving nothing behind (a handle
  // that was initialised is closed and freed on the next loop turn).
  static int adopt(LoopContext* ctx, int fd, const ConnectionOptions& options,
                   BufferRef head, void* user_data, Connection** out);
  // A held external member (see above); nullptr without memory. `address`
  // (may be empty) is counted for the per-address limit while it is open.
  static Connection* createExternal(LoopContext* ctx, const ConnectionOptions& options,
                                    std::string_view address, void* user_data);
  // A function member; nullptr without memory.
  static Connection* createFunction(LoopContext* ctx, void* user_data);

  // Held external -> socket member: duplicates `fd` as adopt() does and puts
  // `head` before everything already queued. 0, or a negative UV_E* code
  // with the member unchanged (still held).
  int adoptSocket(int fd, BufferRef head);
  // Held external -> handed its queue once per loop turn.
  void attach();
  // External: the embedder's sink took the last handed buffer.
  void acknowledge();

  // Queues a reference to `frame` (no copy) for the next flush, charged
  // `charge` bytes against max_buffered (default: its size).
  SendResult send(BufferRef frame);
  SendResult send(BufferRef frame, uint32_t charge);
  // Queues a private copy of `size` bytes.
  SendResult sendCopy(const char* data, size_t size);
  // Writes (or hands over) what is queued now instead of at the end of the
  // loop turn.
  void flush();
  // graceful: stop accepting sends, write the queue, FIN, then close;
  // otherwise close at once, dropping the queue. Idempotent; the kClose
  // notification follows on a later loop turn.
  void close(bool graceful);
  // The peer is gone (an external sink saw its client leave): closes at once
  // with `status` (UV_EOF for a normal leave).
  void gone(int status) { closeWith(false, status); }

  // Bytes queued and not yet accepted by the kernel (or the embedder's
  // sink), bounded by options.max_buffered.
  size_t bufferedAmount() const { return queue_.bytes(); }
  // True until close() is called or the client leaves.
  bool isOpen() const { return state_ == State::kOpen; }
  MemberKind kind() const { return kind_; }
  // Per-stream figures: event frames queued, bytes taken by the kernel or
  // the sink, ms from open to the first event (-1: none yet), ms open.
  uint64_t eventsQueued() const { return events_; }
  uint64_t bytesWritten() const { return bytes_; }
  int64_t timeToFirstEventMs() const {
    return first_event_ms_ == 0 ? -1 : static_cast<int64_t>(first_event_ms_ - opened_ms_);
  }
  uint64_t openMs() const { return (closed_ms_ != 0 ? closed_ms_ : ctx_->now()) - opened_ms_; }
  bool held() const { return kind_ == MemberKind::kExternal && !deliverable_; }
  void* user_data() const { return user_data_; }
  void set_user_data(void* user_data) { user_data_ = user_data; }
  LoopContext* context() const { return ctx_; }

  // HubMember.
  bool hubOpen() const override { return isOpen(); }
  SendResult hubSend(BufferRef frame) override { return send(std::move(frame)); }
  void hubEnqueueBatch(const BufferRef& joined, const std::vector<BufferRef>& frames,
                       uint32_t sharers) override;
  bool hubAboveHighWater() const override {
    return state_ == State::kOpen && queue_.bytes() > high_water_mark_;
  }

  // Connections live in per-thread slabs, away from the short-lived
  // allocations of the embedder's per-request work: interleaved with those,
  // each long-lived connection would pin a partly used malloc page.
  static void* operator new(size_t size, const std::nothrow_t&) noexcept;
  static void operator delete(void* p) noexcept;

 private:
  friend class LoopContext;
  // kDraining: graceful close writing its queue; kShutdown: uv_shutdown in
  // flight; kClosing: uv_close called; kClosed: closed, kClose pending.
  enum class State : uint8_t { kOpen, kDraining, kShutdown, kClosing, kClosed };
  static constexpr uint32_t kMaxIov = 256;            // iovecs per writev
  static constexpr uint64_t kDrainTimeoutMs = 10000;  // graceful close limit

  Connection(LoopContext* ctx, MemberKind kind, const ConnectionOptions& options,
             void* user_data);
  ~Connection();

  // Takes the reference `buf` charged `charge`; `events` frames in it count
  // as events (0 for a heartbeat).
  SendResult enqueue(SharedBuffer* buf, uint32_t events, uint32_t charge);
  // The kernel or the sink took bytes.
  void progress();
  // After a write attempt: applies the policy to a member over its memory
  // cap that took nothing since the previous attempt.
  void judge();
  // Applies the slow-consumer policy: close, or refuse sends until progress.
  void slow();
  int openSocket(int fd);
  void startShutdown();
  void flushNow();
  void writeNow();
  bool wrote(int r, size_t total);
  void afterWrite();
  bool ringWants() const;
  void ringDone(int result, size_t total);
  void ringFallback();
  void handOff();
  void writeRest();
  void maybeDrain();
  void closeWith(bool graceful, int status);
  // Closes a member with no handle (external, function) at once.
  void finish(int status);
  // Heartbeats and timeouts, from the loop's timer wheel; then reschedules.
  void tick(uint64_t now);
  void schedule(uint64_t now);

  static void allocCb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void readCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void writeCb(uv_write_t* req, int status);
  static void shutdownCb(uv_shutdown_t* req, int status);
  static void closeCb(uv_handle_t* handle);
  static void failedAdoptCloseCb(uv_handle_t* handle);

  uv_tcp_t tcp_;  // initialised for socket members only
  TimerEntry timer_;
  LoopContext* ctx_;
  void* user_data_;
  const std::string* address_ = nullptr;  // key in ctx_'s per-address counts
  // Intrusive links owned by ctx_: all live connections, and dirty ones.
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;
  Connection* next_dirty_ = nullptr;
  uv_write_t* write_req_ = nullptr;  // non-null while a uv_write is in flight
  // Its in-flight slots belong to write_req_ (socket) or to the buffer
  // handed to the embedder (external) until writeCb / acknowledge().
  detail::WriteQueue queue_;
  size_t high_water_mark_;
  size_t max_buffered_;
  uint32_t heartbeat_ms_, idle_timeout_ms_, max_duration_ms_, slow_consumer_ms_;
  uint64_t opened_ms_, last_write_ms_, last_event_ms_, close_started_ms_ = 0;
  // Last time bytes were taken, or the queue rose above the high-water mark.
  uint64_t progress_ms_ = 0;
  size_t uv_queued_ = 0;  // libuv's write queue size at the last judgement
  uint64_t judged_polls_ = UINT64_MAX;  // ctx_->polls() at the last verdict
  uint64_t first_event_ms_ = 0, closed_ms_ = 0;
  uint64_t events_ = 0, bytes_ = 0;
  int close_status_ = 0;
  State state_ = State::kOpen;
  MemberKind kind_;
  SlowConsumerPolicy policy_;
  bool dirty_ = false;
  bool ring_pending_ = false;  // a send of its queue is in the loop's SendRing
  bool want_drain_ = false;    // a send returned kBackpressure or kDropped
  bool progressed_ = false;    // bytes taken since the last judgement
  bool stalled_ = false;       // kDrop: judged slow, sends dropped until progress
  bool deliverable_ = false;   // external: a sink is attached
  bool handed_ = false;        // external: a buffer is with the embedder
  bool handle_pending_ = false;  // a failed socket's uv_close has not completed
  bool free_pending_ = false;    // released while handle_pending_: freed by its callback
};

}  // namespace sse

#endif  // SSE_CORE_IO_CONNECTION_H_
