#include "addon/engine.h"

#include "addon/addon.h"

#include <uv.h>

#include <cstdint>

namespace sse::addon {

napi_value sharedBuffer(napi_env env, SharedBuffer* b) {
  napi_value out = nullptr;
  if (napi_create_external_buffer(
          env, b->size(), b->data(),
          [](napi_env, void*, void* hint) { static_cast<SharedBuffer*>(hint)->unref(); }, b,
          &out) != napi_ok) {
    b->unref();
    return nullptr;
  }
  return out;
}

Engine::Engine(Napi::Env env) : env_(env) {}

Engine::~Engine() {
  // Normally the async cleanup hook has destroyed the context already. If
  // the environment goes away without running it, destroy what is left so
  // no handle outlives its loop.
  if (ctx_ != nullptr) ctx_->destroy(nullptr, nullptr);
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
  if (records_ != nullptr) napi_delete_reference(env_, records_);
}

LoopContext* Engine::context() {
  if (ctx_ != nullptr) return ctx_;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env_, &loop) != napi_ok || loop == nullptr) {
    throwStatus(env_, Status::kNoLoop);
    return nullptr;
  }
  ctx_ = LoopContext::create(loop, this);
  if (ctx_ == nullptr) {
    throwStatus(env_, Status::kNoMemory);
    return nullptr;
  }
  // Without closing every handle at teardown, worker.terminate() aborts.
  napi_add_async_cleanup_hook(env_, cleanupHook, this, &cleanup_);
  return ctx_;
}

// The async resource the notifications are delivered under lives while
// connections or listeners do: with none open, nothing holds the process
// (and Jest's --detectOpenHandles reports nothing).
void Engine::ensureAsyncContext() {
  if (async_context_ != nullptr) return;
  napi_value name;
  napi_create_string_utf8(env_, "sse-native:notify", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env_, nullptr, name, &async_context_);
}

void Engine::listenerOpened() {
  ensureAsyncContext();
  ++listeners_;
}

void Engine::listenerClosed() {
  if (listeners_ > 0) --listeners_;
  if (live_ == 0 && listeners_ == 0 && async_context_ != nullptr) {
    napi_async_destroy(env_, async_context_);
    async_context_ = nullptr;
  }
}

uint32_t Engine::add(Connection* c) {
  ensureAsyncContext();
  ++live_;
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    slots_[id] = c;
  } else {
    id = static_cast<uint32_t>(slots_.size());
    slots_.push_back(c);
  }
  c->set_user_data(reinterpret_cast<void*>(static_cast<uintptr_t>(id)));
  return id;
}

// Calls fn(argv) under `context` with the C API only: while a Worker is
// torn down, libuv callbacks still run but JS cannot, and every call may
// fail; then nothing is delivered (and nothing throws). A listener that
// throws is handed to 'uncaughtException', never unwound through libuv.
bool Engine::callJs(napi_ref fn, size_t argc, napi_value* argv, napi_async_context context) {
  napi_value callee, global, result;
  if (napi_get_reference_value(env_, fn, &callee) != napi_ok || callee == nullptr) return false;
  if (napi_get_global(env_, &global) != napi_ok) return false;
  napi_status st = napi_make_callback(env_, context, global, callee, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value err;
    if (napi_get_and_clear_last_exception(env_, &err) == napi_ok) napi_fatal_exception(env_, err);
  }
  return st == napi_ok || st == napi_pending_exception;
}

