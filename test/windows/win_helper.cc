// Test-only addon (test/windows/binding.gyp; mingw-w64 here), for what
// node:fs cannot do:
//
//   compare(from, to) -> { mapped: [[code, uv], ...], mismatches: [[code, node, table], ...] }
//     native/win_errors.h's table next to the uv_translate_sys_error of the
//     node.exe that loaded this (node.exe exports libuv): mapped are the codes
//     node.exe translates to something other than UNKNOWN.
//   nodeTranslate(code) -> uv    node.exe's own translation of one code
//   hold(path, share) -> id      opens the file as another program may: share
//                                '' (nothing: an editor, a virus scanner) or
//                                'rw' (reading and writing, not deleting)
//   release(id)
//   blocks(path) -> { allocated, shared }   clusters of the file and how many
//                                are shared with another file (ReFS reference
//                                counts, FSCTL_GET_RETRIEVAL_POINTERS_AND_REFCOUNT)
//   setEa(path, name, value)     one extended attribute (NtSetEaFile)
//   eas(path) -> { name: Buffer } every extended attribute (NtQueryEaFile)
//   attributes(path) -> n, setAttributes(path, n)   FILE_ATTRIBUTE_* bits
#include <node_api.h>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <winternl.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "win_errors.h"

namespace {

using TranslateFn = int (*)(int);

TranslateFn NodeTranslate() {
  FARPROC proc = GetProcAddress(GetModuleHandleW(nullptr), "uv_translate_sys_error");
  return reinterpret_cast<TranslateFn>(reinterpret_cast<void*>(proc));
}

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
  TranslateFn node_translate = NodeTranslate();
  if (node_translate == nullptr) return Throw(env, "the host process does not export uv_translate_sys_error");

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

bool Args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  return napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok && argc >= want;
}

bool Utf8(napi_env env, napi_value value, std::string* out) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) return false;
  out->assign(length + 1, '\0');
  if (napi_get_value_string_utf8(env, value, &(*out)[0], length + 1, &length) != napi_ok) return false;
  out->resize(length);
  return true;
}

napi_value Number(napi_env env, double n) {
  napi_value v;
  napi_create_double(env, n, &v);
  return v;
}

napi_value NodeTranslateJs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t code = 0;
  if (!Args(env, info, 1, argv) || napi_get_value_int32(env, argv[0], &code) != napi_ok)
    return Throw(env, "nodeTranslate(code)");
  TranslateFn node_translate = NodeTranslate();
  if (node_translate == nullptr) return Throw(env, "the host process does not export uv_translate_sys_error");
  return Number(env, node_translate(code));
}

napi_value Hold(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  std::wstring path;
  std::string share;
  if (!Args(env, info, 2, argv) || !WidePath(env, argv[0], &path) || !Utf8(env, argv[1], &share))
    return Throw(env, "hold(path, share)");
  DWORD mode = 0;
  if (share.find('r') != std::string::npos) mode |= FILE_SHARE_READ;
  if (share.find('w') != std::string::npos) mode |= FILE_SHARE_WRITE;
  if (share.find('d') != std::string::npos) mode |= FILE_SHARE_DELETE;
  HANDLE h = CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE, mode, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Throw(env, "CreateFileW failed");
  int32_t id = next_id++;
  held[id] = h;
  napi_value result;
  napi_create_int32(env, id, &result);
  return result;
}

// Clusters of the file, and how many are shared with another file.
napi_value Blocks(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::wstring path;
  if (!Args(env, info, 1, argv) || !WidePath(env, argv[0], &path)) return Throw(env, "blocks(path)");
  HANDLE h = CreateFileW(path.c_str(), FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         nullptr, OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Throw(env, "CreateFileW failed");
  struct Extent {
    LONGLONG next_vcn;
    LONGLONG lcn;
    DWORD reference_count;
  };
  struct Reply {
    DWORD count;
    DWORD unused;
    LONGLONG starting_vcn;
    Extent extents[256];
  };
  static_assert(sizeof(Extent) == 24 && offsetof(Reply, extents) == 16, "RETRIEVAL_POINTERS_AND_REFCOUNT_BUFFER");
  double allocated = 0, shared = 0;
  LONGLONG vcn = 0;
  DWORD err = 0;
  for (;;) {
    Reply reply;
    DWORD bytes = 0;
    BOOL ok = DeviceIoControl(h, 0x903D3, &vcn, sizeof vcn, &reply, sizeof reply, &bytes, nullptr);
    err = ok ? 0 : GetLastError();
    if (err == ERROR_HANDLE_EOF) {
      err = 0;
      break;
    }
    if (err != 0 && err != ERROR_MORE_DATA) break;
    LONGLONG at = reply.starting_vcn;
    for (DWORD i = 0; i < reply.count && i < 256; i++) {
      const double clusters = static_cast<double>(reply.extents[i].next_vcn - at);
      at = reply.extents[i].next_vcn;
      if (reply.extents[i].lcn == -1) continue;
      allocated += clusters;
      if (reply.extents[i].reference_count > 1) shared += clusters;
    }
    if (err == 0 || reply.count == 0) break;
    vcn = at;
  }
  CloseHandle(h);
  if (err != 0) return Throw(env, ("FSCTL_GET_RETRIEVAL_POINTERS_AND_REFCOUNT failed: " + std::to_string(err)).c_str());
  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "allocated", Number(env, allocated));
  napi_set_named_property(env, result, "shared", Number(env, shared));
  return result;
}

