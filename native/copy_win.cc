// Windows: block cloning (FSCTL_DUPLICATE_EXTENTS_TO_FILE, ReFS and Dev
// Drive) -> CopyFileExW -> ReadFile/WriteFile.
//
// The contract is copy_linux.cc's: the same-file check before anything is
// truncated, EEXIST without overwrite, a destination that was created or
// changed is removed when the copy fails, an untouched pre-existing one is
// kept. Errors are the codes Node reports on Windows (win_errors.h).
//
// fs.copyFile on Windows is CopyFileW, and every path here gives what it
// gives, whether the data was cloned or copied: the data, the named streams
// (Zone.Identifier, the Mark of the Web, among them), the extended
// attributes, the file attributes (read-only, hidden, system, archive, ...)
// and the source's last write time.
//
// Windows specifics, each handled where it applies below:
// - Paths arrive as UTF-8 and are used as absolute UTF-16 paths with the
//   \\?\ prefix, so names longer than MAX_PATH and any Unicode name work.
// - "mode" is the read-only attribute: the only permission bit Node maps.
// - CopyFileExW block-clones by itself on Windows 11 24H2 and Server 2025:
//   where the volume can clone, its copy is reported as 'reflink' when its
//   blocks are shared (reference counts).
// - A forced 'copy' never clones: where the volume can clone, the bytes go
//   through a ReadFile/WriteFile loop ('userspace', holes not kept);
//   elsewhere CopyFileExW, which cannot clone there.
#include "copy.h"

#include "win.h"

#include <winioctl.h>
#include <winternl.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <cwchar>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "clone_plan.h"
#include "thread.h"
#include "win_errors.h"

// mingw-w64 10 lacks the block cloning declarations. Where the SDK has them
// (MSVC), its definitions are used and ours are checked against them.
#ifdef FSCTL_DUPLICATE_EXTENTS_TO_FILE
#define COWCOPY_SDK_HAS_BLOCK_CLONING 1
#else
#define FSCTL_DUPLICATE_EXTENTS_TO_FILE \
  CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 209, METHOD_BUFFERED, FILE_WRITE_ACCESS)
#endif
#ifndef FSCTL_GET_INTEGRITY_INFORMATION
#define FSCTL_GET_INTEGRITY_INFORMATION \
  CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 159, METHOD_BUFFERED, FILE_ANY_ACCESS)
#endif
#ifndef FSCTL_SET_INTEGRITY_INFORMATION
#define FSCTL_SET_INTEGRITY_INFORMATION \
  CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 160, METHOD_BUFFERED, FILE_READ_DATA | FILE_WRITE_DATA)
#endif
#ifndef FILE_SUPPORTS_BLOCK_REFCOUNTING
#define FILE_SUPPORTS_BLOCK_REFCOUNTING 0x08000000
#endif

static_assert(FSCTL_DUPLICATE_EXTENTS_TO_FILE == 0x98344, "FSCTL_DUPLICATE_EXTENTS_TO_FILE");
static_assert(FSCTL_GET_INTEGRITY_INFORMATION == 0x9027C, "FSCTL_GET_INTEGRITY_INFORMATION");
static_assert(FSCTL_SET_INTEGRITY_INFORMATION == 0x9C280, "FSCTL_SET_INTEGRITY_INFORMATION");
static_assert(FILE_SUPPORTS_BLOCK_REFCOUNTING == 0x08000000, "FILE_SUPPORTS_BLOCK_REFCOUNTING");

namespace cowcopy {
namespace win {

namespace {
bool StartsWith(const std::wstring& text, const wchar_t* prefix) {
  return text.compare(0, wcslen(prefix), prefix) == 0;
}

// The function `module` exports as `name`, or nullptr.
template <typename Fn>
Fn Export(HMODULE module, const char* name) {
  return module == nullptr ? nullptr : reinterpret_cast<Fn>(reinterpret_cast<void*>(GetProcAddress(module, name)));
}

// The directory holding `path`, with a trailing backslash.
std::wstring ParentDirectory(const std::wstring& path) {
  size_t slash = path.find_last_of(L'\\');
  if (slash == std::wstring::npos) return path;
  return path.substr(0, slash + 1);
}

// A name beside `path`: TempName's form, in path's directory.
std::wstring TempSibling(const std::wstring& path, const char* tag) {
  const Path name = TempName(tag);  // ASCII
  return ParentDirectory(path) + std::wstring(name.begin(), name.end());
}
}  // namespace

// libuv's translation in the node.exe that loaded this addon (it exports
// libuv), so errors carry the codes of the Node that runs; the table of
// win_errors.h where the host has no such export.
int TranslateWinError(DWORD error) {
  static const auto node = Export<int (*)(int)>(GetModuleHandleW(nullptr), "uv_translate_sys_error");
  return node != nullptr ? node(static_cast<int>(error)) : TranslateError(error);
}

// ERROR_INVALID_FUNCTION is STATUS_INVALID_DEVICE_REQUEST there.
Status FailFs(const char* syscall, DWORD error) {
  return error == ERROR_INVALID_FUNCTION ? FailUv(syscall, uvwin::kENOTSUP) : FailWin(syscall, error);
}

std::wstring Widen(const Path& utf8) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  if (n <= 0) return std::wstring();
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()), &out[0], n);
  return out;
}

// GetFullPathNameW resolves '.', '..', '/' and the current directory.
DWORD ToWidePath(const Path& path, std::wstring* out) {
  if (path.empty()) return ERROR_PATH_NOT_FOUND;  // as Node says for ''
  std::wstring wide = Widen(path);
  if (wide.empty()) return GetLastError();
  if (StartsWith(wide, L"\\\\?\\") || StartsWith(wide, L"\\\\.\\")) {
    *out = std::move(wide);  // already a namespace path: taken as given
    return 0;
  }
  DWORD size = GetFullPathNameW(wide.c_str(), 0, nullptr, nullptr);
  if (size == 0) return GetLastError();
  std::wstring full(size, L'\0');
  DWORD length = GetFullPathNameW(wide.c_str(), size, &full[0], nullptr);
  if (length == 0) return GetLastError();
  if (length >= size) return ERROR_FILENAME_EXCED_RANGE;  // the cwd changed meanwhile
  full.resize(length);
  if (StartsWith(full, L"\\\\?\\") || StartsWith(full, L"\\\\.\\")) {
    *out = std::move(full);  // a device name (NUL, CON) comes back as \\.\NUL
  } else if (StartsWith(full, L"\\\\")) {
    *out = L"\\\\?\\UNC\\" + full.substr(2);
  } else {
    *out = L"\\\\?\\" + full;
  }
  return 0;
}

std::string ToUtf8(const wchar_t* text, size_t length) {
  const int in = length == std::wstring::npos ? -1 : static_cast<int>(length);
  int n = WideCharToMultiByte(CP_UTF8, 0, text, in, nullptr, 0, nullptr, nullptr);
  if (n <= 0) return std::string();
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, in, &out[0], n, nullptr, nullptr);
  if (in < 0) out.resize(static_cast<size_t>(n - 1));  // the NUL
  return out;
}

std::wstring Join(const std::wstring& dir, const std::wstring& name) {
  if (!dir.empty() && dir.back() == L'\\') return dir + name;
  return dir + L"\\" + name;
}

