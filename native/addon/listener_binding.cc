// JS functions of the core's own listener (native/core/io/listener.h):
// listen, listenerAddress, closeListener, listenerStats, and the answers to
// a REQUEST notification: requestHead, acceptRequest, respondRequest.
// Converts only; heads are parsed and responses built by the core, and
// every error is thrown by errors.cc.
#include <uv.h>

#include <string>
#include <vector>

#include "addon/addon.h"
#include "addon/engine.h"
#include "core/http_head.h"
#include "core/io/listener.h"
#include "core/status_map.h"

namespace sse::addon {
namespace {

Engine* engineOf(Napi::Env env) { return &env.GetInstanceData<Addon>()->engine_; }

uint32_t u32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }
double num(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }

// Header bytes as Node's http module gives them: one JS char per byte.
napi_value latin1(napi_env env, std::string_view s) {
  napi_value v = nullptr;
  napi_create_string_latin1(env, s.data(), s.size(), &v);
  return v;
}

// The listener `id` of this environment's context, or nullptr.
Listener* listenerOf(Napi::Env env, const Napi::Value& id) {
  Engine* engine = engineOf(env);
  return engine->hasContext() ? engine->context()->listener(u32(id)) : nullptr;
}

Pending* pendingOf(Napi::Env env, const Napi::Value& id) {
  Engine* engine = engineOf(env);
  return engine->hasContext() ? engine->context()->request(u32(id)) : nullptr;
}

// listen(host, port, backlog, maxHeadBytes, headTimeoutMs, maxPending) ->
// listener id (>= 1), or a negative libuv error code (nothing left open).
Napi::Value JS_listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Engine* engine = engineOf(env);
  LoopContext* ctx = engine->context();
  if (ctx == nullptr) return env.Null();
  std::string host = info[0].As<Napi::String>().Utf8Value();
  ListenerOptions o;
  o.backlog = info[2].As<Napi::Number>().Int32Value();
  o.max_head_bytes = static_cast<size_t>(num(info[3]));
  o.head_timeout_ms = static_cast<uint64_t>(num(info[4]));
  o.max_pending = static_cast<size_t>(num(info[5]));
  o.reuse_port = info.Length() > 6 && info[6].ToBoolean().Value();
  Listener* l = nullptr;
  int err = Listener::open(ctx, host, info[1].As<Napi::Number>().Int32Value(), o, &l);
  if (err != 0) return Napi::Number::New(env, err);
  engine->listenerOpened();
  return Napi::Number::New(env, l->id());
}

// listenerAddress(id) -> [address, port], or undefined for an unknown id.
Napi::Value JS_listenerAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Listener* l = listenerOf(env, info[0]);
  std::string host;
  int port = 0;
  if (l == nullptr || l->address(&host, &port) != 0) return env.Undefined();
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::String::New(env, host));
  a.Set(1u, Napi::Number::New(env, port));
  return a;
}

// closeListener(id): idempotent.
Napi::Value JS_closeListener(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Listener* l = listenerOf(env, info[0]);
  if (l != nullptr) {
    l->close();
    engineOf(env)->listenerClosed();
  }
  return env.Undefined();
}

// listenerRef(id, ref): whether the listening socket keeps the loop alive.
Napi::Value JS_listenerRef(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Listener* l = listenerOf(env, info[0]);
  if (l != nullptr) l->setRef(info[1].ToBoolean().Value());
  return env.Undefined();
}

// listenerStats(id) -> the listener's counters, or undefined.
Napi::Value JS_listenerStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Listener* l = listenerOf(env, info[0]);
  if (l == nullptr) return env.Undefined();
  const ListenerStats& s = l->stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("accepted", static_cast<double>(s.accepted));
  o.Set("pending", static_cast<double>(s.pending));
  o.Set("requests", static_cast<double>(s.requests));
  o.Set("badHeads", static_cast<double>(s.bad_heads));
  o.Set("headTimeouts", static_cast<double>(s.head_timeouts));
  o.Set("answerTimeouts", static_cast<double>(s.answer_timeouts));
  o.Set("overCap", static_cast<double>(s.over_cap));
  o.Set("adopted", static_cast<double>(s.adopted));
  o.Set("responded", static_cast<double>(s.responded));
  o.Set("clientGone", static_cast<double>(s.client_gone));
  o.Set("acceptErrors", static_cast<double>(s.accept_errors));
  return o;
}

