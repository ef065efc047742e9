// JS functions of the member engine: open, adopt, attach, send, flush,
// close, acknowledge, limits and the notification hook. Converts only; the
// bytes come from native/core, and every error is thrown by errors.cc.
#include <uv.h>

#include <string>
#include <vector>

#include "addon/addon.h"
#include "addon/engine.h"
#include "core/frame.h"
#include "core/http_head.h"
#include "core/status_map.h"

namespace sse::addon {
namespace {

Engine* engineOf(Napi::Env env) { return &env.GetInstanceData<Addon>()->engine_; }

uint32_t u32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }
double num(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }

// A numeric option of `o` (lib/ has validated them), or `fallback`.
double option(const Napi::Object& o, const char* name, double fallback) {
  Napi::Value v = o.Get(name);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

// buildHead(status, reason, names[], values[]) -> Buffer; throws the core's
// status (naming the bad header) otherwise.
Napi::Value JS_buildHead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto names = info[2].As<Napi::Array>();
  auto values = info[3].As<Napi::Array>();
  uint32_t n = names.Length();
  std::vector<std::string> storage;
  storage.reserve(2 * n + 1);
  storage.push_back(info[1].As<Napi::String>().Utf8Value());
  HeaderList headers;
  headers.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    storage.push_back(names.Get(i).As<Napi::String>().Utf8Value());
    storage.push_back(values.Get(i).As<Napi::String>().Utf8Value());
  }
  for (uint32_t i = 0; i < n; ++i) headers.emplace_back(storage[1 + 2 * i], storage[2 + 2 * i]);
  std::string head;
  size_t bad = 0;
  HeadStatus st =
      buildResponseHead(static_cast<int>(num(info[0])), storage[0], headers, &head, &bad);
  if (st != HeadStatus::kOk) {
    std::string what = st == HeadStatus::kInvalidStatus || st == HeadStatus::kInvalidReason
                           ? std::string("response head")
                           : "header " + storage[1 + 2 * bad];
    throwStatus(env, statusOf(st), what);
    return env.Null();
  }
  return Napi::Buffer<char>::Copy(env, head.data(), head.size());
}

// open({ highWaterMark, maxBuffered, slowConsumerMs, policy, heartbeatMs,
// idleTimeoutMs, maxDurationMs, address? }) -> member id of a held external member.
Napi::Value JS_open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Engine* engine = engineOf(env);
  LoopContext* ctx = engine->context();
  if (ctx == nullptr) return env.Null();
  Napi::Object o = info[0].As<Napi::Object>();
  ConnectionOptions c;
  c.high_water_mark = static_cast<size_t>(option(o, "highWaterMark", 64 * 1024));
  c.max_buffered = static_cast<size_t>(option(o, "maxBuffered", 1024 * 1024));
  c.policy = option(o, "policy", 0) == static_cast<double>(SlowConsumerPolicy::kDrop)
                 ? SlowConsumerPolicy::kDrop
                 : SlowConsumerPolicy::kClose;
  c.heartbeat_ms = static_cast<uint64_t>(option(o, "heartbeatMs", 15000));
  c.idle_timeout_ms = static_cast<uint64_t>(option(o, "idleTimeoutMs", 0));
  c.max_duration_ms = static_cast<uint64_t>(option(o, "maxDurationMs", 0));
  c.slow_consumer_ms = static_cast<uint64_t>(option(o, "slowConsumerMs", 10000));
  std::string address;
  Napi::Value a = o.Get("address");
  if (a.IsString()) address = a.As<Napi::String>().Utf8Value();
  Connection* m = Connection::createExternal(ctx, c, address, nullptr);
  if (m == nullptr) {
    throwStatus(env, Status::kNoMemory);
    return env.Null();
  }
  return Napi::Number::New(env, engine->add(m));
}

// openFunction() -> member id of a function member.
Napi::Value JS_openFunction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Engine* engine = engineOf(env);
  LoopContext* ctx = engine->context();
  if (ctx == nullptr) return env.Null();
  Connection* m = Connection::createFunction(ctx, nullptr);
  if (m == nullptr) {
    throwStatus(env, Status::kNoMemory);
    return env.Null();
  }
  return Napi::Number::New(env, engine->add(m));
}

// adoptSocket(id, fd, head) -> 0, or a negative libuv error code (the member
// is then unchanged: JS falls back to res.write).
Napi::Value JS_adoptSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Connection* c = engineOf(env)->get(u32(info[0]));
  if (c == nullptr) return Napi::Number::New(env, UV_EINVAL);
  auto head = info[2].As<Napi::Uint8Array>();
  BufferRef head_ref(SharedBuffer::copyOf(head.Data(), head.ByteLength()));
  if (!head_ref) return Napi::Number::New(env, UV_ENOMEM);
  return Napi::Number::New(env, c->adoptSocket(info[1].As<Napi::Number>().Int32Value(),
                                               std::move(head_ref)));
}