bool FinalPath(HANDLE h, std::wstring* out) {
  DWORD n = GetFinalPathNameByHandleW(h, nullptr, 0, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
  if (n == 0) return false;
  std::wstring path(n, L'\0');
  DWORD got = GetFinalPathNameByHandleW(h, &path[0], n, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
  if (got == 0 || got >= n) return false;
  path.resize(got);
  *out = std::move(path);
  return true;
}

// MoveFileExW refuses a read-only target, and any directory: the attribute
// is cleared for the move and put back if it fails; a directory symlink is
// removed first (fs.cp unlinks a link before it makes the new one).
DWORD ReplaceEntry(const std::wstring& from, const std::wstring& to) {
  if (MoveFileExW(from.c_str(), to.c_str(), MOVEFILE_REPLACE_EXISTING)) return 0;
  const DWORD err = GetLastError();
  if (err != ERROR_ACCESS_DENIED) return err;
  UniqueHandle target;
  FileFacts facts;
  if (OpenExisting(to, FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | DELETE, false, &target, &facts) != 0) return err;
  const DWORD attributes = facts.attributes;
  if ((attributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
    if ((attributes & FILE_ATTRIBUTE_REPARSE_POINT) == 0) return err;  // a real directory is never replaced
    if (!DeleteByHandle(target.get())) return err;
    target.Reset();
    return MoveFileExW(from.c_str(), to.c_str(), MOVEFILE_REPLACE_EXISTING) ? 0 : GetLastError();
  }
  // Not with other links: they would keep the attribute cleared.
  if ((attributes & FILE_ATTRIBUTE_READONLY) == 0 || facts.links != 1) return err;
  if (!SetAttributes(target.get(), attributes & ~DWORD{FILE_ATTRIBUTE_READONLY})) return err;
  // A target open anywhere, this handle too, is not replaced.
  target.Reset();
  if (MoveFileExW(from.c_str(), to.c_str(), MOVEFILE_REPLACE_EXISTING)) return 0;
  const DWORD moved = GetLastError();
  if (OpenExisting(to, FILE_WRITE_ATTRIBUTES, false, &target) == 0) SetAttributes(target.get(), attributes);
  return moved;
}

DWORD Inspect(HANDLE h, FileFacts* facts) {
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(h, &info)) return GetLastError();
  FILE_BASIC_INFO basic;
  if (!GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof basic)) return GetLastError();
  facts->attributes = info.dwFileAttributes;
  facts->links = info.nNumberOfLinks;
  facts->size = (static_cast<uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
  facts->last_access_time = basic.LastAccessTime;
  facts->last_write_time = basic.LastWriteTime;
  facts->change_time = basic.ChangeTime;
  FileIdentity& id = facts->identity;
  FILE_ID_INFO ext;
  if (GetFileInformationByHandleEx(h, FileIdInfo, &ext, sizeof ext)) {
    id.extended = true;
    id.volume = ext.VolumeSerialNumber;
    static_assert(sizeof ext.FileId.Identifier == sizeof id.id, "FILE_ID_128");
    std::memcpy(id.id, ext.FileId.Identifier, sizeof id.id);
  } else {
    id.extended = false;
    id.volume = info.dwVolumeSerialNumber;
    uint64_t index = (static_cast<uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow;
    std::memset(id.id, 0, sizeof id.id);
    std::memcpy(id.id, &index, sizeof index);
  }
  return 0;
}

DWORD OpenExisting(const std::wstring& path, DWORD access, bool follow, UniqueHandle* h, FileFacts* facts,
                   DWORD share) {
  const DWORD flags = FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT);
  h->Reset(CreateFileW(path.c_str(), access, share, nullptr, OPEN_EXISTING, flags, nullptr));
  if (!h->valid()) return GetLastError();
  return facts != nullptr ? Inspect(h->get(), facts) : 0;
}

// The attributes FileBasicInfo can set (sparse, compressed and the like have
// their own FSCTLs).
constexpr DWORD kSettableAttributes = FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN |
                                      FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE |
                                      FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_OFFLINE |
                                      FILE_ATTRIBUTE_NOT_CONTENT_INDEXED;

void RemoveEntry(const std::wstring& path, bool follow, const FileIdentity* which) {
  UniqueHandle h;
  FileFacts now;
  if (OpenExisting(path, FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | DELETE, follow, &h, &now) != 0 ||
      (which != nullptr && !now.identity.SameFile(*which)))
    return;
  if (now.read_only()) SetAttributes(h.get(), now.attributes & kSettableAttributes & ~DWORD{FILE_ATTRIBUTE_READONLY});
  DeleteByHandle(h.get());
}

namespace {

// DUPLICATE_EXTENTS_DATA
struct DuplicateExtentsData {
  HANDLE file_handle;
  LARGE_INTEGER source_file_offset;
  LARGE_INTEGER target_file_offset;
  LARGE_INTEGER byte_count;
};
// FSCTL_GET_INTEGRITY_INFORMATION_BUFFER
struct GetIntegrityBuffer {
  WORD checksum_algorithm;
  WORD reserved;
  DWORD flags;
  DWORD checksum_chunk_size_in_bytes;
  DWORD cluster_size_in_bytes;
};
// FSCTL_SET_INTEGRITY_INFORMATION_BUFFER
struct SetIntegrityBuffer {
  WORD checksum_algorithm;
  WORD reserved;
  DWORD flags;
};
static_assert(sizeof(DuplicateExtentsData) == 32, "DUPLICATE_EXTENTS_DATA");
static_assert(sizeof(GetIntegrityBuffer) == 16, "FSCTL_GET_INTEGRITY_INFORMATION_BUFFER");
static_assert(sizeof(SetIntegrityBuffer) == 8, "FSCTL_SET_INTEGRITY_INFORMATION_BUFFER");
#ifdef COWCOPY_SDK_HAS_BLOCK_CLONING
static_assert(sizeof(DuplicateExtentsData) == sizeof(DUPLICATE_EXTENTS_DATA) &&
                  offsetof(DuplicateExtentsData, byte_count) ==
                      offsetof(DUPLICATE_EXTENTS_DATA, ByteCount),
              "DUPLICATE_EXTENTS_DATA");
static_assert(sizeof(GetIntegrityBuffer) == sizeof(FSCTL_GET_INTEGRITY_INFORMATION_BUFFER) &&
                  offsetof(GetIntegrityBuffer, cluster_size_in_bytes) ==
                      offsetof(FSCTL_GET_INTEGRITY_INFORMATION_BUFFER, ClusterSizeInBytes),
              "FSCTL_GET_INTEGRITY_INFORMATION_BUFFER");
static_assert(sizeof(SetIntegrityBuffer) == sizeof(FSCTL_SET_INTEGRITY_INFORMATION_BUFFER),
              "FSCTL_SET_INTEGRITY_INFORMATION_BUFFER");
#endif

constexpr DWORD kBufferSize = 1 << 20;

// A hidden temporary file at `path`, new.
HANDLE CreateScratch(const std::wstring& path, DWORD flags) {
  return CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE | DELETE, kShareAll, nullptr,
                     CREATE_NEW, FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_TEMPORARY | flags,
                     nullptr);
}

// What is at `path`: *exists false when nothing is. Returns a Win32 error.
// Attribute-only access takes no part in sharing checks: it locks nobody out.
DWORD LookAt(const std::wstring& path, bool* exists, FileFacts* facts) {
  UniqueHandle h;
  DWORD err = OpenExisting(path, FILE_READ_ATTRIBUTES, true, &h, facts);
  *exists = h.valid();
  return err == ERROR_FILE_NOT_FOUND && !h.valid() ? 0 : err;
}

Status SameFile(const CopyOptions& opts, const FileFacts& src, CopyResult* result) {
  if (!opts.same_file_ok) return Status{uvwin::kEINVAL, "copyfile", true};
  result->strategy = Strategy::kNone;
  result->bytes = src.size;
  return Status();
}

DWORD SetEndOfFile(HANDLE h, uint64_t size) {
  FILE_END_OF_FILE_INFO eof;
  eof.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
  return SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof) ? 0 : GetLastError();
}

// The destination file, opened by handle. What it created or changed is
// removed when it goes out of scope without Commit or Keep.
class Destination {
 public:
  Destination() = default;
  Destination(const Destination&) = delete;
  Destination& operator=(const Destination&) = delete;
  ~Destination() { Abandon(); }

  // Creates dest, or opens the file already there (through a symlink, as
  // fs.copyFile does) without truncating it.
  Status Open(const std::wstring& path, bool overwrite) {
    path_ = path;
    const DWORD access = GENERIC_READ | GENERIC_WRITE | DELETE;
    h_.Reset(CreateFileW(path.c_str(), access, kShareAll, nullptr, CREATE_NEW,
                         FILE_ATTRIBUTE_NORMAL, nullptr));
    if (h_.valid()) {
      created_ = true;
    } else {
      DWORD err = GetLastError();
      if (!IsExistsError(err)) return FailOpen(err);
      if (!overwrite) return FailUv("open", uvwin::kEEXIST);
      h_.Reset(CreateFileW(path.c_str(), access, kShareAll, nullptr, OPEN_EXISTING, 0, nullptr));
      err = h_.valid() ? 0 : GetLastError();
      if (err == ERROR_ACCESS_DENIED || err == ERROR_SHARING_VIOLATION) {
        // Not deletable by us, or held open by a program that shares reading
        // and writing but not deletion: CopyFileW writes into such a file,
        // and so does this; cleanup then goes by name.
        can_delete_ = false;
        h_.Reset(CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE, kShareAll, nullptr,
                             OPEN_EXISTING, 0, nullptr));
      }
      if (!h_.valid() && GetLastError() == ERROR_FILE_NOT_FOUND) {
        // A dangling symlink: create its target, as fs.copyFile does.
        can_delete_ = true;
        h_.Reset(CreateFileW(path.c_str(), access, kShareAll, nullptr, OPEN_ALWAYS,
                             FILE_ATTRIBUTE_NORMAL, nullptr));
        created_ = h_.valid() && GetLastError() != ERROR_ALREADY_EXISTS;
      }
      if (!h_.valid()) return FailOpen(GetLastError());
    }
    DWORD err = Inspect(h_.get(), &facts_);
    return err == 0 ? Status() : FailWin("fstat", err);
  }

  HANDLE get() const { return h_.get(); }
  bool created() const { return created_; }
  bool touched() const { return touched_; }
  const FileFacts& facts() const { return facts_; }
  // Whether dest is the source file itself (it may have become so since it
  // was looked at).
  bool Is(const FileFacts& src) const { return !created_ && facts_.identity.SameFile(src.identity); }
  // From now on the data of a pre-existing file is ours to remove on failure.
  void MarkTouched() { touched_ = true; }

  // Empties a pre-existing dest, which makes its data ours.
  Status Empty() {
    if (created_ || facts_.size == 0) return Status();
    touched_ = true;
    DWORD err = SetEndOfFile(h_.get(), 0);
    return err == 0 ? Status() : FailWin("ftruncate", err);
  }

  // Closes, leaving the file as it is.
  void Keep() { h_.Reset(); }

  // Closes after a copy; if even that fails (a network redirector reporting
  // a failed write), what was written is removed, as on Linux.
  DWORD Commit() {
    DWORD err = h_.Close();
    if (err != 0) RemoveEntry(path_, true, &facts_.identity);
    return err;
  }

 private:
  Status FailOpen(DWORD err) {
    // Opening a directory for writing is "access denied" on Windows; the
    // contract says EISDIR, as open(2) does.
    bool exists = false;
    FileFacts facts;
    if (err == ERROR_ACCESS_DENIED && LookAt(path_, &exists, &facts) == 0 && exists &&
        facts.directory())
      return FailUv("open", uvwin::kEISDIR);
    return FailWin("open", err);
  }

  // Closes, removing the file if we created it or changed its data.
  void Abandon() {
    if (!h_.valid()) return;
    const bool ours = created_ || touched_;
    const bool deleted = ours && can_delete_ && DeleteByHandle(h_.get());
    h_.Reset();
    if (ours && !deleted) RemoveEntry(path_, true, &facts_.identity);
  }

  std::wstring path_;
  UniqueHandle h_;
  bool created_ = false;
  bool touched_ = false;
  bool can_delete_ = true;
  FileFacts facts_;
};

