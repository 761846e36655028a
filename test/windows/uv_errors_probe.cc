// Test-only addon, built by scripts/test-win.mjs: puts native/win_errors.h
// next to the uv_translate_sys_error of the node.exe that loaded it (node.exe
// exports libuv), so the table is checked against the real thing.
//
//   compare(from, to) -> { mapped: [[code, uv], ...], mismatches: [[code, node, ours], ...] }
//     mapped: the codes node.exe translates to something other than UNKNOWN.
#include <node_api.h>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cstdint>

#include "win_errors.h"

namespace {

using TranslateFn = int (*)(int);

napi_value Throw(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

bool PushRow(napi_env env, napi_value array, uint32_t index, const int* values, uint32_t count) {
  napi_value row;
  if (napi_create_array_with_length(env, count, &row) != napi_ok) return false;
  for (uint32_t i = 0; i < count; i++) {
    napi_value n;
    if (napi_create_int32(env, values[i], &n) != napi_ok) return false;
    if (napi_set_element(env, row, i, n) != napi_ok) return false;
  }
  return napi_set_element(env, array, index, row) == napi_ok;
}

napi_value Compare(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2)
    return Throw(env, "compare(from, to)");
  uint32_t from = 0, to = 0;
  if (napi_get_value_uint32(env, argv[0], &from) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &to) != napi_ok)
    return Throw(env, "compare(from, to): numbers");
  // The host executable's own export, not a copy of libuv linked in here.
  FARPROC proc = GetProcAddress(GetModuleHandleW(nullptr), "uv_translate_sys_error");
  if (proc == nullptr) return Throw(env, "the host process does not export uv_translate_sys_error");
  TranslateFn node_translate = reinterpret_cast<TranslateFn>(reinterpret_cast<void*>(proc));

  napi_value result, mapped, mismatches;
  if (napi_create_object(env, &result) != napi_ok || napi_create_array(env, &mapped) != napi_ok ||
      napi_create_array(env, &mismatches) != napi_ok)
    return Throw(env, "out of memory");
  uint32_t n_mapped = 0, n_mismatches = 0;
  for (uint32_t code = from; code < to; code++) {
    int node = node_translate(static_cast<int>(code));
    int ours = cowcopy::win::TranslateError(code);
    if (node != cowcopy::uvwin::kUNKNOWN) {
      const int row[2] = {static_cast<int>(code), node};
      if (!PushRow(env, mapped, n_mapped++, row, 2)) return Throw(env, "napi");
    }
    if (node != ours) {
      const int row[3] = {static_cast<int>(code), node, ours};
      if (!PushRow(env, mismatches, n_mismatches++, row, 3)) return Throw(env, "napi");
    }
  }
  napi_set_named_property(env, result, "mapped", mapped);
  napi_set_named_property(env, result, "mismatches", mismatches);
  return result;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "compare", NAPI_AUTO_LENGTH, Compare, nullptr, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "compare", fn) != napi_ok)
    return nullptr;
  return exports;
}