// attach(id): a sink is ready; queued bytes are handed over from now on.
Napi::Value JS_attach(const Napi::CallbackInfo& info) {
  Connection* c = engineOf(info.Env())->get(u32(info[0]));
  if (c != nullptr) c->attach();
  return info.Env().Undefined();
}

// ack(id): the sink took the last buffer it was handed.
Napi::Value JS_ack(const Napi::CallbackInfo& info) {
  Connection* c = engineOf(info.Env())->get(u32(info[0]));
  if (c != nullptr) c->acknowledge();
  return info.Env().Undefined();
}

// gone(id, status): the external sink's client left (UV_EOF) or failed.
Napi::Value JS_gone(const Napi::CallbackInfo& info) {
  Connection* c = engineOf(info.Env())->get(u32(info[0]));
  if (c != nullptr) c->gone(info[1].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// send(id, event?, data?, id?, retry?, comment?) -> SendResult; a bad field
// throws (nothing is sent).
Napi::Value JS_send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Message m;
  if (!readMessage(info, 1, &m)) return env.Null();
  FrameStatus st = validateMessage(m);
  if (st != FrameStatus::kOk) {
    throwStatus(env, statusOf(st));
    return env.Null();
  }
  Connection* c = engineOf(env)->get(u32(info[0]));
  if (c == nullptr || !c->isOpen()) {
    return Napi::Number::New(env, static_cast<int>(SendResult::kClosed));
  }
  BufferRef frame = encodeShared(m, &st);
  if (!frame) return Napi::Number::New(env, static_cast<int>(SendResult::kDropped));
  return Napi::Number::New(env, static_cast<int>(c->send(std::move(frame))));
}

// sendBytes(id, bytes: Uint8Array) -> SendResult; bytes already framed.
Napi::Value JS_sendBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Connection* c = engineOf(env)->get(u32(info[0]));
  if (c == nullptr || !c->isOpen()) {
    return Napi::Number::New(env, static_cast<int>(SendResult::kClosed));
  }
  auto bytes = info[1].As<Napi::Uint8Array>();
  return Napi::Number::New(
      env, static_cast<int>(c->sendCopy(reinterpret_cast<const char*>(bytes.Data()),
                                        bytes.ByteLength())));
}

// flush(id)
Napi::Value JS_flush(const Napi::CallbackInfo& info) {
  Connection* c = engineOf(info.Env())->get(u32(info[0]));
  if (c != nullptr) c->flush();
  return info.Env().Undefined();
}

// close(id, graceful)
Napi::Value JS_close(const Napi::CallbackInfo& info) {
  Connection* c = engineOf(info.Env())->get(u32(info[0]));
  if (c != nullptr) c->close(info[1].ToBoolean().Value());
  return info.Env().Undefined();
}

// bufferedAmount(id) -> bytes queued, 0 for an unknown id
Napi::Value JS_bufferedAmount(const Napi::CallbackInfo& info) {
  Connection* c = engineOf(info.Env())->get(u32(info[0]));
  return Napi::Number::New(info.Env(),
                           c == nullptr ? 0.0 : static_cast<double>(c->bufferedAmount()));
}

// closeAll(graceful)
Napi::Value JS_closeAll(const Napi::CallbackInfo& info) {
  Engine* engine = engineOf(info.Env());
  if (engine->hasContext()) engine->context()->closeAll(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

// setNotify(fn(records: Int32Array, n, buffers: Buffer[])); records hold
// [id, kind, status] * n (see Engine::onNotifications).
Napi::Value JS_setNotify(const Napi::CallbackInfo& info) {
  engineOf(info.Env())->setNotify(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// setLimits({ maxConnections, maxPerKey, maxPerAddress }); absent or
// Infinity: no limit.
Napi::Value JS_setLimits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoopContext* ctx = engineOf(env)->context();
  if (ctx == nullptr) return env.Null();
  Napi::Object o = info[0].As<Napi::Object>();
  auto limit = [&](const char* name) {
    double v = option(o, name, -1);
    return v < 0 || v >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(v);
  };
  ConnectionLimits l;
  l.max_connections = limit("maxConnections");
  l.max_per_key = limit("maxPerKey");
  l.max_per_address = limit("maxPerAddress");
  ctx->setLimits(l);
  return env.Undefined();
}

// checkLimits(address | undefined, keys: string[]) -> Status (0: may open).
Napi::Value JS_checkLimits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoopContext* ctx = engineOf(env)->context();
  if (ctx == nullptr) return env.Null();
  std::string address;
  if (info[0].IsString()) address = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> keys;
  auto arr = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) keys.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
  return Napi::Number::New(env, static_cast<int>(ctx->checkLimits(address, keys)));
}

template <size_t N>
Napi::Object histogram(Napi::Env env, const Histogram<N>& h) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array bounds = Napi::Array::New(env, N);
  Napi::Array counts = Napi::Array::New(env, N + 1);
  for (size_t i = 0; i < N; ++i) bounds.Set(static_cast<uint32_t>(i), static_cast<double>(h.bounds_ms[i]));
  for (size_t i = 0; i <= N; ++i) counts.Set(static_cast<uint32_t>(i), static_cast<double>(h.counts[i]));
  o.Set("boundsMs", bounds);
  o.Set("counts", counts);
  o.Set("sumMs", static_cast<double>(h.sum_ms));
  o.Set("count", static_cast<double>(h.total));
  return o;
}