// Reads up to `want` bytes at `offset`; *got is 0 at the end of the file.
DWORD ReadAt(HANDLE h, uint64_t offset, char* buffer, DWORD want, DWORD* got) {
  OVERLAPPED at = {};
  at.Offset = static_cast<DWORD>(offset);
  at.OffsetHigh = static_cast<DWORD>(offset >> 32);
  if (ReadFile(h, buffer, want, got, &at)) return 0;
  DWORD err = GetLastError();
  *got = 0;
  return err == ERROR_HANDLE_EOF ? 0 : err;
}

DWORD WriteAllAt(HANDLE h, uint64_t offset, const char* buffer, DWORD length) {
  while (length > 0) {
    OVERLAPPED at = {};
    at.Offset = static_cast<DWORD>(offset);
    at.OffsetHigh = static_cast<DWORD>(offset >> 32);
    DWORD wrote = 0;
    if (!WriteFile(h, buffer, length, &wrote, &at)) return GetLastError();
    if (wrote == 0) return ERROR_WRITE_FAULT;
    buffer += wrote;
    offset += wrote;
    length -= wrote;
  }
  return 0;
}

// Copies every byte through a buffer. Holes are not kept.
DWORD CopyThroughBuffer(HANDLE src, HANDLE dst, const char** syscall) {
  std::unique_ptr<char[]> buffer(new char[kBufferSize]);
  for (uint64_t offset = 0;;) {
    DWORD got = 0;
    DWORD err = ReadAt(src, offset, buffer.get(), kBufferSize, &got);
    if (err == 0 && got == 0) return 0;
    if (err == 0) err = WriteAllAt(dst, offset, buffer.get(), got);
    if (err != 0) {
      *syscall = got == 0 ? "read" : "write";  // a failed read got nothing
      return err;
    }
    offset += got;
  }
}

// The cluster size of the volume holding `path`, for when the filesystem
// does not report it with the integrity information.
DWORD ClusterSize(const std::wstring& path, uint64_t* cluster) {
  std::wstring root(path.size() + 2, L'\0');
  if (!GetVolumePathNameW(path.c_str(), &root[0], static_cast<DWORD>(root.size())))
    return GetLastError();
  root.resize(wcslen(root.c_str()));
  DWORD sectors_per_cluster = 0, bytes_per_sector = 0, free_clusters = 0, clusters = 0;
  if (!GetDiskFreeSpaceW(root.c_str(), &sectors_per_cluster, &bytes_per_sector, &free_clusters,
                         &clusters))
    return GetLastError();
  *cluster = static_cast<uint64_t>(sectors_per_cluster) * bytes_per_sector;
  return 0;
}

// ---- what CopyFileW copies besides the data ----

