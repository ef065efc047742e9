// The addon's one throw site. Errors are made by a factory registered from
// JS at load (lib/native/binding.ts), so they are the package's own classes
// (TypeError/RangeError with a `code`, SSEError) in the caller's realm.
// Only the C API is used and every failure is ignored: while a Worker is
// torn down a throw may fail, and that must never abort the process.
#ifndef SSE_ADDON_ERRORS_H_
#define SSE_ADDON_ERRORS_H_

#include <napi.h>

#include <string>

#include "core/status.h"

namespace sse::addon {

// Throws the error for `st` (its kind, code and text), with `detail`
// prefixed to the text when given (e.g. the function or field name).
void throwStatus(napi_env env, Status st, const std::string& detail = std::string());
// Throws a TypeError with code ERR_INVALID_ARG_TYPE: a wrong argument type.
void throwTypeError(napi_env env, const std::string& message);
// Registers factory(kind: 'TypeError'|'RangeError'|'SSEError', code, message).
void setErrorFactory(napi_env env, napi_value fn);

}  // namespace sse::addon

#endif  // SSE_ADDON_ERRORS_H_
