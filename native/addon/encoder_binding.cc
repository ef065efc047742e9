// encodeEvent / encodeNDJSON: JS values to sse::Message, frame bytes back as
// a Buffer. The lib layer has already checked types and serialized data.
#include <cmath>

#include "addon/addon.h"
#include "core/status_map.h"
#include "core/frame.h"

namespace sse::addon {
namespace {

// Reads an optional string argument; undefined/null leave the field out.
bool optionalString(napi_env env, napi_value v, std::string* scratch, std::string_view* field,
                    bool* has, const char* name) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) return true;
  if (t != napi_string) {
    throwTypeError(Napi::Env(env), std::string("encodeEvent: `") + name + "` must be a string");
    return false;
  }
  if (!readUtf8(env, v, scratch)) return false;
  *field = *scratch;
  *has = true;
  return true;
}

}  // namespace

bool readMessage(const Napi::CallbackInfo& info, size_t first, Message* m) {
  Napi::Env env = info.Env();
  auto* addon = env.GetInstanceData<Addon>();
  if (!optionalString(env, info[first], &addon->scratch_[0], &m->event, &m->has_event, "event") ||
      !optionalString(env, info[first + 1], &addon->scratch_[1], &m->data, &m->has_data, "data") ||
      !optionalString(env, info[first + 2], &addon->scratch_[2], &m->id, &m->has_id, "id") ||
      !optionalString(env, info[first + 4], &addon->scratch_[3], &m->comment, &m->has_comment,
                      "comment")) {
    return false;
  }
  Napi::Value retry = info[first + 3];
  if (!retry.IsUndefined() && !retry.IsNull()) {
    double r = retry.IsNumber() ? retry.As<Napi::Number>().DoubleValue() : -1;
    if (!(r >= 0) || r != std::floor(r) || r > 9007199254740991.0) {
      throwTypeError(env, "encodeEvent: `retry` must be a non-negative integer");
      return false;
    }
    m->retry = static_cast<uint64_t>(r);
    m->has_retry = true;
  }
  return true;
}

namespace {

// JS_encodeEventInto(pool: Uint8Array, offset, event?, data?, id?, retry?,
// comment?) -> number. Encodes into pool[offset..] and returns the bytes
// written (> 0). Returns 0 when the frame does not fit (JS_lastNeeded() then
// tells the size it needs); throws the core's status (a TypeError with a
// code, made by lib/'s factory) for a bad `event` or `id`. Writing into a pooled slab the way
// Buffer.from() does avoids allocating a backing store per frame.
Napi::Value JS_encodeEventInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Message m;
  if (!readMessage(info, 2, &m)) return env.Null();
  FrameStatus st = validateMessage(m);
  if (st != FrameStatus::kOk) {
    throwStatus(env, statusOf(st));
    return env.Null();
  }
  auto pool = info[0].As<Napi::Uint8Array>();
  size_t offset = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  size_t n = encodedSize(m);
  if (offset > pool.ByteLength() || pool.ByteLength() - offset < n) {
    env.GetInstanceData<Addon>()->needed_ = n;
    return Napi::Number::New(env, 0);
  }
  encodeTo(m, reinterpret_cast<char*>(pool.Data()) + offset);
  return Napi::Number::New(env, static_cast<double>(n));
}

// JS_lastNeeded() -> the size the last frame that did not fit needs.
Napi::Value JS_lastNeeded(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(),
                           static_cast<double>(info.Env().GetInstanceData<Addon>()->needed_));
}

// JS_encodeNDJSON(json: string) -> Buffer
Napi::Value JS_encodeNDJSON(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* addon = env.GetInstanceData<Addon>();
  if (!info[0].IsString()) {
    throwTypeError(env, "encodeNDJSON: expected a JSON string");
    return env.Null();
  }
  std::string& json = addon->scratch_[0];
  if (!readUtf8(env, info[0], &json)) return env.Null();
  size_t n = ndjsonSize(json);
  napi_value buf;
  void* data;
  if (napi_create_buffer(env, n, &data, &buf) != napi_ok) return env.Null();
  encodeNdjsonTo(json, static_cast<char*>(data));
  return Napi::Value(env, buf);
}

}  // namespace

void initEncoder(Napi::Env env, Napi::Object exports, Addon* addon) {
  exports.Set("encodeEventInto", Napi::Function::New(env, JS_encodeEventInto, "encodeEventInto"));
  exports.Set("lastNeeded", Napi::Function::New(env, JS_lastNeeded, "lastNeeded"));
  exports.Set("encodeNDJSON", Napi::Function::New(env, JS_encodeNDJSON, "encodeNDJSON"));
}

}  // namespace sse::addon