// The named data streams of the file open as `src` into the file open as
// `dst`: Zone.Identifier (the Mark of the Web) among them. On ReFS they are
// resident, never cloned ([MS-FSCC] 2.3.34): they are copied through a buffer.
Status CopyNamedStreams(HANDLE src, HANDLE dst) {
  std::vector<char> info(4096);
  for (;;) {
    if (GetFileInformationByHandleEx(src, FileStreamInfo, info.data(), static_cast<DWORD>(info.size()))) break;
    DWORD err = GetLastError();
    if (err == ERROR_MORE_DATA && info.size() < (1u << 24)) {
      info.resize(info.size() * 4);
      continue;
    }
    // No streams to list here (FAT), or none at all: nothing to copy.
    if (err == ERROR_HANDLE_EOF || err == ERROR_INVALID_PARAMETER || err == ERROR_INVALID_FUNCTION ||
        err == ERROR_NOT_SUPPORTED)
      return Status();
    return FailWin("fstat", err);
  }
  std::wstring src_path, dst_path;
  for (size_t at = 0;;) {
    const auto* entry = reinterpret_cast<const FILE_STREAM_INFO*>(info.data() + at);
    std::wstring name(entry->StreamName, entry->StreamNameLength / sizeof(wchar_t));
    if (entry->StreamNameLength != 0 && name != L"::$DATA") {
      if (src_path.empty() && (!FinalPath(src, &src_path) || !FinalPath(dst, &dst_path)))
        return FailWin("open", GetLastError());
      UniqueHandle from(CreateFileW((src_path + name).c_str(), GENERIC_READ, kShareAll, nullptr,
                                    OPEN_EXISTING, 0, nullptr));
      if (!from.valid()) return FailWin("open", GetLastError());
      UniqueHandle to(CreateFileW((dst_path + name).c_str(), GENERIC_WRITE, kShareAll, nullptr,
                                  CREATE_ALWAYS, 0, nullptr));
      if (!to.valid()) return FailWin("open", GetLastError());
      const char* syscall = "write";
      DWORD err = CopyThroughBuffer(from.get(), to.get(), &syscall);
      if (err == 0) err = to.Close();
      if (err != 0) return FailWin(syscall, err);
    }
    if (entry->NextEntryOffset == 0) return Status();
    at += entry->NextEntryOffset;
  }
}

// ntdll's extended-attribute calls ([MS-FSCC] 2.4.16 FILE_FULL_EA_INFORMATION
// lists): no Win32 function reads or writes EAs.
using NtQueryEaFileFn = LONG(NTAPI*)(HANDLE, PIO_STATUS_BLOCK, PVOID, ULONG, BOOLEAN, PVOID, ULONG,
                                     PULONG, BOOLEAN);
using NtSetEaFileFn = LONG(NTAPI*)(HANDLE, PIO_STATUS_BLOCK, PVOID, ULONG);
using RtlNtStatusToDosErrorFn = ULONG(NTAPI*)(LONG);

constexpr LONG kStatusBufferOverflow = static_cast<LONG>(0x80000005);
constexpr LONG kStatusNoMoreEas = static_cast<LONG>(0x80000012);
constexpr LONG kStatusNotImplemented = static_cast<LONG>(0xC0000002);
constexpr LONG kStatusInvalidDeviceRequest = static_cast<LONG>(0xC0000010);
constexpr LONG kStatusEasNotSupported = static_cast<LONG>(0xC000004F);
constexpr LONG kStatusNoEasOnFile = static_cast<LONG>(0xC0000052);

// The extended attributes of `src` onto `dst`, as CopyFileExW keeps them. A
// file has at most 64 KiB of them. A destination volume without EAs (ReFS)
// takes none, as a copy there cannot hold them.
Status CopyExtendedAttributes(HANDLE src, HANDLE dst) {
  static const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  static const auto query = Export<NtQueryEaFileFn>(ntdll, "NtQueryEaFile");
  static const auto set = Export<NtSetEaFileFn>(ntdll, "NtSetEaFile");
  static const auto to_dos = Export<RtlNtStatusToDosErrorFn>(ntdll, "RtlNtStatusToDosError");
  if (query == nullptr || set == nullptr || to_dos == nullptr) return Status();
  std::vector<char> eas(65536 + 4096);
  IO_STATUS_BLOCK io = {};
  LONG status = query(src, &io, eas.data(), static_cast<ULONG>(eas.size()), FALSE, nullptr, 0,
                         nullptr, TRUE);
  if (status == kStatusNoEasOnFile || status == kStatusNoMoreEas || status == kStatusEasNotSupported ||
      status == kStatusNotImplemented || status == kStatusInvalidDeviceRequest)
    return Status();
  if (status < 0 || status == kStatusBufferOverflow)
    return FailWin("NtQueryEaFile", status == kStatusBufferOverflow ? ERROR_MORE_DATA : to_dos(status));
  if (io.Information == 0) return Status();
  status = set(dst, &io, eas.data(), static_cast<ULONG>(io.Information));
  if (status == kStatusEasNotSupported || status == kStatusNotImplemented || status == kStatusInvalidDeviceRequest)
    return Status();
  return status < 0 ? FailWin("NtSetEaFile", to_dos(status)) : Status();
}

// What the copy gets last, as CopyFileW gives it: the source's attributes
// (read-only, hidden, system, archive, ...) and last write time; its access
// time too when asked. The read-only attribute last of all: it would stop
// the writes before it.
Status FinishAttributes(HANDLE dst, const FileFacts& src, const CopyOptions& opts) {
  FILE_BASIC_INFO basic = {};  // 0: leave as it is
  basic.LastWriteTime = src.last_write_time;
  if (opts.preserve_timestamps) basic.LastAccessTime = src.last_access_time;
  const DWORD attributes = src.attributes & kSettableAttributes;
  basic.FileAttributes = attributes != 0 ? attributes : FILE_ATTRIBUTE_NORMAL;  // NORMAL: none
  const bool set = SetFileInformationByHandle(dst, FileBasicInfo, &basic, sizeof basic) != 0;
  return set ? Status() : FailWin("futime", GetLastError());
}

// Whether every allocated cluster of the open file is shared with another
// file (CopyFileExW's clone: see the top of this file). ReFS reference
// counts, FSCTL_GET_RETRIEVAL_POINTERS_AND_REFCOUNT ([MS-FSCC] 2.3.33, 2.3.34).
bool SharesAllBlocks(HANDLE h) {
  struct ExtentAndRefcount {
    LONGLONG next_vcn;
    LONGLONG lcn;  // -1: not allocated
    DWORD reference_count;
  };
  struct Extents {
    DWORD extent_count;
    DWORD unused;
    LONGLONG starting_vcn;
    ExtentAndRefcount extents[128];
  };
  static_assert(sizeof(ExtentAndRefcount) == 24 && offsetof(Extents, extents) == 16, "RETRIEVAL_POINTERS_AND_REFCOUNT_BUFFER");
  constexpr DWORD kGetRetrievalPointersAndRefcount = 0x903D3;
  LONGLONG vcn = 0;
  bool allocated = false;
  for (;;) {
    Extents out;
    DWORD bytes = 0;
    BOOL ok = DeviceIoControl(h, kGetRetrievalPointersAndRefcount, &vcn, sizeof vcn, &out, sizeof out, &bytes,
                              nullptr);
    DWORD err = ok ? 0 : GetLastError();
    if (err == ERROR_HANDLE_EOF) return allocated;  // nothing (more) allocated
    if (err != 0 && err != ERROR_MORE_DATA) return false;
    if (out.extent_count == 0 || out.extent_count > 128) return allocated;
    for (DWORD i = 0; i < out.extent_count; i++) {
      if (out.extents[i].lcn == -1) continue;
      if (out.extents[i].reference_count < 2) return false;
      allocated = true;
    }
    if (err == 0) return allocated;
    vcn = out.extents[out.extent_count - 1].next_vcn;
  }
}

