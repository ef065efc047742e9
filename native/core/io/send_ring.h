// Batched submission of a flush's socket writes through io_uring (Linux,
// built only when liburing.h was found: SSE_HAVE_LIBURING).
//
// One SendRing per LoopContext (so per thread), created with the context
// (disabled, enabled by its first submit on the loop's thread) and torn
// down with it. The flush
// prepares one send per socket member that has bytes queued and no write in
// flight (IORING_OP_SEND for one buffer, IORING_OP_SENDMSG for several),
// with MSG_DONTWAIT | MSG_NOSIGNAL: a full socket completes at once with
// -EAGAIN instead of io_uring arming a poll, so every completion is posted
// while io_uring_enter runs and is reaped right after it. Each completion is
// then handled as a uv_try_write result would be (Connection::ringDone).
// This ring is private: it never touches libuv's own ring (file operations).
//
// Run time: on unless SSE_NATIVE_IO_URING=0 (or false/off). When
// io_uring_queue_init fails (old kernel, seccomp, kernel.io_uring_disabled)
// the flush uses uv_try_write as without it.
#ifndef SSE_CORE_IO_SEND_RING_H_
#define SSE_CORE_IO_SEND_RING_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>

namespace sse {

class SendRing;

namespace send_ring {
// Whether the build has the io_uring path at all.
bool built();
// Whether the environment asks for it (SSE_NATIVE_IO_URING, else the default).
bool wanted();
}  // namespace send_ring

// Completions are handed back as (tag, result, bytes offered): result is the
// byte count taken, or a negative errno (-EAGAIN for a full socket).
using SendRingDone = void (*)(void* tag, int result, size_t total, void* arg);

#ifdef SSE_HAVE_LIBURING
class SendRing {
 public:
  // A ring, or nullptr when io_uring cannot be set up here.
  static SendRing* create();
  ~SendRing();

  // Room for one more send of `n` buffers? (Else submit() first.)
  bool fits(uint32_t n) const;
  // Prepares a send of bufs[0..n) (n >= 1, fits(n)) to `fd`.
  void prepare(int fd, const uv_buf_t* bufs, uint32_t n, size_t total, void* tag);
  size_t prepared() const { return count_; }
  // One io_uring_enter for everything prepared, then done(tag, ...) for each
  // in the order prepared. Returns false (after calling fallback(tag, arg)
  // for each send the kernel did not take) when the ring failed: the caller
  // then stops using it. `late` counts sends not completed by the submit
  // itself (then cancelled and waited for; expected 0).
  bool submit(SendRingDone done, void (*fallback)(void* tag, void* arg), void* arg,
              uint64_t* enters, uint64_t* late);

 private:
  struct Impl;
  explicit SendRing(Impl* impl) : impl_(impl) {}
  size_t reap(size_t n);
  Impl* impl_;
  size_t count_ = 0;
  size_t iov_used_ = 0;
  bool enabled_ = false;
};
#endif

}  // namespace sse

#endif  // SSE_CORE_IO_SEND_RING_H_
