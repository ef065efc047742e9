// The per-environment connection engine binding: a LoopContext on Node's
// loop, an id table from JS numbers to Connections, and the one JS callback
// that receives each loop turn's notifications.
#ifndef SSE_ADDON_ENGINE_H_
#define SSE_ADDON_ENGINE_H_

#include <napi.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/http_request.h"
#include "core/io/connection.h"
#include "core/io/loop_context.h"
#include "addon/errors.h"

namespace sse::addon {

// Owned by Addon. Connections are named in JS by small integer ids; an id
// is reused only after its close notification reached JS.
class Engine : public LoopObserver {
 public:
  explicit Engine(Napi::Env env);
  ~Engine() override;

  // Creates the LoopContext on first use; nullptr (with a JS exception
  // pending) if that fails.
  LoopContext* context();
  bool hasContext() const { return ctx_ != nullptr; }
  // The connection for `id`, or nullptr if the id is not live.
  Connection* get(uint32_t id) const {
    return id < slots_.size() ? slots_[id] : nullptr;
  }
  uint32_t add(Connection* c);
  // An open listener keeps the notification's async context alive as an
  // open connection does (REQUEST records arrive with no member open).
  void listenerOpened();
  void listenerClosed();
  // Reused by requestHead() (its header vector is reserved once).
  RequestHead& requestScratch() { return request_scratch_; }
  void setNotify(Napi::Function fn) { notify_ = Napi::Persistent(fn); }
  void setRemote(Napi::Function fn) { remote_ = Napi::Persistent(fn); }

  void onNotifications(const Notification* items, size_t n) override;
  void onRemoteBroadcast(std::string_view key, const Message& msg,
                         const std::vector<HubMember*>& functions) override;
  // The id JS knows a member by.
  static uint32_t idOf(const HubMember* m) {
    return static_cast<uint32_t>(
        reinterpret_cast<uintptr_t>(static_cast<const Connection*>(m)->user_data()));
  }

 private:
  // True if JS ran (a throw included); false if the call could not be made.
  bool callJs(napi_ref fn, size_t argc, napi_value* argv, napi_async_context context);
  static void cleanupHook(napi_async_cleanup_hook_handle handle, void* arg);
  static void destroyedCb(void* arg);

  napi_env env_;
  LoopContext* ctx_ = nullptr;
  napi_async_cleanup_hook_handle cleanup_ = nullptr;
  std::vector<Connection*> slots_;
  std::vector<uint32_t> free_;
  Napi::FunctionReference notify_;
  Napi::FunctionReference remote_;
  napi_ref records_ = nullptr;  // Int32Array of notification triples
  int32_t* records_data_ = nullptr;
  size_t records_capacity_ = 0;
  napi_async_context async_context_ = nullptr;
  size_t live_ = 0;  // connections added and not yet reported closed
  size_t listeners_ = 0;  // listeners opened and not yet closed from JS
  RequestHead request_scratch_;

  void ensureAsyncContext();
};

void initEngine(Napi::Env env, Napi::Object exports);

// A Buffer over a shared frame (no copy) holding one reference of it until
// collected; nullptr (reference released) if it cannot be made.
napi_value sharedBuffer(napi_env env, SharedBuffer* adopted);

}  // namespace sse::addon

#endif  // SSE_ADDON_ENGINE_H_