using NtSetEaFileFn = LONG(NTAPI*)(HANDLE, PIO_STATUS_BLOCK, PVOID, ULONG);
using NtQueryEaFileFn = LONG(NTAPI*)(HANDLE, PIO_STATUS_BLOCK, PVOID, ULONG, BOOLEAN, PVOID, ULONG, PULONG, BOOLEAN);

FARPROC Ntdll(const char* name) { return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), name); }

// FILE_FULL_EA_INFORMATION
struct FullEa {
  ULONG next_entry_offset;
  UCHAR flags;
  UCHAR name_length;
  USHORT value_length;
  CHAR name[1];
};

napi_value SetEa(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  std::wstring path;
  std::string name, value;
  if (!Args(env, info, 3, argv) || !WidePath(env, argv[0], &path) || !Utf8(env, argv[1], &name) ||
      !Utf8(env, argv[2], &value) || name.size() > 254 || value.size() > 60000)
    return Throw(env, "setEa(path, name, value)");
  auto set = reinterpret_cast<NtSetEaFileFn>(reinterpret_cast<void*>(Ntdll("NtSetEaFile")));
  if (set == nullptr) return Throw(env, "no NtSetEaFile");
  HANDLE h = CreateFileW(path.c_str(), FILE_WRITE_EA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Throw(env, "CreateFileW failed");
  std::vector<char> buffer(offsetof(FullEa, name) + name.size() + 1 + value.size() + 4, 0);
  auto* ea = reinterpret_cast<FullEa*>(buffer.data());
  ea->name_length = static_cast<UCHAR>(name.size());
  ea->value_length = static_cast<USHORT>(value.size());
  std::memcpy(ea->name, name.data(), name.size());
  std::memcpy(ea->name + name.size() + 1, value.data(), value.size());
  IO_STATUS_BLOCK io = {};
  LONG status = set(h, &io, buffer.data(), static_cast<ULONG>(buffer.size()));
  CloseHandle(h);
  if (status < 0) return Throw(env, ("NtSetEaFile failed: 0x" + std::to_string(static_cast<unsigned long>(status))).c_str());
  return nullptr;
}

napi_value Eas(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::wstring path;
  if (!Args(env, info, 1, argv) || !WidePath(env, argv[0], &path)) return Throw(env, "eas(path)");
  auto query = reinterpret_cast<NtQueryEaFileFn>(reinterpret_cast<void*>(Ntdll("NtQueryEaFile")));
  if (query == nullptr) return Throw(env, "no NtQueryEaFile");
  HANDLE h = CreateFileW(path.c_str(), FILE_READ_EA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Throw(env, "CreateFileW failed");
  std::vector<char> buffer(70000);
  IO_STATUS_BLOCK io = {};
  LONG status = query(h, &io, buffer.data(), static_cast<ULONG>(buffer.size()), FALSE, nullptr, 0, nullptr, TRUE);
  CloseHandle(h);
  napi_value result;
  napi_create_object(env, &result);
  if (status == static_cast<LONG>(0xC0000052) || status == static_cast<LONG>(0x80000012)) return result;  // none
  if (status < 0) return Throw(env, ("NtQueryEaFile failed: 0x" + std::to_string(static_cast<unsigned long>(status))).c_str());
  for (size_t at = 0; at < io.Information;) {
    const auto* ea = reinterpret_cast<const FullEa*>(buffer.data() + at);
    napi_value value;
    void* data = nullptr;
    napi_create_buffer_copy(env, ea->value_length, ea->name + ea->name_length + 1, &data, &value);
    napi_set_named_property(env, result, std::string(ea->name, ea->name_length).c_str(), value);
    if (ea->next_entry_offset == 0) break;
    at += ea->next_entry_offset;
  }
  return result;
}

napi_value Attributes(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::wstring path;
  if (!Args(env, info, 1, argv) || !WidePath(env, argv[0], &path)) return Throw(env, "attributes(path)");
  DWORD attributes = GetFileAttributesW(path.c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES) return Throw(env, "GetFileAttributesW failed");
  return Number(env, attributes);
}

napi_value SetAttributes(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  std::wstring path;
  uint32_t attributes = 0;
  if (!Args(env, info, 2, argv) || !WidePath(env, argv[0], &path) ||
      napi_get_value_uint32(env, argv[1], &attributes) != napi_ok)
    return Throw(env, "setAttributes(path, n)");
  if (!SetFileAttributesW(path.c_str(), attributes)) return Throw(env, "SetFileAttributesW failed");
  return nullptr;
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
  if (!Export(env, exports, "compare", Compare) || !Export(env, exports, "nodeTranslate", NodeTranslateJs) ||
      !Export(env, exports, "hold", Hold) || !Export(env, exports, "release", Release) ||
      !Export(env, exports, "blocks", Blocks) || !Export(env, exports, "setEa", SetEa) ||
      !Export(env, exports, "eas", Eas) || !Export(env, exports, "attributes", Attributes) ||
      !Export(env, exports, "setAttributes", SetAttributes))
    return nullptr;
  return exports;
}
