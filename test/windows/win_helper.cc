// Test-only addon, built by scripts/test-win.mjs, for what node:fs cannot do:
//
//   compare(from, to) -> { mapped: [[code, uv], ...], mismatches: [[code, node, ours], ...] }
//     native/win_errors.h next to the uv_translate_sys_error of the node.exe
//     that loaded this (node.exe exports libuv): mapped are the codes node.exe
//     translates to something other than UNKNOWN.
//   holdExclusive(path) -> id    opens the file with no sharing, as an
//                                editor or a virus scanner may
//   release(id)
#include <node_api.h>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cstdint>
#include <map>
#include <string>

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

std::map<int32_t, HANDLE> held;
int32_t next_id = 1;

bool WidePath(napi_env env, napi_value value, std::wstring* out) {
  size_t length = 0;
  if (napi_get_value_string_utf16(env, value, nullptr, 0, &length) != napi_ok) return false;
  std::u16string text(length, u'\0');
  if (napi_get_value_string_utf16(env, value, &text[0], length + 1, &length) != napi_ok) return false;
  out->assign(text.begin(), text.end());
  return true;
}

napi_value HoldExclusive(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  std::wstring path;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      !WidePath(env, argv[0], &path))
    return Throw(env, "holdExclusive(path)");
  HANDLE h = CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Throw(env, "CreateFileW failed");
  int32_t id = next_id++;
  held[id] = h;
  napi_value result;
  napi_create_int32(env, id, &result);
  return result;
}

napi_value Release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t id = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &id) != napi_ok || held.count(id) == 0)
    return Throw(env, "release(id)");
  CloseHandle(held[id]);
  held.erase(id);
  return nullptr;
}

bool Export(napi_env env, napi_value exports, const char* name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

}  // namespace

NAPI_MODULE_INIT() {
  if (!Export(env, exports, "compare", Compare) || !Export(env, exports, "holdExclusive", HoldExclusive) ||
      !Export(env, exports, "release", Release))
    return nullptr;
  return exports;
}
