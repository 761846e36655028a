// What the Windows files share (copy_win.cc, tree_win.cc): handles, paths,
// what a handle says of its file, errors as Node reports them on Windows,
// and the copy of one open file.
#ifndef COWCOPY_WIN_H_
#define COWCOPY_WIN_H_

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "copy.h"

namespace cowcopy {
namespace win {

// Sharing that locks nobody out, as a POSIX open does not.
constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

// Fails with a libuv error code (negative, as Node reports it on Windows).
inline Status FailUv(const char* syscall, int uv_code) { return Status{uv_code, syscall, false}; }
// A Win32 error as the Node that runs translates it (its own libuv).
int TranslateWinError(DWORD error);
// Fails with a Win32 error (GetLastError()), translated as Node does.
inline Status FailWin(const char* syscall, DWORD error) { return FailUv(syscall, TranslateWinError(error)); }
// For calls a filesystem may not implement at all (FSCTLs, hard links):
// ERROR_INVALID_FUNCTION is "this filesystem cannot" (ENOTSUP), not
// libuv's "is a directory".
Status FailFs(const char* syscall, DWORD error);

inline bool IsExistsError(DWORD error) { return error == ERROR_FILE_EXISTS || error == ERROR_ALREADY_EXISTS; }

class UniqueHandle {
 public:
  explicit UniqueHandle(HANDLE h = INVALID_HANDLE_VALUE) : h_(h) {}
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  ~UniqueHandle() { Reset(); }
  HANDLE get() const { return h_; }
  bool valid() const { return h_ != INVALID_HANDLE_VALUE; }
  void Reset(HANDLE h = INVALID_HANDLE_VALUE) {
    if (valid()) CloseHandle(h_);
    h_ = h;
  }
  // Closes and reports what CloseHandle said.
  DWORD Close() {
    HANDLE h = h_;
    h_ = INVALID_HANDLE_VALUE;
    if (h == INVALID_HANDLE_VALUE || CloseHandle(h)) return 0;
    return GetLastError();
  }

 private:
  HANDLE h_;
};

// UTF-8 bytes -> an absolute UTF-16 path with the \\?\ prefix (no MAX_PATH
// limit, no Win32 name parsing). Bytes that are not UTF-8 name no Windows
// file: ERROR_NO_UNICODE_TRANSLATION. Returns a Win32 error.
DWORD ToWidePath(const Path& path, std::wstring* out);
// UTF-8 -> UTF-16; empty, GetLastError() saying why, for bytes that are
// not UTF-8.
std::wstring Widen(const Path& utf8);
// UTF-16 -> UTF-8 (`length` characters, or up to the NUL).
std::string ToUtf8(const wchar_t* text, size_t length = std::wstring::npos);
std::wstring Join(const std::wstring& dir, const std::wstring& name);
// Renames `from` over `to` as rename(2) does: whatever non-directory is at
// `to` (a read-only file too) is replaced. Returns a Win32 error.
DWORD ReplaceEntry(const std::wstring& from, const std::wstring& to);
// The path an open file has now (through whatever symlink it was opened).
bool FinalPath(HANDLE h, std::wstring* out);

// Which file a handle is: FILE_ID_INFO where the filesystem has it (128-bit
// ids, which ReFS needs), else the 64-bit file index.
struct FileIdentity {
  bool extended = false;
  uint64_t volume = 0;
  uint8_t id[16] = {};

  bool SameVolume(const FileIdentity& other) const { return extended == other.extended && volume == other.volume; }
  bool SameFile(const FileIdentity& other) const {
    return SameVolume(other) && std::memcmp(id, other.id, sizeof id) == 0;
  }
};

struct FileFacts {
  FileIdentity identity;
  DWORD attributes = 0;
  DWORD links = 0;
  uint64_t size = 0;
  LARGE_INTEGER last_access_time = {};
  LARGE_INTEGER last_write_time = {};
  LARGE_INTEGER change_time = {};

  bool directory() const { return (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0; }
  bool sparse() const { return (attributes & FILE_ATTRIBUTE_SPARSE_FILE) != 0; }
  bool read_only() const { return (attributes & FILE_ATTRIBUTE_READONLY) != 0; }
};

// What a handle says of its file. Returns a Win32 error.
DWORD Inspect(HANDLE h, FileFacts* facts);
// Opens what is at `path`, a directory too (backup semantics); without
// `follow` a reparse point as itself. With `facts`, inspects it. Returns a
// Win32 error; *h holds the handle when only Inspect failed.
DWORD OpenExisting(const std::wstring& path, DWORD access, bool follow, UniqueHandle* h,
                   FileFacts* facts = nullptr, DWORD share = kShareAll);

// Removes the entry at `path` (through a link with `follow`), read-only or
// not; with `which`, only while it still is that file (one we wrote).
void RemoveEntry(const std::wstring& path, bool follow, const FileIdentity* which = nullptr);
// Deletes the open file when its last handle closes.
inline bool DeleteByHandle(HANDLE h) {
  FILE_DISPOSITION_INFO dispose = {TRUE};
  return SetFileInformationByHandle(h, FileDispositionInfo, &dispose, sizeof dispose) != 0;
}
// Sets a file's attributes; none at all is FILE_ATTRIBUTE_NORMAL (0 would
// leave them as they are).
inline bool SetAttributes(HANDLE h, DWORD attributes) {
  FILE_BASIC_INFO basic = {};
  basic.FileAttributes = attributes != 0 ? attributes : FILE_ATTRIBUTE_NORMAL;
  return SetFileInformationByHandle(h, FileBasicInfo, &basic, sizeof basic) != 0;
}

// Copies the open source `sh` (named wsrc, described by sf) to wdest by the
// cheapest strategy allowed, with what CopyFileW keeps.
Status CopyOpened(HANDLE sh, const std::wstring& wsrc, const FileFacts& sf, const std::wstring& wdest,
                  const CopyOptions& opts, CopyResult* result);

}  // namespace win
}  // namespace cowcopy

#endif  // COWCOPY_WIN_H_
