#include "addon/addon.h"

namespace sse::addon {

Addon::Addon(Napi::Env env, Napi::Object exports) : engine_(env), env_(env) {
  initEncoder(env, exports, this);
  initParser(env, exports, this);
  initEngine(env, exports);
  initHub(env, exports);
  initListener(env, exports);
  initConstants(env, exports);
}

Addon::~Addon() {
  if (error_factory_ != nullptr) napi_delete_reference(env_, error_factory_);
}

bool readUtf8(napi_env env, napi_value v, std::string* out) {
  // One call in the common case: write into the reused capacity and only ask
  // for the exact length when the string may not have fitted.
  if (out->capacity() < 256) out->reserve(256);
  out->resize(out->capacity());
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, out->data(), out->size() + 1, &len) != napi_ok) {
    return false;
  }
  // The copy stops at a character boundary, so a non-ASCII string that did
  // not fit may come back up to 3 bytes short of the buffer: re-read then.
  if (len + 3 >= out->size()) {
    if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return false;
    out->resize(len);
    if (napi_get_value_string_utf8(env, v, out->data(), len + 1, &len) != napi_ok) return false;
  }
  out->resize(len);
  return true;
}

}  // namespace sse::addon

using SseNativeAddon = sse::addon::Addon;
NODE_API_ADDON(SseNativeAddon)
