// sse::Parser throughput on realistic streams, fed in network-sized chunks.
// Bytes/s counts input bytes; items/s counts dispatched events.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "core/parser.h"
#include "core/utf8.h"

namespace {

class SinkHandler : public sse::ParserHandler {
 public:
  size_t events = 0;
  size_t bytes = 0;
  void onEvent(const sse::Event& e) override {
    ++events;
    bytes += e.data.size() + e.event.size() + e.id.size();
  }
  void onId(std::string_view id) override { bytes += id.size(); }
  void onRetry(uint64_t) override {}
  void onComment(std::string_view) override {}
  void onError(sse::ParseErrorKind, std::string_view, std::string_view,
               std::string_view) override {}
};

// About 1 MB of OpenAI-style token events.
std::string llmStream(bool multibyte) {
  static const char* const kAscii[] = {" token", " the", " model", "'s",
                                       " reply", ",",    " and",   " streams"};
  static const char* const kUtf8[] = {
      " 日本語", "の", "テキスト", " é", " 😀", "ストリーム", " über", "。"};
  std::string s;
  for (size_t i = 0; s.size() < (1u << 20); ++i) {
    s += "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
         "\"content\":\"";
    s += multibyte ? kUtf8[i % 8] : kAscii[i % 8];
    s += "\"}}]}\n\n";
  }
  return s;
}

// Events of 4 KB of JSON-ish data with event type and id.
std::string largeEventStream() {
  std::string payload = "{\"rows\":[";
  while (payload.size() < 4096 - 16) payload += "{\"a\":1,\"b\":\"xyz\"},";
  payload += "{}]}";
  std::string s;
  for (int i = 0; s.size() < (1u << 20); ++i) {
    s += "event: batch\nid: " + std::to_string(i) + "\ndata: " + payload +
         "\n\n";
  }
  return s;
}

size_t countEvents(const std::string& stream) {
  SinkHandler handler;
  sse::Parser parser(&handler);
  parser.feed(stream);
  return handler.events;
}

void runParse(benchmark::State& state, const std::string& stream) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  const size_t events = countEvents(stream);
  SinkHandler handler;
  sse::Parser parser(&handler);
  const std::string_view all(stream);
  for (auto _ : state) {
    for (size_t at = 0; at < all.size(); at += chunk) {
      parser.feed(all.substr(at, chunk));
    }
    benchmark::DoNotOptimize(handler.bytes);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(stream.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(events));
}

void BM_ParseLlmTokens(benchmark::State& state) {
  static const std::string stream = llmStream(false);
  runParse(state, stream);
}
BENCHMARK(BM_ParseLlmTokens)->Arg(4096)->Arg(64 * 1024);

void BM_ParseLlmTokensUtf8(benchmark::State& state) {
  static const std::string stream = llmStream(true);
  runParse(state, stream);
}
BENCHMARK(BM_ParseLlmTokensUtf8)->Arg(4096);

void BM_ParseLlmTokensCrlf(benchmark::State& state) {
  static const std::string stream = [] {
    std::string s;
    for (char c : llmStream(false)) {
      if (c == '\n') s += '\r';
      s += c;
    }
    return s;
  }();
  runParse(state, stream);
}
BENCHMARK(BM_ParseLlmTokensCrlf)->Arg(4096);

void BM_ParseLargeEvents(benchmark::State& state) {
  static const std::string stream = largeEventStream();
  runParse(state, stream);
}
BENCHMARK(BM_ParseLargeEvents)->Arg(4096)->Arg(64 * 1024);

void BM_Utf8Validate(benchmark::State& state) {
  static const std::string ascii = llmStream(false);
  static const std::string utf8 = llmStream(true);
  const std::string& text = state.range(0) ? utf8 : ascii;
  for (auto _ : state) {
    benchmark::DoNotOptimize(sse::validUtf8Prefix(text.data(), text.size()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_Utf8Validate)->Arg(0)->Arg(1);

}  // namespace
