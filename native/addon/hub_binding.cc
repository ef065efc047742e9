// JS functions of the hub, the only registry: keys of members, broadcast,
// counts. Converts only; frames, ids, replay and the cross-thread publish
// are native/core's.
#include <string>
#include <string_view>
#include <vector>

#include "addon/addon.h"
#include "addon/engine.h"
#include "core/frame.h"
#include "core/hub.h"
#include "core/status_map.h"

namespace sse::addon {
namespace {

Addon* addonOf(Napi::Env env) { return env.GetInstanceData<Addon>(); }

bool readKey(const Napi::CallbackInfo& info, std::string* key) {
  return readUtf8(info.Env(), info[0], key);
}

// hubConfigure(key, maxEvents, maxAgeMs)
Napi::Value JS_hubConfigure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  LoopContext* ctx = addon->engine_.context();
  if (ctx == nullptr || !readKey(info, &addon->key_)) return env.Undefined();
  ctx->hub().configure(addon->key_, static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue()),
                       static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue()));
  return env.Undefined();
}

// hubJoin(key, memberId, lastEventId?) -> Join: JOINED, JOINED_AFTER_GAP
// (an sse-gap event went first), ALREADY or CLOSED (constants.Join).
Napi::Value JS_hubJoin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  LoopContext* ctx = addon->engine_.context();
  if (ctx == nullptr || !readKey(info, &addon->key_)) return env.Null();
  Connection* c = addon->engine_.get(info[1].As<Napi::Number>().Uint32Value());
  if (c == nullptr) return Napi::Number::New(env, kJoinClosed);
  std::string_view last;
  const std::string_view* last_ptr = nullptr;
  if (info[2].IsString()) {
    if (!readUtf8(env, info[2], &addon->scratch_[0])) return env.Null();
    last = addon->scratch_[0];
    last_ptr = &last;
  }
  bool gap = false;
  switch (ctx->hub().join(addon->key_, c, last_ptr, nullptr, &gap)) {
    case Hub::Join::kAlready: return Napi::Number::New(env, kJoinAlready);
    case Hub::Join::kClosed: return Napi::Number::New(env, kJoinClosed);
    case Hub::Join::kJoined: break;
  }
  return Napi::Number::New(env, gap ? kJoinedAfterGap : kJoined);
}

// hubLeave(key, memberId) -> was a member
Napi::Value JS_hubLeave(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  LoopContext* ctx = addon->engine_.context();
  if (ctx == nullptr || !readKey(info, &addon->key_)) return env.Null();
  Connection* c = addon->engine_.get(info[1].As<Napi::Number>().Uint32Value());
  return Napi::Boolean::New(env, c != nullptr && ctx->hub().leave(addon->key_, c));
}

// memberKeyCount(memberId) -> keys the member is in
Napi::Value JS_memberKeyCount(const Napi::CallbackInfo& info) {
  Connection* c = addonOf(info.Env())->engine_.get(info[0].As<Napi::Number>().Uint32Value());
  return Napi::Number::New(info.Env(), c == nullptr ? 0.0 : static_cast<double>(c->hubKeys().size()));
}

// hubBroadcast(key, event?, data?, id?, retry?, comment?) -> the number of
// members it reaches, or, when the key has function members, an Int32Array
// [members, ...functionMemberIds] for JS to call them. A bad field throws
// (nothing sent or recorded). Other threads' loops get it too (the core's
// bus).
Napi::Value JS_hubBroadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  LoopContext* ctx = addon->engine_.context();
  if (ctx == nullptr || !readKey(info, &addon->key_)) return env.Null();
  Message m;
  if (!readMessage(info, 1, &m)) return env.Null();
  BroadcastResult r;
  std::vector<HubMember*>& functions = addon->functions_;
  functions.clear();
  FrameStatus st = ctx->broadcast(addon->key_, m, &r, &functions);
  if (st != FrameStatus::kOk) {
    throwStatus(env, statusOf(st), "broadcast");
    return env.Null();
  }
  if (functions.empty()) return Napi::Number::New(env, r.members);
  // The C API, checked: while a Worker is torn down every call may fail,
  // and a failed allocation must not be written through.
  size_t n = functions.size() + 1;
  napi_value ab, out;
  void* data = nullptr;
  if (napi_create_arraybuffer(env, n * sizeof(int32_t), &data, &ab) != napi_ok || data == nullptr ||
      napi_create_typedarray(env, napi_int32_array, n, ab, 0, &out) != napi_ok) {
    return env.Undefined();
  }
  int32_t* ids = static_cast<int32_t*>(data);
  ids[0] = static_cast<int32_t>(r.members);
  for (size_t i = 1; i < n; ++i) ids[i] = static_cast<int32_t>(Engine::idOf(functions[i - 1]));
  return Napi::Value(env, out);
}

// hubCount(key?) -> members of `key`; without a key, distinct members of
// every key.
Napi::Value JS_hubCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  if (!addon->engine_.hasContext()) return Napi::Number::New(env, 0);
  Hub& hub = addon->engine_.context()->hub();
  if (!info[0].IsString()) return Napi::Number::New(env, static_cast<double>(hub.distinctMembers()));
  if (!readKey(info, &addon->key_)) return env.Null();
  return Napi::Number::New(env, static_cast<double>(hub.memberCount(addon->key_)));
}

// hubPressure(key) -> members of `key` above their high-water mark
Napi::Value JS_hubPressure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  if (!addon->engine_.hasContext()) return Napi::Number::New(env, 0);
  if (!readKey(info, &addon->key_)) return env.Null();
  return Napi::Number::New(env, static_cast<double>(addon->engine_.context()->hub().pressured(addon->key_)));
}

// hubKeys() -> { key: members } for every key with members
Napi::Value JS_hubKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = addonOf(env);
  Napi::Object out = Napi::Object::New(env);
  if (!addon->engine_.hasContext()) return out;
  addon->engine_.context()->hub().forEachKey([&](const std::string& key, size_t n) {
    out.Set(key, static_cast<double>(n));
  });
  return out;
}

// setRemote(fn(key, functionIds: Int32Array, event, data, id, retry)):
// broadcasts published on other threads, for this thread's function members.
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
  exports.Set("memberKeyCount", Napi::Function::New(env, JS_memberKeyCount, "memberKeyCount"));
  exports.Set("hubCount", Napi::Function::New(env, JS_hubCount, "hubCount"));
  exports.Set("hubPressure", Napi::Function::New(env, JS_hubPressure, "hubPressure"));
  exports.Set("hubKeys", Napi::Function::New(env, JS_hubKeys, "hubKeys"));
}

}  // namespace sse::addon
