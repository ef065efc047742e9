// One adopted SSE connection: a uv_tcp_t on a duplicate of Node's fd, its
// write queue of shared buffer references, cork, backpressure and close.
#ifndef SSE_CORE_IO_CONNECTION_H_
#define SSE_CORE_IO_CONNECTION_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "core/io/loop_context.h"
#include "core/io/write_queue.h"
#include "core/shared_buffer.h"

namespace sse {

struct HubKey;

// What happens to a send that would take the queue past max_buffered.
enum class SlowConsumerPolicy : uint8_t { kClose, kDrop };

// Outcome of a send: queued (kSuccess), queued but above the high-water mark
// (kBackpressure; a kDrain notification follows), not queued under kDrop
// (kDropped), or not queued because the connection is closing (kClosed).
enum class SendResult : uint8_t { kSuccess, kBackpressure, kDropped, kClosed };

// Per-connection limits; 0 turns a timing off.
struct ConnectionOptions {
  size_t high_water_mark = 64 * 1024;
  size_t max_buffered = 1024 * 1024;  // hard bound on queued bytes
  SlowConsumerPolicy policy = SlowConsumerPolicy::kClose;
  uint64_t heartbeat_ms = 15000;  // ": keepalive" after this long unwritten
  uint64_t idle_timeout_ms = 0;   // graceful close after no send() this long
  uint64_t max_duration_ms = 0;   // graceful close this long after adopting
};

// Owned by its LoopContext from adopt() until its kClose notification has
// been delivered (then freed); used on the loop's thread only.
class Connection {
 public:
  // Duplicates `fd` (the original stays the caller's to close), takes it off
  // the loop's epoll set, queues `head` and starts reading; returns 0 and
  // sets *out, or a negative UV_E* code leaving nothing behind (a handle
  // that was initialised is closed and freed on the next loop turn).
  static int adopt(LoopContext* ctx, int fd, const ConnectionOptions& options,
                   BufferRef head, void* user_data, Connection** out);

  // Queues a reference to `frame` (no copy) for the next flush.
  SendResult send(BufferRef frame);
  // Queues a private copy of `size` bytes.
  SendResult sendCopy(const char* data, size_t size);
  // Writes what is queued now instead of at the end of the loop turn.
  void flush();
  // graceful: stop accepting sends, write the queue, FIN, then close;
  // otherwise close at once, dropping the queue. Idempotent; the kClose
  // notification follows on a later loop turn.
  void close(bool graceful);

  // Bytes queued and not yet accepted by the kernel (bounded by
  // options.max_buffered).
  size_t bufferedAmount() const { return queue_.bytes(); }
  // True until close() is called or the client leaves.
  bool isOpen() const { return state_ == State::kOpen; }
  void* user_data() const { return user_data_; }
  void set_user_data(void* user_data) { user_data_ = user_data; }
  LoopContext* context() const { return ctx_; }

  // Connections live in per-thread slabs, away from the short-lived
  // allocations of the embedder's per-request work: interleaved with those,
  // each long-lived connection would pin a partly used malloc page.
  static void* operator new(size_t size, const std::nothrow_t&) noexcept;
  static void operator delete(void* p) noexcept;

 private:
  friend class LoopContext;
  friend class Hub;
  // kDraining: graceful close writing its queue; kShutdown: uv_shutdown in
  // flight; kClosing: uv_close called; kClosed: close callback ran.
  enum class State : uint8_t { kOpen, kDraining, kShutdown, kClosing, kClosed };
  static constexpr uint32_t kMaxIov = 256;            // iovecs per writev
  static constexpr uint64_t kDrainTimeoutMs = 10000;  // graceful close limit

  Connection(LoopContext* ctx, const ConnectionOptions& options,
             void* user_data);
  ~Connection();

  // Takes the reference `buf`; `events` frames in it count as events (0 for
  // a heartbeat).
  SendResult enqueue(SharedBuffer* buf, uint32_t events);
  // A hub batch: `joined` (all of `frames`, concatenated) if it fits under
  // max_buffered, else the frames one by one so the policy applies at the
  // same event it would have without batching.
  void enqueueBatch(const BufferRef& joined, const std::vector<BufferRef>& frames);
  void startShutdown();
  void flushNow();
  void writeRest();
  void maybeDrain();
  void closeWith(bool graceful, int status);
  void tick(uint64_t now);

  static void allocCb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void readCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void writeCb(uv_write_t* req, int status);
  static void shutdownCb(uv_shutdown_t* req, int status);
  static void closeCb(uv_handle_t* handle);
  static void failedAdoptCloseCb(uv_handle_t* handle);

  uv_tcp_t tcp_;
  LoopContext* ctx_;
  void* user_data_;
  // Intrusive links owned by ctx_: all live connections, and dirty ones.
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;
  Connection* next_dirty_ = nullptr;
  uv_write_t* write_req_ = nullptr;  // non-null while a uv_write is in flight
  // Its in-flight slots belong to write_req_ until writeCb.
  detail::WriteQueue queue_;
  size_t high_water_mark_;
  size_t max_buffered_;
  uint32_t heartbeat_ms_, idle_timeout_ms_, max_duration_ms_;
  uint64_t opened_ms_, last_write_ms_, last_event_ms_, close_started_ms_ = 0;
  int close_status_ = 0;
  State state_ = State::kOpen;
  SlowConsumerPolicy policy_;
  std::vector<HubKey*> keys_;  // hub keys it is a member of (usually few)
  bool dirty_ = false;
  bool want_drain_ = false;  // a send returned kBackpressure or kDropped
};

}  // namespace sse

#endif  // SSE_CORE_IO_CONNECTION_H_
