// encodeEvent / encodeNDJSON: JS values to sse::Message, frame bytes back as
// a Buffer. The lib layer has already checked types and serialized data.
#include <cmath>

#include "addon/addon.h"
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

// JS_encodeEvent(event?, data?, id?, retry?, comment?) -> Buffer, or the
// FrameStatus (a number) when `event` or `id` holds CR, LF or NUL.
Napi::Value JS_encodeEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* addon = env.GetInstanceData<Addon>();
  Message m;
  if (!optionalString(env, info[0], &addon->scratch_[0], &m.event, &m.has_event, "event") ||
      !optionalString(env, info[1], &addon->scratch_[1], &m.data, &m.has_data, "data") ||
      !optionalString(env, info[2], &addon->scratch_[2], &m.id, &m.has_id, "id") ||
      !optionalString(env, info[4], &addon->scratch_[3], &m.comment, &m.has_comment, "comment")) {
    return env.Null();
  }
  if (!info[3].IsUndefined() && !info[3].IsNull()) {
    double r = info[3].IsNumber() ? info[3].As<Napi::Number>().DoubleValue() : -1;
    if (!(r >= 0) || r != std::floor(r) || r > 9007199254740991.0) {
      throwTypeError(env, "encodeEvent: `retry` must be a non-negative integer");
      return env.Null();
    }
    m.retry = static_cast<uint64_t>(r);
    m.has_retry = true;
  }
  // Bad content is reported as the core's status code, so lib/ throws the
  // TypeError in the caller's realm (a Jest sandbox has its own TypeError).
  FrameStatus st = validateMessage(m);
  if (st != FrameStatus::kOk) return Napi::Number::New(env, static_cast<int>(st));
  size_t n = encodedSize(m);
  napi_value buf;
  void* data;
  if (napi_create_buffer(env, n, &data, &buf) != napi_ok) return env.Null();
  encodeTo(m, static_cast<char*>(data));
  return Napi::Value(env, buf);
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
  exports.Set("encodeEvent", Napi::Function::New(env, JS_encodeEvent, "encodeEvent"));
  exports.Set("encodeNDJSON", Napi::Function::New(env, JS_encodeNDJSON, "encodeNDJSON"));
}

}  // namespace sse::addon
