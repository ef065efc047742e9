#include "core/hub.h"

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <utility>


namespace sse {

Hub::~Hub() = default;

HubKey* Hub::find(std::string_view name) const {
  scratch_.assign(name);
  auto it = keys_.find(scratch_);
  return it == keys_.end() ? nullptr : it->second.get();
}

HubKey* Hub::getOrCreate(std::string_view name) {
  if (HubKey* k = find(name)) return k;
  auto k = std::make_unique<HubKey>();
  k->name.assign(name);
  HubKey* raw = k.get();
  keys_.emplace(raw->name, std::move(k));
  return raw;
}

void Hub::maybeErase(HubKey* k) {
  if (broadcasting_ || k->sealing_due || !k->members.empty() || k->ring.enabled()) return;
  keys_.erase(k->name);
}

void Hub::seal(HubKey* k) {
  if (k->batch.empty()) return;
  std::vector<BufferRef> frames = std::move(k->batch);
  k->batch.clear();
  size_t bytes = k->batch_bytes;
  k->batch_bytes = 0;
  BufferRef joined;
  if (frames.size() == 1) {
    joined = frames[0].share();
  } else if (SharedBuffer* b = SharedBuffer::create(bytes)) {
    char* out = b->data();
    for (const BufferRef& f : frames) {
      std::memcpy(out, f.data(), f.size());
      out += f.size();
    }
    joined = BufferRef(b);
  }
  // Backwards: a member that closes while we queue to it (kClose policy)
  // leaves by swapping the last member into its slot, one already done.
  broadcasting_ = true;
  uint32_t sharers = static_cast<uint32_t>(k->members.size() - k->functions);
  for (size_t i = k->members.size(); i-- > 0;) {
    if (i >= k->members.size()) continue;
    HubMember* m = k->members[i];
    if (!m->function_) m->hubEnqueueBatch(joined, frames, sharers);
  }
  broadcasting_ = false;
  // Keys a member closed by this batch left while they could not be erased.
  std::vector<HubKey*> left = std::move(left_while_broadcasting_);
  left_while_broadcasting_.clear();
  // Each once: erasing frees the key.
  std::sort(left.begin(), left.end());
  left.erase(std::unique(left.begin(), left.end()), left.end());
  for (HubKey* other : left) {
    if (other != k) maybeErase(other);
  }
}

void Hub::sealAll() {
  // Sealing never adds to due_: it only queues on connections.
  for (HubKey* k : due_) {
    k->sealing_due = false;
    seal(k);
  }
  std::vector<HubKey*> done = std::move(due_);
  due_.clear();
  for (HubKey* k : done) maybeErase(k);
}

void Hub::sealFor(HubMember* m) {
  if (host_->hubTearingDown()) return;
  for (size_t i = 0; i < m->keys_.size(); ++i) seal(m->keys_[i]);
}

void Hub::configure(std::string_view key, size_t max_events, uint64_t max_age_ms) {
  HubKey* k = max_events != 0 ? getOrCreate(key) : find(key);
  if (k == nullptr) return;
  k->ring.configure(max_events, max_age_ms);
  maybeErase(k);
}

Hub::Join Hub::join(std::string_view key, HubMember* m, const std::string_view* last_id,
                    size_t* replayed, bool* gap) {
  if (replayed != nullptr) *replayed = 0;
  if (gap != nullptr) *gap = false;
  if (!m->hubOpen()) return Join::kClosed;
  HubKey* k = getOrCreate(key);
  if (std::find(m->keys_.begin(), m->keys_.end(), k) != m->keys_.end()) return Join::kAlready;
  // What was broadcast before the join goes to the members of that time
  // (and, for a resume, is in the ring already).
  seal(k);
  sealFor(m);
  if (last_id != nullptr && !m->function_) {
    std::vector<BufferRef> frames;
    uint64_t now = host_->hubNow();
    if (k->ring.since(*last_id, now, &frames) == ReplayRing::Since::kGap) {
      frames.push_back(gapFrame(*last_id));
      ++stats_.replay_gaps;
      if (gap != nullptr) *gap = true;
    } else {
      stats_.replayed_events += frames.size();
      if (replayed != nullptr) *replayed = frames.size();
    }
    for (BufferRef& f : frames) {
      if (m->hubSend(std::move(f)) == SendResult::kClosed) break;
    }
    if (!m->hubOpen()) {  // the replay itself was too much (kClose policy)
      maybeErase(k);
      return Join::kClosed;
    }
  }
  addMember(k, m);
  return Join::kJoined;
}

void Hub::addMember(HubKey* k, HubMember* m) {
  k->members.push_back(m);
  if (m->function_) ++k->functions;
  if (m->keys_.empty()) ++distinct_;
  m->keys_.push_back(k);
}

// Only the key's side: the caller updates m->keys_ (and distinct_).
void Hub::removeMember(HubKey* k, HubMember* m) {
  auto it = std::find(k->members.begin(), k->members.end(), m);
  if (it == k->members.end()) return;
  *it = k->members.back();
  k->members.pop_back();
  if (m->function_) --k->functions;
}

bool Hub::leave(std::string_view key, HubMember* m) {
  HubKey* k = find(key);
  if (k == nullptr) return false;
  auto it = std::find(m->keys_.begin(), m->keys_.end(), k);
  if (it == m->keys_.end()) return false;
  seal(k);  // it was a member when these were broadcast
  it = std::find(m->keys_.begin(), m->keys_.end(), k);
  if (it == m->keys_.end()) return true;  // closed by that very batch
  m->keys_.erase(it);
  if (m->keys_.empty()) --distinct_;
  removeMember(k, m);
  maybeErase(k);
  return true;
}

void Hub::leaveAll(HubMember* m) {
  if (m->keys_.empty()) return;
  std::vector<HubKey*> keys = std::move(m->keys_);
  m->keys_.clear();
  --distinct_;
  for (HubKey* k : keys) {
    removeMember(k, m);
    if (broadcasting_) {
      left_while_broadcasting_.push_back(k);  // erased once the seal ends
    } else {
      maybeErase(k);
    }
  }
}

FrameStatus Hub::broadcast(std::string_view key, Message msg, BroadcastResult* result,
                           std::vector<HubMember*>* functions) {
  *result = BroadcastResult();
  HubKey* k = find(key);
  char id_buf[24];
  if (k != nullptr && k->ring.enabled() && !msg.has_id) {
    int n = std::snprintf(id_buf, sizeof(id_buf), "%llu",
                          static_cast<unsigned long long>(k->last_id + 1));
    msg.id = std::string_view(id_buf, static_cast<size_t>(n));
    msg.has_id = true;
  }
  FrameStatus status = FrameStatus::kOk;
  BufferRef frame = encodeShared(msg, &status);
  if (status != FrameStatus::kOk) return status;
  ++stats_.broadcasts;
  if (k != nullptr) {
    if (k->ring.enabled()) {
      if (msg.id.data() == id_buf) ++k->last_id;
      k->ring.push(msg.id, frame.share(), host_->hubNow());
    }
    if (!k->members.empty()) {
      // Only one key batches at a time: a broadcast to another key first
      // seals the pending one, so a connection in several keys gets every
      // broadcast in the order they were made.
      if (!k->sealing_due && !due_.empty()) sealAll();
      result->members = static_cast<uint32_t>(k->members.size());
      k->batch_bytes += frame.size();
      k->batch.push_back(frame.share());
      if (!k->sealing_due) {
        k->sealing_due = true;
        due_.push_back(k);
        host_->hubWake();
      }
      if (k->functions != 0 && functions != nullptr) {
        for (HubMember* m : k->members) {
          if (m->function_) functions->push_back(m);
        }
      }
    }
  }
  return FrameStatus::kOk;
}

size_t Hub::memberCount(std::string_view key) const {
  HubKey* k = find(key);
  return k == nullptr ? 0 : k->members.size();
}

size_t Hub::pressured(std::string_view key) const {
  HubKey* k = find(key);
  if (k == nullptr) return 0;
  size_t n = 0;
  for (HubMember* m : k->members) n += m->hubAboveHighWater() ? 1 : 0;
  return n;
}

void Hub::keys(std::vector<std::string>* out) const {
  for (const auto& [name, k] : keys_) {
    if (!k->members.empty()) out->push_back(name);
  }
}

BufferRef Hub::gapFrame(std::string_view last_id) {
  std::string json = "{\"lastEventId\":\"";
  for (unsigned char ch : last_id) {
    if (ch == '"' || ch == '\\') {
      json += '\\';
      json += static_cast<char>(ch);
    } else if (ch < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\u%04x", ch);
      json += esc;
    } else {
      json += static_cast<char>(ch);
    }
  }
  json += "\"}";
  Message m;
  m.event = "sse-gap";
  m.has_event = true;
  m.data = json;
  m.has_data = true;
  FrameStatus status;
  return encodeShared(m, &status);
}

}  // namespace sse
