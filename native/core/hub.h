// The hub of one loop: the only registry of members. Keys (channels) map to
// members (adopted sockets, external streams the embedder writes, function
// members), each key has its replay ring and id counter, and broadcast
// encodes once and queues a reference on every member. Pure bookkeeping: no
// libuv; the host passes the clock and is told when a batch waits. Used on
// the loop's thread only; owned by the LoopContext. Members leave every key
// when they start closing.
//
// Batching: consecutive broadcasts to one key during a loop turn are
// collected and queued on its members once, when the loop flushes (before
// any write), as one buffer: each socket gets one large iovec instead of
// one per event, and the hub touches each member once per run of
// broadcasts, not once per event. Anything that could observe the order
// first seals the pending batch: a broadcast to another key, a direct send
// to a member, its flush, a member joining or leaving.
#ifndef SSE_CORE_HUB_H_
#define SSE_CORE_HUB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/frame.h"
#include "core/hub_member.h"
#include "core/replay_ring.h"
#include "core/shared_buffer.h"
#include "core/stats.h"

namespace sse {

struct HubKey {
  std::string name;
  std::vector<HubMember*> members;
  uint32_t functions = 0;  // members that are function members
  ReplayRing ring;
  uint64_t last_id = 0;  // ids assigned to broadcasts without one
  // This turn's broadcasts, not yet queued on the members (see Hub).
  std::vector<BufferRef> batch;
  size_t batch_bytes = 0;
  bool sealing_due = false;  // listed in Hub::due_
};

// What the hub needs from its loop.
class HubHost {
 public:
  virtual uint64_t hubNow() = 0;  // ms, monotonic
  virtual void hubWake() = 0;     // a batch is due: seal it before the next write
  virtual bool hubTearingDown() const = 0;

 protected:
  ~HubHost() = default;
};

// What one broadcast did.
struct BroadcastResult {
  uint32_t members = 0;  // members it will reach (function members included)
};

class Hub {
 public:
  explicit Hub(HubHost* host) : host_(host) {}
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Turns the key's replay ring on (max_events > 0) or off.
  void configure(std::string_view key, size_t max_events, uint64_t max_age_ms);

  enum class Join : uint8_t { kJoined, kAlready, kClosed };
  // Queues what the member missed since *last_id (or the gap frame when
  // that cannot be told; *gap set), then makes it a member: nothing
  // broadcast in between can be lost or doubled. last_id null: no replay.
  // A function member is never replayed to.
  Join join(std::string_view key, HubMember* m, const std::string_view* last_id,
            size_t* replayed, bool* gap);
  bool leave(std::string_view key, HubMember* m);
  // Called by the member when it starts closing.
  void leaveAll(HubMember* m);

  // Encodes `msg` once (with the next id of the key when its ring is on and
  // msg has none), records it in the ring, queues it on every member. The
  // key's function members are appended to *functions (when not null) for
  // the embedder to call. A bad field: that status, nothing sent or
  // recorded.
  FrameStatus broadcast(std::string_view key, Message msg, BroadcastResult* result,
                        std::vector<HubMember*>* functions);

  // Queues every pending batch on its members (the loop's flush does this
  // first), or those of the keys `m` is in (before anything else reaches m).
  void sealAll();
  void sealFor(HubMember* m);
  bool hasDue() const { return !due_.empty(); }

  size_t memberCount(std::string_view key) const;
  // Members of `key` whose queue is above their high-water mark: 0 means a
  // producer that awaits it may broadcast again (see lib/hub drained()).
  size_t pressured(std::string_view key) const;
  // Members in at least one key, each counted once.
  size_t distinctMembers() const { return distinct_; }
  // Keys with at least one member.
  void keys(std::vector<std::string>* out) const;
  // Calls fn(key, members) for every key with members.
  template <typename Fn>
  void forEachKey(Fn fn) const {
    for (const auto& [name, k] : keys_) {
      if (!k->members.empty()) fn(name, k->members.size());
    }
  }
  const HubStats& stats() const { return stats_; }

  // `event: sse-gap` with data {"lastEventId": last_id} (JSON-escaped).
  static BufferRef gapFrame(std::string_view last_id);

 private:
  HubKey* find(std::string_view name) const;
  HubKey* getOrCreate(std::string_view name);
  void addMember(HubKey* k, HubMember* m);
  void removeMember(HubKey* k, HubMember* m);
  void maybeErase(HubKey* k);
  void seal(HubKey* k);

  HubHost* host_;
  std::unordered_map<std::string, std::unique_ptr<HubKey>> keys_;
  mutable std::string scratch_;  // lookup key without a per-call allocation
  bool broadcasting_ = false;    // keys are not erased under an iteration
  std::vector<HubKey*> due_;     // the key with a batch to seal (at most one)
  std::vector<HubKey*> left_while_broadcasting_;  // see seal()
  size_t distinct_ = 0;
  HubStats stats_;
};

}  // namespace sse

#endif  // SSE_CORE_HUB_H_
