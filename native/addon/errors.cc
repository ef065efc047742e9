#include "addon/errors.h"

#include "addon/addon.h"

namespace sse::addon {

namespace {
const char* kindName(StatusKind k) {
  switch (k) {
    case StatusKind::kTypeError: return "TypeError";
    case StatusKind::kRangeError: return "RangeError";
    default: return "SSEError";
  }
}

void throwError(napi_env env, const char* kind, const char* code, const std::string& message) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return;
  Addon* addon = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&addon)) != napi_ok) return;
  napi_value factory = nullptr;
  if (addon != nullptr && addon->error_factory_ != nullptr &&
      napi_get_reference_value(env, addon->error_factory_, &factory) == napi_ok && factory != nullptr) {
    napi_value argv[3], global, err;
    if (napi_create_string_utf8(env, kind, NAPI_AUTO_LENGTH, &argv[0]) == napi_ok &&
        napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &argv[1]) == napi_ok &&
        napi_create_string_utf8(env, message.data(), message.size(), &argv[2]) == napi_ok &&
        napi_get_global(env, &global) == napi_ok &&
        napi_call_function(env, global, factory, 3, argv, &err) == napi_ok) {
      napi_throw(env, err);
      return;
    }
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  }
  // No factory (or it failed): Node's own classes, which carry the code too.
  std::string text = message;
  if (kind[0] == 'T') {
    napi_throw_type_error(env, code, text.c_str());
  } else if (kind[0] == 'R') {
    napi_throw_range_error(env, code, text.c_str());
  } else {
    napi_throw_error(env, code, text.c_str());
  }
}
}  // namespace

void throwStatus(napi_env env, Status st, const std::string& detail) {
  std::string message = detail.empty() ? statusText(st) : detail + ": " + statusText(st);
  throwError(env, kindName(statusKind(st)), statusCode(st), message);
}

void throwTypeError(napi_env env, const std::string& message) {
  throwError(env, "TypeError", "ERR_INVALID_ARG_TYPE", message);
}

void setErrorFactory(napi_env env, napi_value fn) {
  Addon* addon = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&addon)) != napi_ok || addon == nullptr) {
    return;
  }
  if (addon->error_factory_ != nullptr) napi_delete_reference(env, addon->error_factory_);
  addon->error_factory_ = nullptr;
  napi_create_reference(env, fn, 1, &addon->error_factory_);
}

}  // namespace sse::addon
