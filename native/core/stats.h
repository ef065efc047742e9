// Counters of one loop's members and hub, for getMetrics(). Plain fields,
// written and read on the loop's thread only.
#ifndef SSE_CORE_STATS_H_
#define SSE_CORE_STATS_H_

#include <cstddef>
#include <cstdint>

namespace sse {

// A Prometheus-style cumulative histogram with fixed bounds in ms; observe()
// is O(buckets), no allocation.
template <size_t N>
struct Histogram {
  static constexpr size_t kBuckets = N;
  uint64_t bounds_ms[N];  // upper bounds, ascending; +Inf is implicit
  uint64_t counts[N + 1] = {};  // counts[i]: observations <= bounds_ms[i] (not cumulative); [N]: the rest
  uint64_t sum_ms = 0;
  uint64_t total = 0;
  void observe(uint64_t ms) {
    size_t i = 0;
    while (i < N && ms > bounds_ms[i]) ++i;
    ++counts[i];
    sum_ms += ms;
    ++total;
  }
};

// Kept by the Hub (pure bookkeeping, see hub.h).
struct HubStats {
  uint64_t broadcasts = 0;       // Hub::broadcast calls that encoded
  uint64_t replayed_events = 0;  // frames replayed from rings
  uint64_t replay_gaps = 0;      // resumes that could not be served
};

// Kept by the LoopContext and its connections.
struct LoopStats {
  uint64_t connections_open = 0;     // streams (socket or external) not yet closed
  uint64_t connections_adopted = 0;  // sockets ever adopted
  uint64_t streams_opened = 0;       // streams ever opened (every sink)
  uint64_t bytes_written = 0;        // accepted by the kernel or the embedder
  uint64_t heartbeats_sent = 0;
  uint64_t drops = 0;                 // frames refused under kDrop
  uint64_t slow_consumer_closes = 0;  // connections closed under kClose
  uint64_t try_writes = 0;            // uv_try_write calls (one writev each)
  uint64_t queued_writes = 0;         // uv_write calls (kernel was full)
  // io_uring (send_ring.h): sends submitted through the ring (each also
  // counts in try_writes), io_uring_enter calls for them, and completions
  // not posted by the submit itself (waited for; expected 0).
  uint64_t ring_sends = 0;
  uint64_t ring_enters = 0;
  uint64_t ring_late = 0;
  uint64_t handoffs = 0;              // buffers handed to the embedder (external members)
  uint64_t notification_batches = 0;  // onNotifications calls
  uint64_t events_sent = 0;           // event frames queued on connections
  uint64_t refused = 0;               // streams refused by a connection limit
  uint64_t timer_visits = 0;          // wheel entries looked at (its cost)
  // Why streams ended.
  uint64_t closed_by_server = 0;   // close() / closeAll() (status 0)
  uint64_t closed_client_gone = 0; // UV_EOF
  uint64_t closed_slow = 0;        // UV_ENOBUFS (slow consumer)
  uint64_t closed_timeout = 0;     // UV_ETIMEDOUT (idle, max duration, drain limit)
  uint64_t closed_error = 0;       // any other error
  // Time from open to the first event frame queued, and stream lifetimes.
  Histogram<11> time_to_first_event{{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000}};
  Histogram<10> stream_duration{{1000, 5000, 10000, 30000, 60000, 300000, 900000, 1800000, 3600000, 14400000}};
};

}  // namespace sse

#endif  // SSE_CORE_STATS_H_
