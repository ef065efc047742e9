#include "core/replay_ring.h"

#include <utility>

namespace sse {

void ReplayRing::configure(size_t max_events, uint64_t max_age_ms) {
  max_events_ = max_events;
  max_age_ms_ = max_age_ms;
  if (max_events_ == 0) {
    entries_.clear();
    return;
  }
  while (entries_.size() > max_events_) entries_.pop_front();
}

void ReplayRing::push(std::string_view id, BufferRef frame, uint64_t now_ms) {
  if (max_events_ == 0) return;
  newest_id_.assign(id);
  has_newest_ = true;
  if (entries_.size() == max_events_) entries_.pop_front();
  entries_.push_back(Entry{std::string(id), std::move(frame), now_ms});
  expire(now_ms);
}

void ReplayRing::expire(uint64_t now_ms) {
  if (max_age_ms_ == 0) return;
  while (!entries_.empty() && now_ms - entries_.front().at_ms > max_age_ms_) {
    entries_.pop_front();
  }
}

ReplayRing::Since ReplayRing::since(std::string_view last_id, uint64_t now_ms,
                                    std::vector<BufferRef>* out) {
  expire(now_ms);
  if (has_newest_ && last_id == newest_id_) return Since::kFound;
  // Newest first: an id the sender reused means its latest use.
  for (size_t i = entries_.size(); i-- > 0;) {
    if (entries_[i].id != last_id) continue;
    for (size_t j = i + 1; j < entries_.size(); ++j) {
      out->push_back(entries_[j].frame.share());
    }
    return Since::kFound;
  }
  return Since::kGap;
}

}  // namespace sse