// ---- block cloning ----

struct CloneOutcome {
  const char* syscall = nullptr;
  DWORD error = 0;
  bool dest_changed = false;  // dest's size, flags or data were changed
};

// What cloning from a source needs, found before dest is touched.
struct ClonePrep {
  bool have_integrity = false;
  GetIntegrityBuffer integrity = {};
  ClonePlan plan;
};

bool GetIntegrity(HANDLE h, GetIntegrityBuffer* out) {
  DWORD bytes = 0;
  return DeviceIoControl(h, FSCTL_GET_INTEGRITY_INFORMATION, nullptr, 0, out, sizeof *out, &bytes, nullptr) != 0;
}

// The source's integrity-stream settings and the volume's cluster size,
// and from them the ranges to clone.
CloneOutcome PrepareClone(HANDLE src, const std::wstring& src_path, uint64_t size, ClonePrep* prep) {
  prep->have_integrity = GetIntegrity(src, &prep->integrity);
  if (!prep->have_integrity) {
    DWORD err = GetLastError();
    // A filesystem without integrity streams (NTFS): nothing to match; the
    // clone itself will say whether it can.
    if (!CloneUnsupported(err)) return {"ioctl", err, false};
  }
  uint64_t cluster = prep->have_integrity ? prep->integrity.cluster_size_in_bytes : 0;
  if (cluster == 0) {
    DWORD err = ClusterSize(src_path, &cluster);
    if (err != 0) return {"statfs", err, false};
  }
  if (!PlanClone(size, cluster, &prep->plan)) return {"ioctl", ERROR_NOT_SUPPORTED, false};
  return CloneOutcome();
}

// DeviceIoControl with input only. Returns a Win32 error.
DWORD Control(HANDLE h, DWORD code, void* in, DWORD in_size) {
  DWORD bytes = 0;
  return DeviceIoControl(h, code, in, in_size, nullptr, 0, &bytes, nullptr) ? 0 : GetLastError();
}

DWORD SetSparse(HANDLE h, bool sparse) {
  FILE_SET_SPARSE_BUFFER request = {static_cast<BOOLEAN>(sparse)};
  return Control(h, FSCTL_SET_SPARSE, &request, sizeof request);
}

// One FSCTL_DUPLICATE_EXTENTS_TO_FILE per planned range, the tail's bytes
// written where the volume refuses its range (clone_plan.h).
CloneOutcome CloneRanges(const ClonePlan& plan, HANDLE src, HANDLE dst) {
  for (size_t i = 0; i < plan.ranges.size(); i++) {
    const CloneRange& range = plan.ranges[i];
    DuplicateExtentsData data = {};
    data.file_handle = src;
    data.source_file_offset.QuadPart = static_cast<LONGLONG>(range.offset);
    data.target_file_offset.QuadPart = static_cast<LONGLONG>(range.offset);
    data.byte_count.QuadPart = static_cast<LONGLONG>(range.length);
    DWORD err = Control(dst, FSCTL_DUPLICATE_EXTENTS_TO_FILE, &data, sizeof data);
    if (err == 0) continue;
    const bool is_tail = plan.tail_bytes != 0 && range.offset == plan.tail_offset;
    // A file of one partial cluster is not cloned at all then (i == 0).
    if (!is_tail || i == 0 || !TailMayBeWritten(err)) return {"ioctl", err, true};
    std::unique_ptr<char[]> tail(new char[plan.tail_bytes]);
    DWORD got = 0;
    err = ReadAt(src, plan.tail_offset, tail.get(), static_cast<DWORD>(plan.tail_bytes), &got);
    if (err != 0) return {"read", err, true};
    err = WriteAllAt(dst, plan.tail_offset, tail.get(), got);
    if (err != 0) return {"write", err, true};
  }
  return CloneOutcome();
}

// Clones the planned ranges of src into dst, an empty file on the same
// volume, by the calls RecipeFor orders (clone_plan.h).
CloneOutcome ApplyClone(const ClonePrep& prep, HANDLE src, bool src_sparse, uint64_t size, HANDLE dst,
                        bool dst_sparse) {
  GetIntegrityBuffer now = {};
  const bool dst_has = prep.have_integrity && GetIntegrity(dst, &now);
  const IntegrityInfo src_integrity = {prep.integrity.checksum_algorithm, prep.integrity.flags};
  const IntegrityInfo dst_integrity = {now.checksum_algorithm, now.flags};
  const CloneRecipe recipe = RecipeFor(src_sparse, dst_sparse, prep.have_integrity ? &src_integrity : nullptr,
                                       dst_has ? &dst_integrity : nullptr);
  for (int step = 0; step < recipe.count; step++) {
    const char* syscall = "ioctl";
    DWORD err = 0;
    switch (recipe.steps[step]) {
      case CloneStep::kMakeSparse:
        err = SetSparse(dst, true);
        break;
      case CloneStep::kSetIntegrity: {
        SetIntegrityBuffer same = {prep.integrity.checksum_algorithm, 0, prep.integrity.flags};
        err = Control(dst, FSCTL_SET_INTEGRITY_INFORMATION, &same, sizeof same);
        break;
      }
      case CloneStep::kSetLength:
        syscall = "ftruncate";
        err = SetEndOfFile(dst, size);
        break;
      case CloneStep::kCloneRanges: {
        CloneOutcome ranges = CloneRanges(prep.plan, src, dst);
        if (ranges.error != 0) return ranges;
        break;
      }
      case CloneStep::kClearSparse:
        // Best effort: a clone left sparse holds the same data, and every
        // cluster of it is allocated (the source has no holes).
        SetSparse(dst, false);
        break;
    }
    if (err != 0) return {syscall, err, true};
  }
  return {nullptr, 0, true};  // done, and dest changed
}

// ---- the three ways a file is copied, and the choice ----

// Ends a copy made into `dest` through its handle: the metadata, the size.
Status Finish(Destination* dest, HANDLE sh, const FileFacts& sf, const CopyOptions& opts,
              CopyResult* result) {
  Status s = CopyNamedStreams(sh, dest->get());
  if (s.ok()) s = CopyExtendedAttributes(sh, dest->get());
  if (s.ok()) s = FinishAttributes(dest->get(), sf, opts);
  if (!s.ok()) return s;
  LARGE_INTEGER size;
  if (!GetFileSizeEx(dest->get(), &size)) return FailWin("fstat", GetLastError());
  result->bytes = static_cast<uint64_t>(size.QuadPart);
  DWORD err = dest->Commit();
  return err == 0 ? Status() : FailWin("close", err);
}

