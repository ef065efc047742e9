// The hub of one loop: keys (channels) to the adopted connections in them,
// each key's replay ring and id counter, and broadcast (encode once, queue a
// reference on every member). Used on the loop's thread only; owned by the
// LoopContext. Members leave every key when they start closing.
//
// Batching: consecutive broadcasts to one key during a loop turn are
// collected and queued on its members once, when the loop flushes (before
// any write), as one buffer: each socket gets one large iovec instead of
// one per event, and the hub touches each member once per run of
// broadcasts, not once per event. Anything that could observe the order
// first seals the pending batch: a broadcast to another key, a direct send
// to a member, its flush, a member joining or leaving.
#ifndef SSE_CORE_IO_HUB_H_
#define SSE_CORE_IO_HUB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/frame.h"
#include "core/replay_ring.h"
#include "core/shared_buffer.h"

namespace sse {

class Connection;
class LoopContext;

struct HubKey {
  std::string name;
  std::vector<Connection*> members;
  ReplayRing ring;
  uint64_t last_id = 0;  // ids assigned to broadcasts without one
  // This turn's broadcasts, not yet queued on the members (see Hub).
  std::vector<BufferRef> batch;
  size_t batch_bytes = 0;
  bool sealing_due = false;  // listed in Hub::due_
};

// What one broadcast did.
struct BroadcastResult {
  uint32_t members = 0;  // adopted members it will reach
};

class Hub {
 public:
  explicit Hub(LoopContext* ctx) : ctx_(ctx) {}
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Turns the key's replay ring on (max_events > 0) or off.
  void configure(std::string_view key, size_t max_events, uint64_t max_age_ms);

  enum class Join : uint8_t { kJoined, kAlready, kClosed };
  // Queues what the connection missed since *last_id (or the gap frame when
  // that cannot be told; *gap set), then makes it a member: nothing
  // broadcast in between can be lost or doubled. last_id null: no replay.
  Join join(std::string_view key, Connection* c, const std::string_view* last_id,
            size_t* replayed, bool* gap);
  bool leave(std::string_view key, Connection* c);
  // Called by the connection when it starts closing.
  void leaveAll(Connection* c);

  // Encodes `msg` once (with the next id of the key when its ring is on and
  // msg has none), records it in the ring, queues it on every member. The
  // frame is also returned (for members the embedder writes itself), unless
  // frame_out is null. A bad field: that status, nothing sent or recorded.
  FrameStatus broadcast(std::string_view key, Message msg, BroadcastResult* result,
                        BufferRef* frame_out);

  // For members the embedder writes itself: the frames after last_id, or
  // the gap frame (returns kGap).
  ReplayRing::Since replay(std::string_view key, std::string_view last_id,
                           std::vector<BufferRef>* out);

  // Queues every pending batch on its members (the loop's flush does this
  // first), or those of the keys `c` is in (before anything else reaches c).
  void sealAll();
  void sealFor(Connection* c);
  bool hasDue() const { return !due_.empty(); }

  size_t memberCount(std::string_view key) const;
  // Keys with at least one adopted member.
  void keys(std::vector<std::string>* out) const;

  // `event: sse-gap` with data {"lastEventId": last_id} (JSON-escaped).
  static BufferRef gapFrame(std::string_view last_id);

 private:
  HubKey* find(std::string_view name) const;
  HubKey* getOrCreate(std::string_view name);
  void removeMember(HubKey* k, Connection* c);
  void maybeErase(HubKey* k);
  void seal(HubKey* k);

  LoopContext* ctx_;
  std::unordered_map<std::string, std::unique_ptr<HubKey>> keys_;
  mutable std::string scratch_;  // lookup key without a per-call allocation
  bool broadcasting_ = false;    // keys are not erased under an iteration
  std::vector<HubKey*> due_;     // the key with a batch to seal (at most one)
};

}  // namespace sse

#endif  // SSE_CORE_IO_HUB_H_