// requestHead(pendingId) -> [method, target, versionMinor, remoteAddress,
// remotePort, extraBytes, name0, value0, ...], or undefined when the pending
// connection is gone.
Napi::Value JS_requestHead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pending* p = pendingOf(env, info[0]);
  if (p == nullptr) return env.Undefined();
  RequestHead& h = engineOf(env)->requestScratch();
  p->head(&h);
  std::string address;
  int port = 0;
  if (!p->peer(&address, &port)) address.clear();
  size_t n = 6 + 2 * h.headers.size();
  std::vector<napi_value> items(n);
  items[0] = latin1(env, h.method);
  items[1] = latin1(env, h.target);
  items[2] = Napi::Number::New(env, h.version_minor);
  items[3] = Napi::String::New(env, address);
  items[4] = Napi::Number::New(env, port);
  items[5] = Napi::Number::New(env, static_cast<double>(p->extraBytes()));
  for (size_t i = 0; i < h.headers.size(); ++i) {
    items[6 + 2 * i] = latin1(env, h.headers[i].first);
    items[7 + 2 * i] = latin1(env, h.headers[i].second);
  }
  Napi::Array a = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; ++i) a.Set(static_cast<uint32_t>(i), Napi::Value(env, items[i]));
  return a;
}

// acceptRequest(pendingId, memberId, head) -> 0, or a negative libuv code:
// UV_ENOENT (unknown, expired, answered or the client left), UV_EINVAL (not
// a held member), other codes (out of fds or memory: connection closed).
Napi::Value JS_acceptRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pending* p = pendingOf(env, info[0]);
  if (p == nullptr) return Napi::Number::New(env, UV_ENOENT);
  Connection* c = engineOf(env)->get(u32(info[1]));
  if (c == nullptr) return Napi::Number::New(env, UV_EINVAL);
  auto head = info[2].As<Napi::Uint8Array>();
  BufferRef head_ref(SharedBuffer::copyOf(head.Data(), head.ByteLength()));
  if (!head_ref) return Napi::Number::New(env, UV_ENOMEM);
  return Napi::Number::New(env, p->accept(c, std::move(head_ref)));
}

// respondRequest(pendingId, status, reason, names, values, body) -> 0, or
// UV_ENOENT when the pending connection is gone; a bad status, reason or
// header throws the core's status naming it (nothing written).
Napi::Value JS_respondRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pending* p = pendingOf(env, info[0]);
  if (p == nullptr) return Napi::Number::New(env, UV_ENOENT);
  auto names = info[3].As<Napi::Array>();
  auto values = info[4].As<Napi::Array>();
  auto body = info[5].As<Napi::Uint8Array>();
  uint32_t n = names.Length();
  std::vector<std::string> storage;
  storage.reserve(2 * n + 1);
  storage.push_back(info[2].As<Napi::String>().Utf8Value());
  for (uint32_t i = 0; i < n; ++i) {
    storage.push_back(names.Get(i).As<Napi::String>().Utf8Value());
    storage.push_back(values.Get(i).As<Napi::String>().Utf8Value());
  }
  HeaderList headers;
  headers.reserve(n);
  for (uint32_t i = 0; i < n; ++i) headers.emplace_back(storage[1 + 2 * i], storage[2 + 2 * i]);
  size_t bad = 0;
  HeadStatus st = p->respond(static_cast<int>(num(info[1])), storage[0], headers,
                             std::string_view(reinterpret_cast<const char*>(body.Data()),
                                              body.ByteLength()),
                             &bad);
  if (st != HeadStatus::kOk) {
    std::string what = st == HeadStatus::kInvalidStatus || st == HeadStatus::kInvalidReason
                           ? std::string("response head")
                           : "header " + storage[1 + 2 * bad];
    throwStatus(env, statusOf(st), what);
    return env.Null();
  }
  return Napi::Number::New(env, 0);
}

}  // namespace

void initListener(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Value (*f)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, f, name));
  };
  fn("listen", JS_listen);
  fn("listenerAddress", JS_listenerAddress);
  fn("closeListener", JS_closeListener);
  fn("listenerRef", JS_listenerRef);
  fn("listenerStats", JS_listenerStats);
  fn("requestHead", JS_requestHead);
  fn("acceptRequest", JS_acceptRequest);
  fn("respondRequest", JS_respondRequest);
}

}  // namespace sse::addon
