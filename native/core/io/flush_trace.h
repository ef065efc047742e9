// Compile-time-off instrumentation of the flush (bench/README.md, "Latency
// tail"). Built only with -DSSE_FLUSH_TRACE (e.g. `CXXFLAGS=-DSSE_FLUSH_TRACE
// npm run build`); otherwise every macro below is empty and nothing is kept.
//
// It records, for each flush pass (prepare or check callback) that had
// work: how long after the first wake() of the turn it started (the rest of
// the JS callback that broadcast, and the loop phases in between), how long
// sealing the hub's batches took, how long the writes took, how many
// members it flushed, and how long each uv_try_write took. At exit it prints percentiles to stderr,
// one "SSE_FLUSH_TRACE" line per measure.
#ifndef SSE_CORE_IO_FLUSH_TRACE_H_
#define SSE_CORE_IO_FLUSH_TRACE_H_

#ifdef SSE_FLUSH_TRACE

#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace sse {
namespace flush_trace {

struct Series {
  const char* name;
  std::vector<uint64_t> v;
};

struct Trace {
  Series wake_to_start{"wake->flush start (us)", {}};
  Series seal{"seal pass (us)", {}};
  Series writes{"write pass (us)", {}};
  Series members{"members flushed per pass", {}};
  Series write_ns{"one uv_try_write (ns)", {}};
  uint64_t wake_ns = 0;   // first wake() of the pending turn
  uint64_t flushed = 0;   // members flushed in the current pass

  static void print(const Series& s) {
    if (s.v.empty()) return;
    std::vector<uint64_t> v = s.v;
    std::sort(v.begin(), v.end());
    auto q = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))]; };
    std::fprintf(stderr,
                 "SSE_FLUSH_TRACE %-32s n=%zu p50=%llu p90=%llu p99=%llu p999=%llu max=%llu\n", s.name,
                 v.size(), (unsigned long long)q(0.5), (unsigned long long)q(0.9),
                 (unsigned long long)q(0.99), (unsigned long long)q(0.999),
                 (unsigned long long)v.back());
  }
  ~Trace() {
    for (const Series* s : {&wake_to_start, &seal, &writes, &members, &write_ns}) print(*s);
  }
};

// One per thread (one per loop): printed when the thread (or process) ends.
inline Trace& get() {
  static thread_local Trace t;
  return t;
}
inline uint64_t now() { return uv_hrtime(); }

}  // namespace flush_trace
}  // namespace sse

#define SSE_TRACE_WAKE()                                 \
  do {                                                   \
    auto& tw_ = sse::flush_trace::get();                 \
    if (tw_.wake_ns == 0) tw_.wake_ns = sse::flush_trace::now(); \
  } while (0)
#define SSE_TRACE_DECL(var) uint64_t var = sse::flush_trace::now()
#define SSE_TRACE_MEMBER() (++sse::flush_trace::get().flushed)
#define SSE_TRACE_WRITE(t0) (sse::flush_trace::get().write_ns.v.push_back(sse::flush_trace::now() - (t0)))
// A pass that flushed at least one member: record it.
#define SSE_TRACE_PASS(start, sealed, end)                                     \
  do {                                                                         \
    auto& tr_ = sse::flush_trace::get();                                       \
    if (tr_.flushed != 0) {                                                    \
      if (tr_.wake_ns != 0) tr_.wake_to_start.v.push_back(((start) - tr_.wake_ns) / 1000); \
      tr_.seal.v.push_back(((sealed) - (start)) / 1000);                       \
      tr_.writes.v.push_back(((end) - (sealed)) / 1000);                       \
      tr_.members.v.push_back(tr_.flushed);                                    \
    }                                                                          \
    tr_.flushed = 0;                                                           \
    tr_.wake_ns = 0;                                                           \
  } while (0)

#else  // !SSE_FLUSH_TRACE

#define SSE_TRACE_WAKE() ((void)0)
#define SSE_TRACE_DECL(var) ((void)0)
#define SSE_TRACE_MEMBER() ((void)0)
#define SSE_TRACE_WRITE(t0) ((void)0)
#define SSE_TRACE_PASS(start, sealed, end) ((void)0)

#endif  // SSE_FLUSH_TRACE

#endif  // SSE_CORE_IO_FLUSH_TRACE_H_
