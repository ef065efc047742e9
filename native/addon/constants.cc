// The core's enums and status table as JS constants, exported once at init:
// lib/ never copies a number by hand.
#include <uv.h>

#include "addon/addon.h"
#include "core/hub_member.h"
#include "core/io/loop_context.h"
#include "core/status.h"

namespace sse::addon {

void initConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
  auto group = [&](const char* name, std::initializer_list<std::pair<const char*, int>> values) {
    Napi::Object g = Napi::Object::New(env);
    for (const auto& [k, v] : values) g.Set(k, v);
    g.Freeze();
    c.Set(name, g);
  };
  group("SendResult", {{"SUCCESS", static_cast<int>(SendResult::kSuccess)},
                       {"BACKPRESSURE", static_cast<int>(SendResult::kBackpressure)},
                       {"DROPPED", static_cast<int>(SendResult::kDropped)},
                       {"CLOSED", static_cast<int>(SendResult::kClosed)}});
  group("Policy", {{"CLOSE", static_cast<int>(SlowConsumerPolicy::kClose)},
                   {"DROP", static_cast<int>(SlowConsumerPolicy::kDrop)}});
  group("Notify", {{"DRAIN", Notification::kDrain},
                   {"CLOSE", Notification::kClose},
                   {"DATA", Notification::kData},
                   {"DATA_ACCEPTED", kDataAccepted},
                   {"REQUEST", Notification::kRequest}});
  group("Join", {{"JOINED", kJoined},
                 {"JOINED_AFTER_GAP", kJoinedAfterGap},
                 {"ALREADY", kJoinAlready},
                 {"CLOSED", kJoinClosed}});
  group("Errno", {{"EOF", UV_EOF},
                  {"ENOBUFS", UV_ENOBUFS},
                  {"ETIMEDOUT", UV_ETIMEDOUT},
                  {"ECONNRESET", UV_ECONNRESET},
                  {"EPIPE", UV_EPIPE},
                  {"ECANCELED", UV_ECANCELED},
                  {"ENOENT", UV_ENOENT},
                  {"EINVAL", UV_EINVAL},
                  {"EADDRINUSE", UV_EADDRINUSE},
                  {"ENOTSUP", UV_ENOTSUP}});
  // Status: NAME -> value, and statuses[value] = { name, code, kind, text }.
  Napi::Object byName = Napi::Object::New(env);
  Napi::Array table = Napi::Array::New(env, static_cast<size_t>(Status::kCount));
  for (int i = 0; i < static_cast<int>(Status::kCount); ++i) {
    Status s = static_cast<Status>(i);
    byName.Set(statusName(s), i);
    Napi::Object row = Napi::Object::New(env);
    row.Set("name", statusName(s));
    row.Set("code", statusCode(s));
    StatusKind k = statusKind(s);
    row.Set("kind", k == StatusKind::kTypeError    ? "TypeError"
                    : k == StatusKind::kRangeError ? "RangeError"
                    : k == StatusKind::kState      ? "SSEError"
                                                   : "");
    row.Set("text", statusText(s));
    row.Freeze();
    table.Set(static_cast<uint32_t>(i), row);
  }
  byName.Freeze();
  c.Set("Status", byName);
  c.Set("statuses", table);
  c.Freeze();
  exports.Set("constants", c);
}

}  // namespace sse::addon
