// Encoder throughput: the 32-byte token event, a 1 KB JSON event and a
// multi-line event, encoded into a reused buffer and into a shared frame.
#include <benchmark/benchmark.h>

#include <string>

#include "core/frame.h"

namespace {

std::string jsonOf(size_t n) {
  std::string s = "{\"id\":\"chatcmpl-1\",\"text\":\"";
  while (s.size() + 2 < n) s += "lorem ipsum ";
  s.resize(n - 2);
  s += "\"}";
  return s;
}

void encodeInto(benchmark::State& state, const sse::Message& m) {
  std::string out(sse::encodedSize(m), '\0');
  for (auto _ : state) {
    if (sse::validateMessage(m) != sse::FrameStatus::kOk) state.SkipWithError("bad");
    char* end = sse::encodeTo(m, out.data());
    benchmark::DoNotOptimize(end);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}

sse::Message dataMsg(const std::string& d) {
  sse::Message m;
  m.data = d;
  m.has_data = true;
  return m;
}

void BM_EncodeToken32(benchmark::State& state) {
  static const std::string d = "{\"t\":\"Hello, world! tok\"}  ";  // 32 bytes with prefix
  encodeInto(state, dataMsg(d));
}
BENCHMARK(BM_EncodeToken32);

void BM_EncodeJson1K(benchmark::State& state) {
  static const std::string d = jsonOf(1024);
  sse::Message m = dataMsg(d);
  m.event = "chunk";
  m.has_event = true;
  m.id = "123456";
  m.has_id = true;
  encodeInto(state, m);
}
BENCHMARK(BM_EncodeJson1K);

void BM_EncodeMultiline(benchmark::State& state) {
  static const std::string d = "line one\nline two\r\nline three\rline four\nfive";
  encodeInto(state, dataMsg(d));
}
BENCHMARK(BM_EncodeMultiline);

void BM_EncodeSharedToken32(benchmark::State& state) {
  static const std::string d = "{\"t\":\"Hello, world! tok\"}  ";
  sse::Message m = dataMsg(d);
  for (auto _ : state) {
    sse::FrameStatus st;
    sse::BufferRef b = sse::encodeShared(m, &st);
    benchmark::DoNotOptimize(b.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeSharedToken32);

}  // namespace