// A block clone of the open source at wdest: done (ok or not), or not
// possible here (*cannot: the caller copies instead; *touched_existing: a
// pre-existing dest was changed meanwhile).
Status BlockClone(HANDLE sh, const std::wstring& wsrc, const FileFacts& sf, const std::wstring& wdest,
                  const CopyOptions& opts, CopyResult* result, bool* cannot, bool* touched_existing) {
  const bool forced = opts.request == Request::kReflink;
  Destination d;
  Status s = d.Open(wdest, opts.overwrite);
  if (!s.ok()) return s;
  if (d.Is(sf)) return SameFile(opts, sf, result);
  ClonePrep prep;
  CloneOutcome clone = d.facts().identity.SameVolume(sf.identity) ? PrepareClone(sh, wsrc, sf.size, &prep)
                                                                  : CloneOutcome{"ioctl", ERROR_NOT_SAME_DEVICE, false};
  if (clone.error == 0 && forced && !d.created() && d.facts().size > 0) {
    // A forced clone that fails must leave an existing dest as it was, and
    // emptying it is the first change a clone needs: prove the clone on a
    // scratch sibling first (metadata only, so cheap).
    UniqueHandle trial(CreateScratch(TempSibling(wdest, "trial"), FILE_FLAG_DELETE_ON_CLOSE));
    clone = trial.valid() ? ApplyClone(prep, sh, sf.sparse(), sf.size, trial.get(), false)
                          : CloneOutcome{"open", GetLastError(), false};
    clone.dest_changed = false;
  }
  if (clone.error == 0) {
    // Sparse and integrity settings can only be matched on an empty file.
    s = d.Empty();
    if (!s.ok()) return s;
    clone = ApplyClone(prep, sh, sf.sparse(), sf.size, d.get(), d.facts().sparse());
    if (clone.dest_changed) d.MarkTouched();
  }
  if (clone.error == 0) {
    result->strategy = Strategy::kReflink;
    return Finish(&d, sh, sf, opts, result);
  }
  if (forced && CloneUnsupported(clone.error)) return FailUv(clone.syscall, ForcedCloneError(clone.error));
  if (forced || !CloneUnsupported(clone.error)) return FailFs(clone.syscall, clone.error);
  if (CloneNeverWorks(clone.error)) Cannot::Remember(sf.identity.volume, d.facts().identity.volume, Cannot::kClone);
  // Copy instead. A file we created goes (the copy makes its own); a
  // pre-existing one stays, to be overwritten, and removed if that fails.
  *cannot = true;
  *touched_existing = !d.created() && d.touched();
  if (!d.created()) d.Keep();
  return Status();
}

// The flags of the volume holding `h` (GetVolumeInformationByHandleW), asked
// once per volume serial number, not once per file. 0 where unknown
// (treated as "cannot clone"; not remembered).
DWORD VolumeFlags(HANDLE h, uint64_t serial) {
  static std::mutex mu;
  static auto* known = new std::map<uint64_t, DWORD>();  // never destroyed: workers may outlive exit
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = known->find(serial);
    if (it != known->end()) return it->second;
  }
  DWORD flags = 0;
  if (!GetVolumeInformationByHandleW(h, nullptr, 0, nullptr, nullptr, &flags, nullptr, 0)) return 0;
  std::lock_guard<std::mutex> lock(mu);
  (*known)[serial] = flags;
  return flags;
}

// After CopyFileExW failed: remove what it may have written, keep what it
// never touched. It reports no such thing, so compare with what was there.
void CleanUpFailedCopyFile(const std::wstring& wdest, bool existed, const FileFacts& before,
                           bool we_touched, DWORD err) {
  bool exists = false;
  FileFacts now;
  if (LookAt(wdest, &exists, &now) != 0 || !exists) return;
  if (existed) {
    if (!now.identity.SameFile(before.identity)) return;  // replaced by someone else
    bool unchanged = now.size == before.size &&
                     now.last_write_time.QuadPart == before.last_write_time.QuadPart &&
                     now.change_time.QuadPart == before.change_time.QuadPart;
    if (unchanged && !we_touched) return;
    RemoveEntry(wdest, true, &now.identity);
    return;
  }
  // It did not exist: a file there now is CopyFileExW's, unless the copy
  // failed before creating it (someone else's file, or one it could not open).
  if (IsExistsError(err) || err == ERROR_SHARING_VIOLATION || err == ERROR_LOCK_VIOLATION ||
      err == ERROR_ACCESS_DENIED || err == ERROR_PATH_NOT_FOUND || err == ERROR_FILE_NOT_FOUND)
    return;
  RemoveEntry(wdest, true, &now.identity);
}

// CopyFileExW by name: the data, streams, EAs and attributes, as
// fs.copyFile copies them. Then the attributes and last write time once
// more (so every Windows version and wine give the same), the access time
// when asked; reported as a clone where Windows made one (`may_clone`: the
// volume can).
Status OsCopy(const std::wstring& wsrc, const std::wstring& wdest, const FileFacts& sf, bool existed,
              const FileFacts& before, bool we_touched, bool may_clone, const CopyOptions& opts,
              CopyResult* result) {
  DWORD flags = opts.overwrite ? 0 : COPY_FILE_FAIL_IF_EXISTS;
  if (!CopyFileExW(wsrc.c_str(), wdest.c_str(), nullptr, nullptr, nullptr, flags)) {
    DWORD err = GetLastError();
    if (err == ERROR_SHARING_VIOLATION) {
      // What CopyFileExW says for a file copied onto itself (libuv checks
      // the same way): dest may have become the source since we looked.
      bool exists = false;
      FileFacts now;
      if (LookAt(wdest, &exists, &now) == 0 && exists && now.identity.SameFile(sf.identity))
        return SameFile(opts, sf, result);
    }
    CleanUpFailedCopyFile(wdest, existed, before, we_touched, err);
    // Nothing was there when looked at, or nobody looked: EEXIST as O_EXCL says it.
    if (IsExistsError(err) && !opts.overwrite) return FailUv("open", uvwin::kEEXIST);
    return FailWin("copyfile", err);
  }
  UniqueHandle h;
  const DWORD opened = OpenExisting(wdest, FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES, true, &h);
  LARGE_INTEGER size = {};
  Status s = !h.valid()                      ? FailWin("open", opened)
             : !GetFileSizeEx(h.get(), &size) ? FailWin("fstat", GetLastError())
                                              : FinishAttributes(h.get(), sf, opts);
  if (!s.ok()) {
    // Which file it is, only now: it goes, if it still is the copy.
    FileFacts copied;
    if (h.valid() && Inspect(h.get(), &copied) == 0) {
      h.Reset();
      RemoveEntry(wdest, true, &copied.identity);
    }
    return s;
  }
  result->strategy = may_clone && SharesAllBlocks(h.get()) ? Strategy::kReflink : Strategy::kKernel;
  result->bytes = static_cast<uint64_t>(size.QuadPart);
  return Status();
}

// Every byte through this process, the metadata as CopyFileW gives it.
Status BufferCopy(HANDLE sh, const FileFacts& sf, const std::wstring& wdest, const CopyOptions& opts,
                  CopyResult* result) {
  Destination d;
  Status s = d.Open(wdest, opts.overwrite);
  if (!s.ok()) return s;
  if (d.Is(sf)) return SameFile(opts, sf, result);
  s = d.Empty();
  if (!s.ok()) return s;
  d.MarkTouched();
  const char* syscall = "write";
  DWORD err = CopyThroughBuffer(sh, d.get(), &syscall);
  if (err != 0) return FailWin(syscall, err);
  result->strategy = Strategy::kUserspace;
  return Finish(&d, sh, sf, opts, result);
}

