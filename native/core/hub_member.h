// What the Hub needs of a member: the pure side of a connection. Connection
// (core/io) implements it for sockets and for external members; the hub's
// tests implement it with no loop at all.
#ifndef SSE_CORE_HUB_MEMBER_H_
#define SSE_CORE_HUB_MEMBER_H_

#include <cstdint>
#include <vector>

#include "core/shared_buffer.h"

namespace sse {

struct HubKey;

// Outcome of a send: queued (kSuccess), queued but above the high-water mark
// (kBackpressure; a kDrain notification follows), not queued (kDropped: a
// kDrop member judged slow, or out of memory), or not queued because the
// connection is closing (kClosed).
enum class SendResult : uint8_t { kSuccess, kBackpressure, kDropped, kClosed };

// What happens to a member judged slow (see ConnectionOptions).
enum class SlowConsumerPolicy : uint8_t { kClose, kDrop };

class HubMember {
 public:
  // Function members take no frames: the embedder hands them the message
  // (Hub::broadcast lists them).
  bool isFunction() const { return function_; }
  // The keys it is in (usually few).
  const std::vector<HubKey*>& hubKeys() const { return keys_; }

  // True while it accepts frames (not closing).
  virtual bool hubOpen() const = 0;
  // Queues one replayed frame, exactly like a send.
  virtual SendResult hubSend(BufferRef frame) = 0;
  // Queues a sealed batch of one key: `joined` (all of `frames`
  // concatenated), or the frames one by one when `joined` is empty (out of
  // memory). `sharers` members get the same batch: each is charged its
  // share against its memory cap, not a copy.
  virtual void hubEnqueueBatch(const BufferRef& joined, const std::vector<BufferRef>& frames,
                               uint32_t sharers) = 0;
  // True while its queue is above its high-water mark (Hub::pressured).
  virtual bool hubAboveHighWater() const = 0;

 protected:
  explicit HubMember(bool function) : function_(function) {}
  ~HubMember() = default;

 private:
  friend class Hub;
  std::vector<HubKey*> keys_;
  bool function_;
};

}  // namespace sse

#endif  // SSE_CORE_HUB_MEMBER_H_
