// Per-environment state of the addon (one per main thread or Worker).
#ifndef SSE_ADDON_ADDON_H_
#define SSE_ADDON_ADDON_H_

#include <napi.h>

#include <string>
#include <vector>

#include "addon/engine.h"
#include "addon/errors.h"
#include "core/frame.h"

namespace sse::addon {

// Binding-level codes exported in constants (see constants.cc).
constexpr int kDataAccepted = 3;  // a kData record JS's sink took at once
constexpr int kJoined = 0, kJoinedAfterGap = 1, kJoinAlready = 2, kJoinClosed = 3;

// Created once per Node environment by NODE_API_ADDON; Node frees it (and
// everything it owns) when the environment is torn down. No statics.
class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  // Deletes the error factory's reference (Napi::*Reference members delete
  // their own); without it 40 bytes per environment were lost.
  ~Addon();

  // Scratch space for converting JS strings, reused across calls.
  std::string scratch_[4];
  std::string key_;  // a hub key, read beside a message
  Napi::FunctionReference parser_ctor_;
  Engine engine_;
  // Size of the last frame that did not fit the caller's pool.
  size_t needed_ = 0;
  // Function members of the last broadcast (reused).
  std::vector<HubMember*> functions_;
  // Makes the package's error objects (see errors.h); set from JS at load.
  napi_ref error_factory_ = nullptr;
  napi_env env_;
};

// Reads a JS string as UTF-8 into `out` (lone surrogates become U+FFFD, as
// Node-API does). Returns false with a pending exception if `v` is not a
// string.
bool readUtf8(napi_env env, napi_value v, std::string* out);

// Module parts register themselves on `exports`.
void initEncoder(Napi::Env env, Napi::Object exports, Addon* addon);
void initParser(Napi::Env env, Napi::Object exports, Addon* addon);
void initHub(Napi::Env env, Napi::Object exports);
void initListener(Napi::Env env, Napi::Object exports);
void initConstants(Napi::Env env, Napi::Object exports);

// Reads info[first..first+4] = (event?, data?, id?, retry?, comment?) into
// *m, borrowing the Addon's scratch strings. False with a pending exception
// on a wrong type (lib/ checks types first).
bool readMessage(const Napi::CallbackInfo& info, size_t first, Message* m);

}  // namespace sse::addon

#endif  // SSE_ADDON_ADDON_H_
