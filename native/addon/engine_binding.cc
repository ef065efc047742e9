// JS functions of the connection engine: adopt, send, flush, close and the
// notification hook. Converts only; the bytes come from native/core.
#include <uv.h>

#include <string>
#include <vector>

#include "addon/addon.h"
#include "addon/engine.h"
#include "core/frame.h"
#include "core/http_head.h"

namespace sse::addon {
namespace {

Engine* engineOf(Napi::Env env) { return &env.GetInstanceData<Addon>()->engine_; }

uint32_t u32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }
double num(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }

// buildHead(status, reason, names[], values[]) -> Buffer | [HeadStatus, index]
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
    Napi::Array r = Napi::Array::New(env, 2);
    r.Set(0u, Napi::Number::New(env, static_cast<int>(st)));
    r.Set(1u, Napi::Number::New(env, static_cast<double>(bad)));
    return r;
  }
  return Napi::Buffer<char>::Copy(env, head.data(), head.size());
}

// adopt(fd, head, highWaterMark, maxBuffered, policy, heartbeatMs, idleMs,
// maxDurationMs) -> id (>= 0) or a negative libuv error code.
Napi::Value JS_adopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Engine* engine = engineOf(env);
  LoopContext* ctx = engine->context();
  if (ctx == nullptr) return env.Null();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto head = info[1].As<Napi::Uint8Array>();
  ConnectionOptions o;
  o.high_water_mark = static_cast<size_t>(num(info[2]));
  o.max_buffered = static_cast<size_t>(num(info[3]));
  o.policy = u32(info[4]) == 1 ? SlowConsumerPolicy::kDrop : SlowConsumerPolicy::kClose;
  o.heartbeat_ms = static_cast<uint64_t>(num(info[5]));
  o.idle_timeout_ms = static_cast<uint64_t>(num(info[6]));
  o.max_duration_ms = static_cast<uint64_t>(num(info[7]));
  BufferRef head_ref(SharedBuffer::copyOf(head.Data(), head.ByteLength()));
  if (!head_ref) return Napi::Number::New(env, UV_ENOMEM);
  Connection* c = nullptr;
  int rc = Connection::adopt(ctx, fd, o, std::move(head_ref), nullptr, &c);
  if (rc != 0) return Napi::Number::New(env, rc);
  return Napi::Number::New(env, engine->add(c));
}

// send(id, event?, data?, id?, retry?, comment?) -> SendResult (0 success,
// 1 backpressure, 2 dropped, 3 closed) or -FrameStatus for a bad field.
Napi::Value JS_send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Message m;
  if (!readMessage(info, 1, &m)) return env.Null();
  FrameStatus st = validateMessage(m);
  if (st != FrameStatus::kOk) return Napi::Number::New(env, -static_cast<int>(st));
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

// setNotify(fn(records: Int32Array, n)) ; records hold [id, kind, status] * n
Napi::Value JS_setNotify(const Napi::CallbackInfo& info) {
  engineOf(info.Env())->setNotify(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// stats() -> the LoopContext counters
Napi::Value JS_stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Engine* engine = engineOf(env);
  LoopStats s;
  if (engine->hasContext()) s = engine->context()->stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("connectionsOpen", static_cast<double>(s.connections_open));
  o.Set("connectionsAdopted", static_cast<double>(s.connections_adopted));
  o.Set("bytesWritten", static_cast<double>(s.bytes_written));
  o.Set("heartbeatsSent", static_cast<double>(s.heartbeats_sent));
  o.Set("drops", static_cast<double>(s.drops));
  o.Set("slowConsumerCloses", static_cast<double>(s.slow_consumer_closes));
  o.Set("tryWrites", static_cast<double>(s.try_writes));
  o.Set("queuedWrites", static_cast<double>(s.queued_writes));
  o.Set("notificationBatches", static_cast<double>(s.notification_batches));
  o.Set("eventsSent", static_cast<double>(s.events_sent));
  o.Set("broadcasts", static_cast<double>(s.broadcasts));
  o.Set("replayedEvents", static_cast<double>(s.replayed_events));
  o.Set("replayGaps", static_cast<double>(s.replay_gaps));
  return o;
}

// errName(code) -> "ECONNRESET"
Napi::Value JS_errName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), uv_err_name(info[0].As<Napi::Number>().Int32Value()));
}

}  // namespace

void initEngine(Napi::Env env, Napi::Object exports) {
  exports.Set("buildHead", Napi::Function::New(env, JS_buildHead, "buildHead"));
  exports.Set("adopt", Napi::Function::New(env, JS_adopt, "adopt"));
  exports.Set("send", Napi::Function::New(env, JS_send, "send"));
  exports.Set("sendBytes", Napi::Function::New(env, JS_sendBytes, "sendBytes"));
  exports.Set("flush", Napi::Function::New(env, JS_flush, "flush"));
  exports.Set("close", Napi::Function::New(env, JS_close, "close"));
  exports.Set("bufferedAmount", Napi::Function::New(env, JS_bufferedAmount, "bufferedAmount"));
  exports.Set("closeAll", Napi::Function::New(env, JS_closeAll, "closeAll"));
  exports.Set("setNotify", Napi::Function::New(env, JS_setNotify, "setNotify"));
  exports.Set("stats", Napi::Function::New(env, JS_stats, "stats"));
  exports.Set("errName", Napi::Function::New(env, JS_errName, "errName"));
}

}  // namespace sse::addon