// stats() -> the LoopContext and hub counters
Napi::Value JS_stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Engine* engine = engineOf(env);
  LoopStats s;
  HubStats h;
  size_t members = 0;
  if (engine->hasContext()) {
    s = engine->context()->stats();
    h = engine->context()->hub().stats();
    members = engine->context()->hub().distinctMembers();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("connectionsOpen", static_cast<double>(s.connections_open));
  o.Set("connectionsAdopted", static_cast<double>(s.connections_adopted));
  o.Set("streamsOpened", static_cast<double>(s.streams_opened));
  o.Set("bytesWritten", static_cast<double>(s.bytes_written));
  o.Set("heartbeatsSent", static_cast<double>(s.heartbeats_sent));
  o.Set("drops", static_cast<double>(s.drops));
  o.Set("slowConsumerCloses", static_cast<double>(s.slow_consumer_closes));
  o.Set("tryWrites", static_cast<double>(s.try_writes));
  o.Set("queuedWrites", static_cast<double>(s.queued_writes));
  o.Set("handoffs", static_cast<double>(s.handoffs));
  o.Set("notificationBatches", static_cast<double>(s.notification_batches));
  o.Set("eventsSent", static_cast<double>(s.events_sent));
  o.Set("refused", static_cast<double>(s.refused));
  o.Set("timerVisits", static_cast<double>(s.timer_visits));
  o.Set("broadcasts", static_cast<double>(h.broadcasts));
  o.Set("replayedEvents", static_cast<double>(h.replayed_events));
  o.Set("replayGaps", static_cast<double>(h.replay_gaps));
  o.Set("hubMembers", static_cast<double>(members));
  o.Set("closedByServer", static_cast<double>(s.closed_by_server));
  o.Set("closedClientGone", static_cast<double>(s.closed_client_gone));
  o.Set("closedSlowConsumer", static_cast<double>(s.closed_slow));
  o.Set("closedTimeout", static_cast<double>(s.closed_timeout));
  o.Set("closedError", static_cast<double>(s.closed_error));
  o.Set("timeToFirstEvent", histogram(env, s.time_to_first_event));
  o.Set("streamDuration", histogram(env, s.stream_duration));
  return o;
}

// memberStats(id) -> { events, bytes, timeToFirstEventMs (-1: none yet),
// durationMs } of a live member (also while its close is being reported),
// or undefined.
Napi::Value JS_memberStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Connection* c = engineOf(env)->get(u32(info[0]));
  if (c == nullptr) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("events", static_cast<double>(c->eventsQueued()));
  o.Set("bytes", static_cast<double>(c->bytesWritten()));
  o.Set("timeToFirstEventMs", static_cast<double>(c->timeToFirstEventMs()));
  o.Set("durationMs", static_cast<double>(c->openMs()));
  return o;
}

// errName(code) -> "ECONNRESET"
Napi::Value JS_errName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), uv_err_name(info[0].As<Napi::Number>().Int32Value()));
}

// setErrorFactory(fn(kind, code, message) -> Error)
Napi::Value JS_setErrorFactory(const Napi::CallbackInfo& info) {
  setErrorFactory(info.Env(), info[0]);
  return info.Env().Undefined();
}

}  // namespace

void initEngine(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Value (*f)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, f, name));
  };
  fn("buildHead", JS_buildHead);
  fn("open", JS_open);
  fn("openFunction", JS_openFunction);
  fn("adoptSocket", JS_adoptSocket);
  fn("attach", JS_attach);
  fn("ack", JS_ack);
  fn("gone", JS_gone);
  fn("send", JS_send);
  fn("sendBytes", JS_sendBytes);
  fn("flush", JS_flush);
  fn("close", JS_close);
  fn("bufferedAmount", JS_bufferedAmount);
  fn("closeAll", JS_closeAll);
  fn("setNotify", JS_setNotify);
  fn("setLimits", JS_setLimits);
  fn("checkLimits", JS_checkLimits);
  fn("stats", JS_stats);
  fn("errName", JS_errName);
  fn("memberStats", JS_memberStats);
  fn("setErrorFactory", JS_setErrorFactory);
}

}  // namespace sse::addon
