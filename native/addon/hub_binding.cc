// JS functions of the hub: keys of adopted connections, broadcast, replay.
// Converts only; frames, ids and the replay ring are native/core's.
#include <string>
#include <string_view>
#include <vector>

#include "addon/addon.h"
#include "addon/engine.h"
#include "core/frame.h"
#include "core/io/hub.h"

namespace sse::addon {
namespace {

Addon* addonOf(Napi::Env env) { return env.GetInstanceData<Addon>(); }

// The loop's hub, created with the engine's context on first use.
Hub* hubOf(Napi::Env env) {
  LoopContext* ctx = addonOf(env)->engine_.context();
  return ctx == nullptr ? nullptr : &ctx->hub();
}

bool readKey(const Napi::CallbackInfo& info, std::string* key) {
  return readUtf8(info.Env(), info[0], key);
}

// hubConfigure(key, maxEvents, maxAgeMs)
Napi::Value JS_hubConfigure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  Hub* hub = hubOf(env);
  if (hub == nullptr || !readKey(info, &addon->key_)) return env.Undefined();
  hub->configure(addon->key_, static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue()),
                 static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue()));
  return env.Undefined();
}

// hubJoin(key, connectionId, lastEventId?) -> replayed frames (>= 0), or
// -1 already a member, -2 closed, -3 joined after the sse-gap event.
Napi::Value JS_hubJoin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  Hub* hub = hubOf(env);
  if (hub == nullptr || !readKey(info, &addon->key_)) return env.Null();
  Connection* c = addon->engine_.get(info[1].As<Napi::Number>().Uint32Value());
  if (c == nullptr) return Napi::Number::New(env, -2);
  std::string_view last;
  const std::string_view* last_ptr = nullptr;
  if (info[2].IsString()) {
    if (!readUtf8(env, info[2], &addon->scratch_[0])) return env.Null();
    last = addon->scratch_[0];
    last_ptr = &last;
  }
  size_t replayed = 0;
  bool gap = false;
  switch (hub->join(addon->key_, c, last_ptr, &replayed, &gap)) {
    case Hub::Join::kAlready: return Napi::Number::New(env, -1);
    case Hub::Join::kClosed: return Napi::Number::New(env, -2);
    case Hub::Join::kJoined: break;
  }
  return Napi::Number::New(env, gap ? -3 : static_cast<double>(replayed));
}

// hubLeave(key, connectionId) -> was a member
Napi::Value JS_hubLeave(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  Hub* hub = hubOf(env);
  if (hub == nullptr || !readKey(info, &addon->key_)) return env.Null();
  Connection* c = addon->engine_.get(info[1].As<Napi::Number>().Uint32Value());
  return Napi::Boolean::New(env, c != nullptr && hub->leave(addon->key_, c));
}

// hubBroadcast(key, wantFrame, event?, data?, id?, retry?, comment?)
//   -> -FrameStatus on a bad field (nothing sent), else the number of
//   adopted members it was offered to; the frame (a Buffer) is then left
//   in lastFrame when wantFrame, for the members JS writes itself.
Napi::Value JS_hubBroadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  Hub* hub = hubOf(env);
  if (hub == nullptr || !readKey(info, &addon->key_)) return env.Null();
  bool want_frame = info[1].ToBoolean().Value();
  Message m;
  if (!readMessage(info, 2, &m)) return env.Null();
  BroadcastResult r;
  BufferRef frame;
  FrameStatus st = hub->broadcast(addon->key_, m, &r, want_frame ? &frame : nullptr);
  if (st != FrameStatus::kOk) return Napi::Number::New(env, -static_cast<int>(st));
  // The same broadcast on every other thread's loop (main thread, Workers).
  addon->engine_.context()->publish(addon->key_, m);
  if (want_frame) {
    info.This().As<Napi::Object>().Set("lastFrame", sharedBuffer(env, std::move(frame)));
  }
  return Napi::Number::New(env, r.members);
}

// hubReplay(key, lastEventId) -> [gap: boolean, ...frames: Buffer[]]
Napi::Value JS_hubReplay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  Hub* hub = hubOf(env);
  if (hub == nullptr || !readKey(info, &addon->key_)) return env.Null();
  if (!readUtf8(env, info[1], &addon->scratch_[0])) return env.Null();
  std::vector<BufferRef> frames;
  bool gap = hub->replay(addon->key_, addon->scratch_[0], &frames) == ReplayRing::Since::kGap;
  Napi::Array out = Napi::Array::New(env, frames.size() + 1);
  out.Set(0u, Napi::Boolean::New(env, gap));
  for (size_t i = 0; i < frames.size(); ++i) {
    out.Set(static_cast<uint32_t>(i + 1), sharedBuffer(env, std::move(frames[i])));
  }
  return out;
}

// setRemote(fn(key, frame, event, data, id, retry)): broadcasts published
// on other threads, for the members JS writes itself.
Napi::Value JS_setRemote(const Napi::CallbackInfo& info) {
  addonOf(info.Env())->engine_.setRemote(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace

void initHub(Napi::Env env, Napi::Object exports) {
  exports.Set("setRemote", Napi::Function::New(env, JS_setRemote, "setRemote"));
  exports.Set("hubConfigure", Napi::Function::New(env, JS_hubConfigure, "hubConfigure"));
  exports.Set("hubJoin", Napi::Function::New(env, JS_hubJoin, "hubJoin"));
  exports.Set("hubLeave", Napi::Function::New(env, JS_hubLeave, "hubLeave"));
  exports.Set("hubBroadcast", Napi::Function::New(env, JS_hubBroadcast, "hubBroadcast"));
  exports.Set("hubReplay", Napi::Function::New(env, JS_hubReplay, "hubReplay"));
}

}  // namespace sse::addon