// Packs the turn's notifications as [id, kind, status] triples (a REQUEST
// record: [pending id, REQUEST, listener id]) and makes
// one call into JS: notify(records, n, buffers). A kData record's status is
// the index of its Buffer in `buffers` (one Buffer per distinct shared
// frame: members handed the same broadcast share one JS object). JS marks
// the kData records whose sink took the bytes at once by overwriting their
// kind with kDataAccepted; those are acknowledged here, after the call, so
// the next buffer can go out in the same loop turn. Ids of closed members
// are released only after JS has seen them, so JS never confuses a new
// member with an old one.
void Engine::onNotifications(const Notification* items, size_t n) {
  bool delivered = false;
  napi_handle_scope scope;
  if (!notify_.IsEmpty() && napi_open_handle_scope(env_, &scope) == napi_ok) {
    napi_value recs = nullptr;
    if (records_capacity_ < n * 3) {
      size_t cap = n * 3 < 192 ? 192 : n * 6;
      napi_value ab;
      void* data = nullptr;
      if (napi_create_arraybuffer(env_, cap * sizeof(int32_t), &data, &ab) == napi_ok &&
          napi_create_typedarray(env_, napi_int32_array, cap, ab, 0, &recs) == napi_ok) {
        if (records_ != nullptr) napi_delete_reference(env_, records_);
        records_ = nullptr;
        if (napi_create_reference(env_, recs, 1, &records_) == napi_ok) {
          records_data_ = static_cast<int32_t*>(data);
          records_capacity_ = cap;
        } else {
          recs = nullptr;
        }
      } else {
        recs = nullptr;
      }
    } else if (napi_get_reference_value(env_, records_, &recs) != napi_ok) {
      recs = nullptr;
    }
    napi_value count, buffers = nullptr;
    bool ok = recs != nullptr && napi_create_double(env_, static_cast<double>(n), &count) == napi_ok &&
              napi_create_array(env_, &buffers) == napi_ok;
    uint32_t nbuf = 0;
    const SharedBuffer* last = nullptr;
    for (size_t i = 0; ok && i < n; ++i) {
      int32_t status = items[i].status;
      if (items[i].kind == Notification::kData) {
        // Consecutive members handed the same frame share its Buffer.
        if (items[i].data != last || nbuf == 0) {
          items[i].data->ref();
          napi_value b = sharedBuffer(env_, items[i].data);
          ok = b != nullptr && napi_set_element(env_, buffers, nbuf++, b) == napi_ok;
          last = items[i].data;
        }
        status = static_cast<int32_t>(nbuf - 1);
      }
      records_data_[i * 3] = static_cast<int32_t>(reinterpret_cast<uintptr_t>(items[i].user_data));
      records_data_[i * 3 + 1] = items[i].kind;
      records_data_[i * 3 + 2] = status;
    }
    if (ok) {
      napi_value argv[3] = {recs, count, buffers};
      delivered = callJs(notify_, 3, argv, async_context_);
    }
    napi_close_handle_scope(env_, scope);
  }
  if (delivered) {
    for (size_t i = 0; i < n; ++i) {
      if (items[i].kind != Notification::kData || records_data_[i * 3 + 1] != kDataAccepted) continue;
      uint32_t id = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(items[i].user_data));
      if (id < slots_.size() && slots_[id] == items[i].connection) items[i].connection->acknowledge();
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (items[i].kind != Notification::kClose) continue;
    uint32_t id = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(items[i].user_data));
    if (id < slots_.size() && slots_[id] == items[i].connection) {
      slots_[id] = nullptr;
      free_.push_back(id);
      --live_;
    }
  }
  if (live_ == 0 && listeners_ == 0 && async_context_ != nullptr) {
    napi_async_destroy(env_, async_context_);
    async_context_ = nullptr;
  }
}

// Hands a broadcast published on another thread to JS for this thread's
// function members: remote(key, ids: Int32Array, event, data, id, retry).
void Engine::onRemoteBroadcast(std::string_view key, const Message& msg,
                               const std::vector<HubMember*>& functions) {
  if (remote_.IsEmpty()) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  auto str = [&](bool has, std::string_view v, napi_value* out) {
    if (!has) return napi_get_undefined(env_, out) == napi_ok;
    return napi_create_string_utf8(env_, v.data(), v.size(), out) == napi_ok;
  };
  napi_value argv[6], ab;
  void* data = nullptr;
  bool ok = str(true, key, &argv[0]) &&
            napi_create_arraybuffer(env_, functions.size() * sizeof(int32_t), &data, &ab) == napi_ok &&
            napi_create_typedarray(env_, napi_int32_array, functions.size(), ab, 0, &argv[1]) == napi_ok;
  if (ok) {
    for (size_t i = 0; i < functions.size(); ++i) {
      static_cast<int32_t*>(data)[i] = static_cast<int32_t>(idOf(functions[i]));
    }
  }
  ok = ok && str(msg.has_event, msg.event, &argv[2]) && str(msg.has_data, msg.data, &argv[3]) &&
       str(msg.has_id, msg.id, &argv[4]) &&
       (msg.has_retry ? napi_create_double(env_, static_cast<double>(msg.retry), &argv[5])
                      : napi_get_undefined(env_, &argv[5])) == napi_ok;
  napi_value name;
  napi_async_context context = nullptr;
  // A short-lived async context: nothing stays open between deliveries.
  if (ok && napi_create_string_utf8(env_, "sse-native:remote", NAPI_AUTO_LENGTH, &name) == napi_ok &&
      napi_async_init(env_, nullptr, name, &context) == napi_ok) {
    callJs(remote_, 6, argv, context);
    napi_async_destroy(env_, context);
  }
  napi_close_handle_scope(env_, scope);
}

void Engine::cleanupHook(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* self = static_cast<Engine*>(arg);
  LoopContext* ctx = self->ctx_;
  self->ctx_ = nullptr;
  self->slots_.clear();
  self->free_.clear();
  self->live_ = 0;
  self->listeners_ = 0;
  if (ctx == nullptr) {
    napi_remove_async_cleanup_hook(handle);
    return;
  }
  ctx->destroy(destroyedCb, handle);
}

void Engine::destroyedCb(void* arg) {
  napi_remove_async_cleanup_hook(static_cast<napi_async_cleanup_hook_handle>(arg));
}

}  // namespace sse::addon