// Makes dest's replacement beside it with `make` (under a temporary name,
// another while one is taken), then renames it over dest: either the old
// dest or the new entry is there at every moment.
Status RenameOver(const std::wstring& dest, const char* tag, bool linked,
                  const std::function<Status(const std::wstring& temp)>& make) {
  std::wstring temp;
  Status status = FailUv("open", uvwin::kEEXIST);
  for (int attempt = 0; attempt < 16 && status.code == uvwin::kEEXIST; attempt++) {
    temp = TempSibling(dest, tag);
    status = make(temp);
  }
  if (!status.ok()) return status;
  DWORD err = ReplaceEntry(temp, dest);
  if (err == 0) return Status();
  // Made with CREATE_NEW, CopyFileExW under FAIL_IF_EXISTS or CreateHardLinkW:
  // ours. A read-only copy cannot be deleted; a link's attributes are its
  // file's, and stay.
  if (!linked) SetFileAttributesW(temp.c_str(), FILE_ATTRIBUTE_NORMAL);
  DeleteFileW(temp.c_str());
  return FailWin("rename", err);
}

// A new name for the file src names, as link(2) with AT_SYMLINK_FOLLOW: the
// link goes to the file the open handle holds (a symlink's target).
Status HardlinkFile(HANDLE sh, const std::wstring& wsrc, const std::wstring& wdest,
                    const FileFacts& sf, const CopyOptions& opts, CopyResult* result) {
  std::wstring target = wsrc;
  FinalPath(sh, &target);
  bool exists = false;
  FileFacts df;
  DWORD err = LookAt(wdest, &exists, &df);
  if (err != 0) return FailWin("stat", err);
  if (exists && df.identity.SameFile(sf.identity)) return SameFile(opts, sf, result);
  if (exists && !opts.overwrite) return FailUv("link", uvwin::kEEXIST);
  if (exists && df.directory()) return FailUv("rename", uvwin::kEISDIR);
  err = exists ? ERROR_ALREADY_EXISTS : CreateHardLinkW(wdest.c_str(), target.c_str(), nullptr) ? 0 : GetLastError();
  if (err != 0) {
    if (!IsExistsError(err) || !opts.overwrite) return FailFs("link", err);
    Status replaced = RenameOver(wdest, "link", true, [&](const std::wstring& temp) {
      return CreateHardLinkW(temp.c_str(), target.c_str(), nullptr) ? Status() : FailFs("link", GetLastError());
    });
    if (!replaced.ok()) return replaced;
  }
  result->strategy = Strategy::kHardlink;
  result->bytes = sf.size;
  return Status();
}

// fs.cp: an existing dest is replaced by a new file, copied under a
// temporary sibling name and renamed over it once complete.
Status ReplaceByRename(HANDLE sh, const std::wstring& wsrc, const FileFacts& sf,
                       const std::wstring& wdest, const CopyOptions& opts, CopyResult* result) {
  CopyOptions fresh = opts;
  fresh.overwrite = false;
  fresh.replace = false;
  return RenameOver(wdest, "copy", false, [&](const std::wstring& temp) {
    return CopyOpened(sh, wsrc, sf, temp, fresh, result);
  });
}

// Per directory (its volume and file id): whether this process may write
// there is a property of the directory, not of the volume.
using DirKey = std::pair<uint64_t, std::string>;
std::mutex probe_mu;
auto* const probe_cache = new std::map<DirKey, VolumeInfo>();  // never destroyed: workers may outlive exit

// Deletes a scratch file by name when it goes out of scope.
class ScratchName {
 public:
  explicit ScratchName(std::wstring path) : path_(std::move(path)) {}
  ScratchName(const ScratchName&) = delete;
  ScratchName& operator=(const ScratchName&) = delete;
  ~ScratchName() { DeleteFileW(path_.c_str()); }
  const std::wstring& path() const { return path_; }

 private:
  std::wstring path_;
};

}  // namespace

Status CopyOpened(HANDLE sh, const std::wstring& wsrc, const FileFacts& sf, const std::wstring& wdest,
                  const CopyOptions& opts, CopyResult* result) {
  // What is at dest, before anything is written. Without overwrite there
  // is no need to look (the walk copies that way): every copy below creates
  // dest only if nothing is there, EEXIST otherwise; a forced clone looks,
  // so that EEXIST comes before "cannot clone here".
  bool existed = false;
  FileFacts before;
  const bool look = opts.overwrite || opts.request == Request::kReflink;
  DWORD err = look ? LookAt(wdest, &existed, &before) : 0;
  if (err != 0) return FailWin("open", err);
  if (existed) {
    if (!opts.overwrite) return FailUv("open", uvwin::kEEXIST);  // as O_EXCL, before same-file
    if (before.identity.SameFile(sf.identity)) return SameFile(opts, sf, result);
    if (before.directory()) return FailUv("open", uvwin::kEISDIR);
    if (opts.replace) return ReplaceByRename(sh, wsrc, sf, wdest, opts, result);
  }
  result->strategy = Strategy::kNone;

  // Whether a copy can share blocks here: the volume clones (ReFS, Dev
  // Drive) and dest is on it. Only then is dest's volume looked up, so that
  // nothing is created for a clone that cannot be.
  const bool volume_clones = (VolumeFlags(sh, sf.identity.volume) & FILE_SUPPORTS_BLOCK_REFCOUNTING) != 0;
  FileFacts dest_on = before;  // dest's own volume, or its directory's
  bool same_volume = false;
  if (opts.request == Request::kReflink || volume_clones) {
    UniqueHandle dir;
    err = existed ? 0 : OpenExisting(ParentDirectory(wdest), FILE_READ_ATTRIBUTES, true, &dir, &dest_on);
    if (err != 0) return FailWin("open", err);
    same_volume = dest_on.identity.SameVolume(sf.identity);
  }
  const bool may_clone = same_volume && volume_clones;
  bool cannot_clone = false, we_touched = false;  // we_touched: a failed clone changed a pre-existing dest

  switch (opts.request) {
    case Request::kReflink:
      if (!same_volume) return FailUv("ioctl", uvwin::kEXDEV);
      if (!volume_clones) return FailUv("ioctl", uvwin::kENOTSUP);
      return BlockClone(sh, wsrc, sf, wdest, opts, result, &cannot_clone, &we_touched);
    case Request::kCopy:
      if (may_clone || opts.no_kernel_copy) return BufferCopy(sh, sf, wdest, opts, result);
      return OsCopy(wsrc, wdest, sf, existed, before, false, false, opts, result);
    default:
      if (may_clone && !opts.no_own_clone && !Cannot::Known(sf.identity.volume, dest_on.identity.volume, Cannot::kClone)) {
        Status s = BlockClone(sh, wsrc, sf, wdest, opts, result, &cannot_clone, &we_touched);
        if (!cannot_clone) return s;
      }
      if (opts.no_kernel_copy) return BufferCopy(sh, sf, wdest, opts, result);
      return OsCopy(wsrc, wdest, sf, existed, before, we_touched, may_clone, opts, result);
  }
}

}  // namespace win

const char* const kPlatform = "win32";

struct Thread::Impl {
  HANDLE handle = nullptr;
  std::function<void()> fn;
};

int Thread::Start(std::function<void()> fn) {
  Join();
  auto impl = std::make_unique<Impl>();
  impl->fn = std::move(fn);
  impl->handle = CreateThread(
      nullptr, 0,
      [](void* arg) -> DWORD {
        static_cast<Impl*>(arg)->fn();
        return 0;
      },
      impl.get(), 0, nullptr);
  if (impl->handle == nullptr) return EAGAIN;
  impl_ = std::move(impl);
  return 0;
}

