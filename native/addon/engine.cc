#include "addon/engine.h"

#include <uv.h>

#include <cstdint>

namespace sse::addon {

Napi::Value sharedBuffer(Napi::Env env, BufferRef frame) {
  SharedBuffer* b = frame.release();
  return Napi::Buffer<char>::New(
      env, const_cast<char*>(b->data()), b->size(),
      [](Napi::Env, char*, SharedBuffer* hint) { hint->unref(); }, b);
}

Engine::Engine(Napi::Env env) : env_(env) {}

Engine::~Engine() {
  // Normally the async cleanup hook has destroyed the context already. If
  // the environment goes away without running it, destroy what is left so
  // no handle outlives its loop.
  if (ctx_ != nullptr) ctx_->destroy(nullptr, nullptr);
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
}

LoopContext* Engine::context() {
  if (ctx_ != nullptr) return ctx_;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env_, &loop) != napi_ok || loop == nullptr) {
    Napi::Error::New(env_, "sse-native: no event loop").ThrowAsJavaScriptException();
    return nullptr;
  }
  ctx_ = LoopContext::create(loop, this);
  if (ctx_ == nullptr) {
    Napi::Error::New(env_, "sse-native: out of memory").ThrowAsJavaScriptException();
    return nullptr;
  }
  // Without closing every handle at teardown, worker.terminate() aborts.
  napi_add_async_cleanup_hook(env_, cleanupHook, this, &cleanup_);
  return ctx_;
}

uint32_t Engine::add(Connection* c) {
  // The async resource the notifications are delivered under lives while
  // connections do: with none open, nothing holds the process (and Jest's
  // --detectOpenHandles reports nothing).
  if (async_context_ == nullptr) {
    napi_value name;
    napi_create_string_utf8(env_, "sse-native:notify", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env_, nullptr, name, &async_context_);
  }
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

// Packs the turn's notifications as [id, kind, status] triples and makes
// one call into JS. Ids of closed connections are released only after JS
// has seen them, so JS never confuses a new connection with an old one.
void Engine::onNotifications(const Notification* items, size_t n) {
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  if (records_capacity_ < n * 3) {
    size_t cap = n * 3 < 192 ? 192 : n * 6;
    records_ = Napi::Persistent(Napi::Int32Array::New(env, cap));
    records_capacity_ = cap;
  }
  Napi::Int32Array recs = records_.Value();
  int32_t* out = recs.Data();
  for (size_t i = 0; i < n; ++i) {
    out[i * 3] = static_cast<int32_t>(reinterpret_cast<uintptr_t>(items[i].user_data));
    out[i * 3 + 1] = items[i].kind;
    out[i * 3 + 2] = items[i].status;
  }
  if (!notify_.IsEmpty()) {
    napi_value argv[2] = {recs, Napi::Number::New(env, static_cast<double>(n))};
    napi_value result;
    napi_status st = napi_make_callback(env_, async_context_, env.Global(), notify_.Value(), 2,
                                        argv, &result);
    if (st == napi_pending_exception) {
      // A throwing listener must reach 'uncaughtException', not unwind libuv.
      napi_value err;
      napi_get_and_clear_last_exception(env_, &err);
      napi_fatal_exception(env_, err);
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
  if (live_ == 0 && async_context_ != nullptr) {
    napi_async_destroy(env_, async_context_);
    async_context_ = nullptr;
  }
}

// Hands a broadcast published on another thread to JS, for the members JS
// writes itself: remote(key, frame: Buffer, event, data, id, retry).
void Engine::onRemoteBroadcast(std::string_view key, const Message& msg,
                               const BufferRef& frame) {
  if (remote_.IsEmpty()) return;
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  auto str = [&](bool has, std::string_view v) -> napi_value {
    if (!has) return env.Undefined();
    return Napi::String::New(env, v.data(), v.size());
  };
  napi_value argv[6] = {
      Napi::String::New(env, key.data(), key.size()),
      sharedBuffer(env, frame.share()),
      str(msg.has_event, msg.event),
      str(msg.has_data, msg.data),
      str(msg.has_id, msg.id),
      msg.has_retry ? Napi::Number::New(env, static_cast<double>(msg.retry)) : env.Undefined(),
  };
  // A short-lived async context: nothing stays open between deliveries.
  napi_value name;
  napi_create_string_utf8(env_, "sse-native:remote", NAPI_AUTO_LENGTH, &name);
  napi_async_context context = nullptr;
  napi_async_init(env_, nullptr, name, &context);
  napi_value result;
  napi_status st = napi_make_callback(env_, context, env.Global(), remote_.Value(), 6, argv, &result);
  napi_async_destroy(env_, context);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env_, &err);
    napi_fatal_exception(env_, err);
  }
}

void Engine::cleanupHook(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* self = static_cast<Engine*>(arg);
  LoopContext* ctx = self->ctx_;
  self->ctx_ = nullptr;
  self->slots_.clear();
  self->free_.clear();
  self->live_ = 0;
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