void Thread::Join() {
  if (impl_ == nullptr) return;
  WaitForSingleObject(impl_->handle, INFINITE);
  CloseHandle(impl_->handle);
  impl_.reset();
}

int NodeErrorCode(int os_error) { return win::TranslateWinError(static_cast<DWORD>(os_error)); }

uint64_t ProcessId() { return GetCurrentProcessId(); }

bool ProcessEnded(uint64_t pid) {
  // An exited process whose handle someone holds has ended too.
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr) return GetLastError() == ERROR_INVALID_PARAMETER;
  DWORD code = 0;
  bool exited = GetExitCodeProcess(process, &code) && code != STILL_ACTIVE;
  CloseHandle(process);
  return exited;
}

Status CopyOneFile(const Path& src, const Path& dest, const CopyOptions& opts,
                   CopyResult* result) {
  using namespace win;
  std::wstring wsrc, wdest;
  DWORD err = ToWidePath(src, &wsrc);
  if (err == 0) err = ToWidePath(dest, &wdest);
  if (err != 0) return FailWin("open", err);

  // Backup semantics lets a directory open, so that it is reported as EISDIR.
  UniqueHandle sh;
  err = OpenExisting(wsrc, GENERIC_READ, true, &sh);
  if (err != 0) return FailWin("open", err);
  // Pipes and devices have no end to copy up to.
  if (GetFileType(sh.get()) != FILE_TYPE_DISK) return FailUv("copyfile", uvwin::kEINVAL);
  FileFacts sf;
  err = Inspect(sh.get(), &sf);
  if (err != 0) return FailWin("fstat", err);
  if (sf.directory()) return FailUv("copyfile", uvwin::kEISDIR);

  if (opts.request == Request::kHardlink) return HardlinkFile(sh.get(), wsrc, wdest, sf, opts, result);
  return CopyOpened(sh.get(), wsrc, sf, wdest, opts, result);
}

// Windows has no FIFOs, sockets or devices in a directory to make again.
Status MakeSpecialFile(const Path&, const Path&, bool, unsigned) { return win::FailUv("mknod", uvwin::kENOTSUP); }

Status ProbeVolume(const Path& path, VolumeInfo* info) {
  using namespace win;
  std::wstring wpath;
  DWORD err = ToWidePath(path, &wpath);
  if (err != 0) return FailWin("stat", err);
  UniqueHandle h, parent;
  FileFacts facts;
  err = OpenExisting(wpath, FILE_READ_ATTRIBUTES, true, &h, &facts);
  const std::wstring dir = facts.directory() ? wpath : ParentDirectory(wpath);
  if (err == 0 && !facts.directory()) err = OpenExisting(dir, FILE_READ_ATTRIBUTES, true, &parent, &facts);
  if (err != 0) return FailWin("stat", err);
  const DirKey key(facts.identity.volume,
                   std::string(reinterpret_cast<const char*>(facts.identity.id), sizeof facts.identity.id));
  {
    std::lock_guard<std::mutex> lock(probe_mu);
    auto it = probe_cache->find(key);
    if (it != probe_cache->end()) {
      *info = it->second;
      return Status();
    }
  }
  wchar_t fs_name[MAX_PATH + 1] = {};
  if (!GetVolumeInformationByHandleW(h.get(), nullptr, 0, nullptr, nullptr, nullptr, fs_name, MAX_PATH + 1))
    return FailWin("statfs", GetLastError());
  h.Reset();
  VolumeInfo probed;
  probed.fs_name = ToUtf8(fs_name);

  const std::wstring base = Join(dir, L".cowcopy-probe");
  ScratchName a(TempSibling(base, "a"));
  UniqueHandle ha(CreateScratch(a.path(), 0));
  if (!ha.valid()) {
    // Read-only or not ours: nothing can be cloned into it by this process.
    // Not cached: permissions change.
    *info = probed;
    return Status();
  }
  probed.writable = true;
  char block[4096];
  for (size_t i = 0; i < sizeof block; i++) block[i] = static_cast<char>(i * 31);
  err = WriteAllAt(ha.get(), 0, block, sizeof block);
  if (err != 0) return FailWin("write", err);

  // A clone really tried, whatever the volume flags claim.
  {
    UniqueHandle hb(CreateScratch(TempSibling(base, "b"), FILE_FLAG_DELETE_ON_CLOSE));
    if (!hb.valid()) return FailWin("open", GetLastError());
    ClonePrep prep;
    probed.reflink = PrepareClone(ha.get(), a.path(), sizeof block, &prep).error == 0 &&
                     ApplyClone(prep, ha.get(), false, sizeof block, hb.get(), false).error == 0;
  }
  {
    ScratchName link(TempSibling(base, "link"));
    probed.hardlink = CreateHardLinkW(link.path().c_str(), a.path().c_str(), nullptr) != 0;
  }
  ha.Reset();  // CopyFileExW opens the source without sharing writes
  {
    ScratchName copy(TempSibling(base, "c"));
    probed.kernel_copy = CopyFileExW(a.path().c_str(), copy.path().c_str(), nullptr, nullptr,
                                     nullptr, COPY_FILE_FAIL_IF_EXISTS) != 0;
  }

  std::lock_guard<std::mutex> lock(probe_mu);
  (*probe_cache)[key] = probed;
  *info = probed;
  return Status();
}

// No Windows filesystem clones a directory tree at once (ReFS and Dev Drive
// block cloning is per file): the facade walks. The filesystem is named for
// its reason.
Status InspectTree(const Path& path, TreeVolume* out) {
  using namespace win;
  std::wstring wpath;
  DWORD err = ToWidePath(path, &wpath);
  if (err != 0) return FailWin("stat", err);
  UniqueHandle h;
  FileFacts facts;
  err = OpenExisting(wpath, FILE_READ_ATTRIBUTES, true, &h, &facts);
  if (err != 0) return FailWin("stat", err);
  wchar_t fs_name[MAX_PATH + 1] = {};
  if (!GetVolumeInformationByHandleW(h.get(), nullptr, 0, nullptr, nullptr, nullptr, fs_name, MAX_PATH + 1))
    return FailWin("statfs", GetLastError());
  out->fs_name = ToUtf8(fs_name);
  return Status();
}

Status CloneTree(const Path& src, const Path&, bool, TreeVolume* out) { return InspectTree(src, out); }  // never whole: the facade walks
Status CreateSubvolume(const Path&) { return win::FailUv("subvolume", uvwin::kENOTSUP); }
Status DestroySubvolume(const Path&) { return win::FailUv("subvolume", uvwin::kENOTSUP); }
Status SetSubvolumeReadOnly(const Path&, bool) { return win::FailUv("ioctl", uvwin::kENOTSUP); }
Status ExchangePaths(const Path&, const Path&) { return win::FailUv("rename", uvwin::kENOTSUP); }

// win_errors.h spells the SDK's numbers out: hold it to them.
#define COWCOPY_SAME_AS_SDK(ours, value, sdk, uv) static_assert(win::ours == static_cast<uint32_t>(sdk), #sdk);
COWCOPY_WIN_ERRORS(COWCOPY_SAME_AS_SDK)
#undef COWCOPY_SAME_AS_SDK
#ifdef ERROR_BLOCK_TOO_MANY_REFERENCES
static_assert(win::kErrorBlockTooManyReferences == ERROR_BLOCK_TOO_MANY_REFERENCES, "ERROR_BLOCK_TOO_MANY_REFERENCES");
#endif

}  // namespace cowcopy
