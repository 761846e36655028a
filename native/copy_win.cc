// Windows: block cloning (FSCTL_DUPLICATE_EXTENTS_TO_FILE, ReFS and Dev
// Drive) -> CopyFileExW -> ReadFile/WriteFile.
//
// The contract is copy_linux.cc's: the same-file check before anything is
// truncated, EEXIST without overwrite, a destination that was created or
// changed is removed when the copy fails, an untouched pre-existing one is
// kept. Errors are the codes Node reports on Windows (win_errors.h).
//
// Windows specifics, each handled where it applies below:
// - Paths arrive as UTF-8 and are used as absolute UTF-16 paths with the
//   \\?\ prefix, so names longer than MAX_PATH and any Unicode name work.
// - "mode" is the read-only attribute: the only permission bit Node maps.
// - CopyFileExW may block-clone by itself on recent Windows; it is still
//   reported as 'kernel', since nothing here can tell.
// - A forced 'copy' is a ReadFile/WriteFile loop ('userspace'): CopyFileExW
//   cannot be told not to clone. It does not keep holes.
// - CopyFileExW also copies alternate data streams and extended attributes;
//   a block clone and the buffer loop copy the unnamed data stream only.
#include "copy.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#include <winioctl.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <cwchar>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "clone_plan.h"
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

constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
// The attributes FileBasicInfo can set (sparse, compressed and the like have
// their own FSCTLs).
constexpr DWORD kSettableAttributes = FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN |
                                      FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE |
                                      FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_OFFLINE |
                                      FILE_ATTRIBUTE_NOT_CONTENT_INDEXED;
constexpr DWORD kBufferSize = 1 << 20;

Status Fail(const char* syscall, int uv_code) {
  Status s;
  s.code = uv_code;
  s.syscall = syscall;
  return s;
}
Status FailWin(const char* syscall, DWORD error) {
  return Fail(syscall, win::TranslateError(error));
}
// For calls a filesystem may not implement at all (FSCTLs, hard links).
Status FailFs(const char* syscall, DWORD error) {
  return Fail(syscall, win::TranslateFsError(error));
}

bool IsExistsError(DWORD error) {
  return error == ERROR_FILE_EXISTS || error == ERROR_ALREADY_EXISTS;
}

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

bool StartsWith(const std::wstring& text, const wchar_t* prefix) {
  return text.compare(0, wcslen(prefix), prefix) == 0;
}

// UTF-8 bytes -> an absolute UTF-16 path with the \\?\ prefix, which lifts
// MAX_PATH and turns Win32 name parsing off; GetFullPathNameW has already
// resolved '.', '..', '/' and the current directory. Returns a Win32 error.
DWORD ToWidePath(const Path& path, std::wstring* out) {
  if (path.empty()) return ERROR_PATH_NOT_FOUND;  // as Node says for ''
  // Bytes that are not UTF-8 cannot name a Windows file: refuse them rather
  // than copy to a name with replacement characters.
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path.data(),
                              static_cast<int>(path.size()), nullptr, 0);
  if (n <= 0) return GetLastError();
  std::wstring wide(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path.data(), static_cast<int>(path.size()),
                      &wide[0], n);
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

std::string ToUtf8(const wchar_t* text) {
  int n = WideCharToMultiByte(CP_UTF8, 0, text, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return std::string();
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, -1, &out[0], n, nullptr, nullptr);
  out.resize(static_cast<size_t>(n - 1));
  return out;
}

// The directory holding `path`, with a trailing backslash (a drive or share
// root must have one).
std::wstring ParentDirectory(const std::wstring& path) {
  size_t slash = path.find_last_of(L'\\');
  if (slash == std::wstring::npos) return path;
  return path.substr(0, slash + 1);
}

std::wstring Join(const std::wstring& dir, const std::wstring& name) {
  if (!dir.empty() && dir.back() == L'\\') return dir + name;
  return dir + L"\\" + name;
}

std::atomic<unsigned> temp_counter{0};

// A name beside `path` that nobody else uses.
std::wstring TempSibling(const std::wstring& path, const wchar_t* tag) {
  return path + L".cowcopy-" + tag + L"-" + std::to_wstring(GetCurrentProcessId()) + L"-" +
         std::to_wstring(temp_counter.fetch_add(1));
}

// Which file a handle is: FILE_ID_INFO where the filesystem has it (128-bit
// ids, which ReFS needs), else the 64-bit file index.
struct FileIdentity {
  bool extended = false;
  uint64_t volume = 0;
  uint8_t id[16] = {};

  bool SameVolume(const FileIdentity& other) const {
    return extended == other.extended && volume == other.volume;
  }
  bool SameFile(const FileIdentity& other) const {
    return SameVolume(other) && std::memcmp(id, other.id, sizeof id) == 0;
  }
};

struct FileFacts {
  FileIdentity identity;
  DWORD attributes = 0;
  uint64_t size = 0;
  LARGE_INTEGER last_access_time = {};
  LARGE_INTEGER last_write_time = {};
  LARGE_INTEGER change_time = {};

  bool directory() const { return (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0; }
  bool sparse() const { return (attributes & FILE_ATTRIBUTE_SPARSE_FILE) != 0; }
  bool read_only() const { return (attributes & FILE_ATTRIBUTE_READONLY) != 0; }
};

DWORD Inspect(HANDLE h, FileFacts* facts) {
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(h, &info)) return GetLastError();
  FILE_BASIC_INFO basic;
  if (!GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof basic)) return GetLastError();
  facts->attributes = info.dwFileAttributes;
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

// Opens whatever is at `path` (a directory too) to look at it, without
// taking part in sharing checks: attribute-only access locks nobody out.
HANDLE OpenForAttributes(const std::wstring& path, DWORD extra_access = 0) {
  return CreateFileW(path.c_str(), FILE_READ_ATTRIBUTES | extra_access, kShareAll, nullptr,
                     OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
}

// What is at `path`: *exists false when nothing is. Returns a Win32 error.
DWORD LookAt(const std::wstring& path, bool* exists, FileFacts* facts) {
  UniqueHandle h(OpenForAttributes(path));
  if (!h.valid()) {
    DWORD err = GetLastError();
    *exists = false;
    return err == ERROR_FILE_NOT_FOUND ? 0 : err;
  }
  *exists = true;
  return Inspect(h.get(), facts);
}

// Removes the file at `path` if it still is `which`, a file we wrote (so
// one that CopyFileExW made read-only may be made writable again).
void RemoveIfSame(const std::wstring& path, const FileIdentity& which) {
  UniqueHandle h(OpenForAttributes(path, DELETE | FILE_WRITE_ATTRIBUTES));
  FileFacts now;
  if (!h.valid() || Inspect(h.get(), &now) != 0 || !now.identity.SameFile(which)) return;
  if (now.read_only()) {
    FILE_BASIC_INFO basic = {};
    const DWORD rest = now.attributes & kSettableAttributes & ~DWORD{FILE_ATTRIBUTE_READONLY};
    basic.FileAttributes = rest != 0 ? rest : FILE_ATTRIBUTE_NORMAL;  // 0 would mean "unchanged"
    SetFileInformationByHandle(h.get(), FileBasicInfo, &basic, sizeof basic);
  }
  FILE_DISPOSITION_INFO dispose;
  dispose.DeleteFile = TRUE;
  SetFileInformationByHandle(h.get(), FileDispositionInfo, &dispose, sizeof dispose);
}

Status SameFile(const CopyOptions& opts, const FileFacts& src, CopyResult* result) {
  if (opts.same_file_ok) {
    result->strategy = Strategy::kNone;
    result->bytes = src.size;
    return Status();
  }
  Status s = Fail("copyfile", uvwin::kEINVAL);
  s.same_file = true;
  return s;
}

// "Cannot clone" answers that hold for every file on a pair of volumes,
// remembered for the life of the process. A forced clone always asks again.
class CloneCapabilities {
 public:
  bool Never(const FileIdentity& src, const FileIdentity& dest) {
    std::lock_guard<std::mutex> lock(mu_);
    return never_.count(Key(src, dest)) != 0;
  }
  void SetNever(const FileIdentity& src, const FileIdentity& dest) {
    std::lock_guard<std::mutex> lock(mu_);
    never_[Key(src, dest)] = true;
  }

 private:
  static std::pair<uint64_t, uint64_t> Key(const FileIdentity& a, const FileIdentity& b) {
    return {a.volume, b.volume};
  }
  std::mutex mu_;
  std::map<std::pair<uint64_t, uint64_t>, bool> never_;
};

CloneCapabilities& KnownCapabilities() {
  static auto* caps = new CloneCapabilities();  // never destroyed: workers may outlive exit
  return *caps;
}

// The destination file, opened by handle, and what to do with it if the
// copy fails.
class Destination {
 public:
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
      if (!overwrite) return Fail("open", uvwin::kEEXIST);
      h_.Reset(CreateFileW(path.c_str(), access, kShareAll, nullptr, OPEN_EXISTING, 0, nullptr));
      if (!h_.valid() && GetLastError() == ERROR_ACCESS_DENIED) {
        // Writable but not deletable by us: fine, cleanup then goes by name.
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
    if (err != 0) {
      Abandon();
      return FailWin("fstat", err);
    }
    return Status();
  }

  HANDLE get() const { return h_.get(); }
  bool created() const { return created_; }
  bool touched() const { return touched_; }
  const FileFacts& facts() const { return facts_; }
  // From now on the data of a pre-existing file is ours to remove on failure.
  void MarkTouched() { touched_ = true; }

  // Closes, removing the file if we created it or changed its data.
  void Abandon() {
    if (!h_.valid()) return;
    if (!created_ && !touched_) {
      h_.Reset();
      return;
    }
    if (can_delete_) {
      FILE_DISPOSITION_INFO dispose;
      dispose.DeleteFile = TRUE;
      if (SetFileInformationByHandle(h_.get(), FileDispositionInfo, &dispose, sizeof dispose)) {
        h_.Reset();
        return;
      }
    }
    h_.Reset();
    RemoveIfSame(path_, facts_.identity);
  }

  DWORD Close() { return h_.Close(); }

  // Closes after a copy; if even that fails (a network redirector reporting
  // a failed write), what was written is removed, as on Linux.
  DWORD Commit() {
    DWORD err = h_.Close();
    if (err != 0) RemoveIfSame(path_, facts_.identity);
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
      return Fail("open", uvwin::kEISDIR);
    return FailWin("open", err);
  }

  std::wstring path_;
  UniqueHandle h_;
  bool created_ = false;
  bool touched_ = false;
  bool can_delete_ = true;
  FileFacts facts_;
};

DWORD SetEndOfFile(HANDLE h, uint64_t size) {
  FILE_END_OF_FILE_INFO eof;
  eof.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
  return SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof) ? 0 : GetLastError();
}

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

struct CloneOutcome {
  DWORD error = 0;
  const char* syscall = nullptr;
  bool dest_changed = false;  // dest's size, flags or data were changed
};

// What cloning from a source needs, found before dest is touched.
struct ClonePrep {
  bool have_integrity = false;
  GetIntegrityBuffer integrity = {};
  ClonePlan plan;
};

CloneOutcome CloneFailure(const char* syscall, DWORD err, bool dest_changed) {
  CloneOutcome out;
  out.error = err;
  out.syscall = syscall;
  out.dest_changed = dest_changed;
  return out;
}

// The source's integrity-stream settings and the volume's cluster size,
// and from them the ranges to clone.
CloneOutcome PrepareClone(HANDLE src, const std::wstring& src_path, uint64_t size, ClonePrep* prep) {
  DWORD bytes = 0;
  prep->have_integrity = DeviceIoControl(src, FSCTL_GET_INTEGRITY_INFORMATION, nullptr, 0,
                                         &prep->integrity, sizeof prep->integrity, &bytes,
                                         nullptr) != 0;
  if (!prep->have_integrity) {
    DWORD err = GetLastError();
    // A filesystem without integrity streams (NTFS): nothing to match; the
    // clone itself will say whether it can.
    if (!win::CloneUnsupported(err)) return CloneFailure("ioctl", err, false);
  }
  uint64_t cluster = prep->have_integrity ? prep->integrity.cluster_size_in_bytes : 0;
  if (cluster == 0) {
    DWORD err = ClusterSize(src_path, &cluster);
    if (err != 0) return CloneFailure("statfs", err, false);
  }
  if (!PlanClone(size, cluster, &prep->plan)) return CloneFailure("ioctl", ERROR_NOT_SUPPORTED, false);
  return CloneOutcome();
}

// Clones the planned ranges of src into dst, an empty file on the same
// volume: the sparse flag and integrity-stream settings first (the clone is
// refused unless they match), then the size, then the ranges.
CloneOutcome ApplyClone(const ClonePrep& prep, HANDLE src, bool src_sparse, uint64_t size, HANDLE dst,
                        bool dst_sparse) {
  DWORD bytes = 0;
  if (src_sparse != dst_sparse) {
    FILE_SET_SPARSE_BUFFER sparse;
    sparse.SetSparse = src_sparse ? TRUE : FALSE;
    if (!DeviceIoControl(dst, FSCTL_SET_SPARSE, &sparse, sizeof sparse, nullptr, 0, &bytes,
                         nullptr))
      return CloneFailure("ioctl", GetLastError(), true);
  }
  if (prep.have_integrity) {
    SetIntegrityBuffer same = {};
    same.checksum_algorithm = prep.integrity.checksum_algorithm;
    same.flags = prep.integrity.flags;
    if (!DeviceIoControl(dst, FSCTL_SET_INTEGRITY_INFORMATION, &same, sizeof same, nullptr, 0,
                         &bytes, nullptr))
      return CloneFailure("ioctl", GetLastError(), true);
  }
  DWORD err = SetEndOfFile(dst, size);
  if (err != 0) return CloneFailure("ftruncate", err, true);

  const ClonePlan& plan = prep.plan;
  for (size_t i = 0; i < plan.ranges.size(); i++) {
    const CloneRange& range = plan.ranges[i];
    DuplicateExtentsData data = {};
    data.file_handle = src;
    data.source_file_offset.QuadPart = static_cast<LONGLONG>(range.offset);
    data.target_file_offset.QuadPart = static_cast<LONGLONG>(range.offset);
    data.byte_count.QuadPart = static_cast<LONGLONG>(range.length);
    if (DeviceIoControl(dst, FSCTL_DUPLICATE_EXTENTS_TO_FILE, &data, sizeof data, nullptr, 0,
                        &bytes, nullptr))
      continue;
    err = GetLastError();
    bool is_tail = plan.tail_bytes != 0 && range.offset == plan.tail_offset;
    // A volume reading "the range must end within the file" strictly refuses
    // the tail cluster: write its few bytes instead, once the body is cloned
    // (a file of one partial cluster is not cloned at all then).
    if (!is_tail || i == 0 || err != ERROR_INVALID_PARAMETER) return CloneFailure("ioctl", err, true);
    std::unique_ptr<char[]> tail(new char[plan.tail_bytes]);
    DWORD got = 0;
    err = ReadAt(src, plan.tail_offset, tail.get(), static_cast<DWORD>(plan.tail_bytes), &got);
    if (err != 0) return CloneFailure("read", err, true);
    err = WriteAllAt(dst, plan.tail_offset, tail.get(), got);
    if (err != 0) return CloneFailure("write", err, true);
  }
  CloneOutcome done;
  done.dest_changed = true;
  return done;
}

// Copies every byte through a buffer, for a forced copy (CopyFileExW may
// clone) and for tests of this path. Holes are not kept.
DWORD CopyThroughBuffer(HANDLE src, HANDLE dst, const char** syscall) {
  std::unique_ptr<char[]> buffer(new char[kBufferSize]);
  for (uint64_t offset = 0;;) {
    DWORD got = 0;
    DWORD err = ReadAt(src, offset, buffer.get(), kBufferSize, &got);
    if (err != 0) {
      *syscall = "read";
      return err;
    }
    if (got == 0) return 0;
    err = WriteAllAt(dst, offset, buffer.get(), got);
    if (err != 0) {
      *syscall = "write";
      return err;
    }
    offset += got;
  }
}

// Gives dest the source's read-only attribute and, when asked, its access
// and write times; the last change made to dest.
Status FinishAttributes(HANDLE dst, const FileFacts& src, const CopyOptions& opts) {
  if (!src.read_only() && !opts.preserve_timestamps) return Status();
  FILE_BASIC_INFO basic;
  if (!GetFileInformationByHandleEx(dst, FileBasicInfo, &basic, sizeof basic))
    return FailWin("fstat", GetLastError());
  basic.CreationTime.QuadPart = 0;  // 0: leave as it is
  basic.ChangeTime.QuadPart = 0;
  basic.LastAccessTime.QuadPart = 0;
  basic.LastWriteTime.QuadPart = 0;
  if (opts.preserve_timestamps) {
    basic.LastAccessTime = src.last_access_time;
    basic.LastWriteTime = src.last_write_time;
  }
  if (src.read_only()) {
    // NORMAL is valid only alone: masked out with the unsettable ones.
    basic.FileAttributes = (basic.FileAttributes & kSettableAttributes) | FILE_ATTRIBUTE_READONLY;
  } else {
    basic.FileAttributes = 0;  // 0: leave as they are
  }
  if (!SetFileInformationByHandle(dst, FileBasicInfo, &basic, sizeof basic))
    return FailWin(opts.preserve_timestamps ? "futime" : "fchmod", GetLastError());
  return Status();
}

// Ends a copy made into `dest` through its handle.
Status Finish(Destination* dest, const FileFacts& src, const CopyOptions& opts,
              CopyResult* result) {
  Status s = FinishAttributes(dest->get(), src, opts);
  if (!s.ok()) {
    dest->Abandon();
    return s;
  }
  LARGE_INTEGER size;
  if (!GetFileSizeEx(dest->get(), &size)) {
    DWORD err = GetLastError();
    dest->Abandon();
    return FailWin("fstat", err);
  }
  result->bytes = static_cast<uint64_t>(size.QuadPart);
  DWORD err = dest->Commit();
  if (err != 0) return FailWin("close", err);
  return Status();
}

// A new name for the file src names, as link(2) with AT_SYMLINK_FOLLOW: the
// link goes to the file the open handle holds (a symlink's target).
Status HardlinkFile(HANDLE sh, const std::wstring& wsrc, const std::wstring& wdest,
                    const FileFacts& sf, const CopyOptions& opts, CopyResult* result) {
  std::wstring target = wsrc;
  DWORD n = GetFinalPathNameByHandleW(sh, nullptr, 0, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
  if (n > 0) {
    std::wstring final_path(n, L'\0');
    DWORD got = GetFinalPathNameByHandleW(sh, &final_path[0], n,
                                          FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    if (got > 0 && got < n) {
      final_path.resize(got);
      target = std::move(final_path);
    }
  }
  bool exists = false;
  FileFacts df;
  DWORD err = LookAt(wdest, &exists, &df);
  if (err != 0) return FailWin("stat", err);
  if (exists && df.identity.SameFile(sf.identity)) return SameFile(opts, sf, result);
  if (exists && !opts.overwrite) return Fail("link", uvwin::kEEXIST);
  if (exists && df.directory()) return Fail("rename", uvwin::kEISDIR);
  if (!exists) {
    if (CreateHardLinkW(wdest.c_str(), target.c_str(), nullptr)) {
      result->strategy = Strategy::kHardlink;
      result->bytes = sf.size;
      return Status();
    }
    err = GetLastError();
    if (!IsExistsError(err) || !opts.overwrite) return FailFs("link", err);
  }
  // Replace dest atomically: link under a temporary name, rename over it.
  // Either the old dest or the new link is there at every moment.
  std::wstring temp;
  err = ERROR_FILE_EXISTS;
  for (int attempt = 0; attempt < 16 && IsExistsError(err); attempt++) {
    temp = TempSibling(wdest, L"link");
    err = CreateHardLinkW(temp.c_str(), target.c_str(), nullptr) ? 0 : GetLastError();
  }
  if (err != 0) return FailFs("link", err);
  if (!MoveFileExW(temp.c_str(), wdest.c_str(), MOVEFILE_REPLACE_EXISTING)) {
    err = GetLastError();
    DeleteFileW(temp.c_str());
    return FailWin("rename", err);
  }
  result->strategy = Strategy::kHardlink;
  result->bytes = sf.size;
  return Status();
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
    RemoveIfSame(wdest, now.identity);
    return;
  }
  // It did not exist: a file there now is CopyFileExW's, unless the copy
  // failed before creating it (someone else's file, or one it could not open).
  if (IsExistsError(err) || err == ERROR_SHARING_VIOLATION || err == ERROR_LOCK_VIOLATION ||
      err == ERROR_ACCESS_DENIED || err == ERROR_PATH_NOT_FOUND || err == ERROR_FILE_NOT_FOUND)
    return;
  RemoveIfSame(wdest, now.identity);
}

// CopyFileExW by name, then the times: CopyFileExW gives dest the source's
// write time, the contract gives it the source's times only when asked.
Status KernelCopy(const std::wstring& wsrc, const std::wstring& wdest, const FileFacts& sf,
                  bool existed, const FileFacts& before, bool we_touched, const CopyOptions& opts,
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
    return FailWin("copyfile", err);
  }
  UniqueHandle h(OpenForAttributes(wdest, FILE_WRITE_ATTRIBUTES));
  FileFacts copied;
  DWORD err = h.valid() ? Inspect(h.get(), &copied) : GetLastError();
  if (err == 0) {
    FILE_BASIC_INFO basic = {};
    if (opts.preserve_timestamps) {
      basic.LastAccessTime = sf.last_access_time;
      basic.LastWriteTime = sf.last_write_time;
    } else {
      FILETIME now;
      GetSystemTimeAsFileTime(&now);
      basic.LastWriteTime.LowPart = now.dwLowDateTime;
      basic.LastWriteTime.HighPart = static_cast<LONG>(now.dwHighDateTime);
      basic.LastAccessTime = basic.LastWriteTime;
    }
    if (!SetFileInformationByHandle(h.get(), FileBasicInfo, &basic, sizeof basic))
      err = GetLastError();
  }
  if (err != 0) {
    h.Reset();
    RemoveIfSame(wdest, copied.identity);
    return FailWin("futime", err);
  }
  result->strategy = Strategy::kKernel;
  result->bytes = copied.size;
  return Status();
}

// Copies the open source into wdest by the cheapest strategy allowed.
Status CopyInto(HANDLE sh, const std::wstring& wsrc, const FileFacts& sf, const std::wstring& wdest,
                const CopyOptions& opts, CopyResult* result);

// fs.cp: an existing dest is replaced by a new file, copied under a
// temporary sibling name and renamed over it once complete. Either the old
// dest or the whole copy is there at every moment.
Status ReplaceByRename(HANDLE sh, const std::wstring& wsrc, const FileFacts& sf,
                       const std::wstring& wdest, const CopyOptions& opts, CopyResult* result) {
  CopyOptions fresh = opts;
  fresh.overwrite = false;
  fresh.replace = false;
  std::wstring temp;
  Status status = Fail("open", uvwin::kEEXIST);
  for (int attempt = 0; attempt < 16 && status.code == uvwin::kEEXIST; attempt++) {
    temp = TempSibling(wdest, L"copy");
    status = CopyInto(sh, wsrc, sf, temp, fresh, result);
  }
  if (!status.ok()) return status;
  if (!MoveFileExW(temp.c_str(), wdest.c_str(), MOVEFILE_REPLACE_EXISTING)) {
    DWORD err = GetLastError();
    // Made with CREATE_NEW (or by CopyFileExW under FAIL_IF_EXISTS): ours.
    SetFileAttributesW(temp.c_str(), FILE_ATTRIBUTE_NORMAL);  // a read-only copy cannot be deleted
    DeleteFileW(temp.c_str());
    return FailWin("rename", err);
  }
  return Status();
}

Status CopyInto(HANDLE sh, const std::wstring& wsrc, const FileFacts& sf, const std::wstring& wdest,
                const CopyOptions& opts, CopyResult* result) {
  // What is at dest, before anything is written.
  bool existed = false;
  FileFacts before;
  DWORD err = LookAt(wdest, &existed, &before);
  if (err != 0) return FailWin("open", err);
  if (existed) {
    if (!opts.overwrite) return Fail("open", uvwin::kEEXIST);  // as O_EXCL, before same-file
    if (before.identity.SameFile(sf.identity)) return SameFile(opts, sf, result);
    if (before.directory()) return Fail("open", uvwin::kEISDIR);
    if (opts.replace) return ReplaceByRename(sh, wsrc, sf, wdest, opts, result);
  }

  result->strategy = Strategy::kNone;
  bool we_touched = false;  // a failed clone attempt changed a pre-existing dest
  if (opts.request == Request::kReflink || opts.request == Request::kAuto) {
    DWORD volume_flags = 0;
    if (!GetVolumeInformationByHandleW(sh, nullptr, 0, nullptr, nullptr, &volume_flags,
                                       nullptr, 0))
      volume_flags = 0;  // unknown: treated as "cannot clone"
    const bool volume_clones = (volume_flags & FILE_SUPPORTS_BLOCK_REFCOUNTING) != 0;
    // Only when a clone may happen: which volume dest is on (its own, or its
    // directory's), so that nothing is created for a clone that cannot be.
    FileIdentity dest_volume;
    bool try_clone = false;
    if (opts.request == Request::kReflink || volume_clones) {
      if (existed) {
        dest_volume = before.identity;
      } else {
        UniqueHandle dir(OpenForAttributes(ParentDirectory(wdest)));
        if (!dir.valid()) return FailWin("open", GetLastError());
        FileFacts df;
        err = Inspect(dir.get(), &df);
        if (err != 0) return FailWin("fstat", err);
        dest_volume = df.identity;
      }
      const bool same_volume = dest_volume.SameVolume(sf.identity);
      if (opts.request == Request::kReflink) {
        if (!same_volume) return Fail("ioctl", uvwin::kEXDEV);
        if (!volume_clones) return Fail("ioctl", uvwin::kENOTSUP);
        try_clone = true;
      } else {
        try_clone = same_volume && !KnownCapabilities().Never(sf.identity, dest_volume);
      }
    }
    if (try_clone) {
      Destination d;
      Status s = d.Open(wdest, opts.overwrite);
      if (!s.ok()) return s;
      // dest may have changed since it was looked at: check again.
      if (!d.created() && d.facts().identity.SameFile(sf.identity)) {
        d.Close();
        return SameFile(opts, sf, result);
      }
      CloneOutcome clone;
      ClonePrep prep;
      if (!d.facts().identity.SameVolume(sf.identity)) {
        clone = CloneFailure("ioctl", ERROR_NOT_SAME_DEVICE, false);
      } else {
        clone = PrepareClone(sh, wsrc, sf.size, &prep);
      }
      if (clone.error == 0 && opts.request == Request::kReflink && !d.created() &&
          d.facts().size > 0) {
        // A forced clone that fails must leave an existing dest as it was,
        // and emptying it is the first change a clone needs: prove the clone
        // on a scratch sibling first (metadata only, so cheap).
        UniqueHandle trial(CreateFileW(TempSibling(wdest, L"trial").c_str(),
                                       GENERIC_READ | GENERIC_WRITE | DELETE, kShareAll, nullptr,
                                       CREATE_NEW,
                                       FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_TEMPORARY |
                                           FILE_FLAG_DELETE_ON_CLOSE,
                                       nullptr));
        if (!trial.valid()) {
          clone = CloneFailure("open", GetLastError(), false);
        } else {
          clone = ApplyClone(prep, sh, sf.sparse(), sf.size, trial.get(), false);
          clone.dest_changed = false;
        }
      }
      if (clone.error == 0) {
        // Sparse and integrity settings can only be matched on an empty file.
        if (!d.created() && d.facts().size > 0) {
          d.MarkTouched();
          err = SetEndOfFile(d.get(), 0);
          if (err != 0) {
            d.Abandon();
            return FailWin("ftruncate", err);
          }
        }
        clone = ApplyClone(prep, sh, sf.sparse(), sf.size, d.get(), d.facts().sparse());
        if (clone.dest_changed) d.MarkTouched();
      }
      if (clone.error == 0) {
        result->strategy = Strategy::kReflink;
        return Finish(&d, sf, opts, result);
      }
      if (opts.request == Request::kReflink) {
        d.Abandon();
        return Fail(clone.syscall, win::ForcedCloneError(clone.error));
      }
      if (!win::CloneUnsupported(clone.error)) {
        d.Abandon();
        return FailFs(clone.syscall, clone.error);
      }
      if (win::CloneNeverWorks(clone.error))
        KnownCapabilities().SetNever(sf.identity, d.facts().identity);
      // Fall back. A file we created goes (the next step makes its own); a
      // pre-existing one stays, to be overwritten, and removed if that fails.
      we_touched = !d.created() && d.touched();
      if (d.created()) {
        d.Abandon();
      } else {
        d.Close();
      }
    }
  }

  if (opts.request == Request::kAuto && !opts.no_kernel_copy)
    return KernelCopy(wsrc, wdest, sf, existed, before, we_touched, opts, result);

  // A forced copy, or tests of the buffer loop: every byte through this process.
  Destination d;
  Status s = d.Open(wdest, opts.overwrite);
  if (!s.ok()) return s;
  if (!d.created() && d.facts().identity.SameFile(sf.identity)) {
    d.Close();
    return SameFile(opts, sf, result);
  }
  if (we_touched) d.MarkTouched();
  if (!d.created() && d.facts().size > 0) {
    d.MarkTouched();
    err = SetEndOfFile(d.get(), 0);
    if (err != 0) {
      d.Abandon();
      return FailWin("ftruncate", err);
    }
  }
  d.MarkTouched();
  const char* syscall = "write";
  err = CopyThroughBuffer(sh, d.get(), &syscall);
  if (err != 0) {
    d.Abandon();
    return FailWin(syscall, err);
  }
  result->strategy = Strategy::kUserspace;
  return Finish(&d, sf, opts, result);
}

}  // namespace

const char* const kPlatform = "win32";

Status CopyOneFile(const Path& src, const Path& dest, const CopyOptions& opts,
                   CopyResult* result) {
  std::wstring wsrc, wdest;
  DWORD err = ToWidePath(src, &wsrc);
  if (err != 0) return FailWin("open", err);
  err = ToWidePath(dest, &wdest);
  if (err != 0) return FailWin("open", err);

  // Shares everything, as a read(2) open locks nobody out. Backup semantics
  // lets a directory open, so that it is reported as EISDIR.
  UniqueHandle sh(CreateFileW(wsrc.c_str(), GENERIC_READ, kShareAll, nullptr, OPEN_EXISTING,
                              FILE_FLAG_BACKUP_SEMANTICS, nullptr));
  if (!sh.valid()) return FailWin("open", GetLastError());
  // Pipes and devices have no end to copy up to.
  if (GetFileType(sh.get()) != FILE_TYPE_DISK) return Fail("copyfile", uvwin::kEINVAL);
  FileFacts sf;
  err = Inspect(sh.get(), &sf);
  if (err != 0) return FailWin("fstat", err);
  if (sf.directory()) return Fail("copyfile", uvwin::kEISDIR);

  if (opts.request == Request::kHardlink) return HardlinkFile(sh.get(), wsrc, wdest, sf, opts, result);
  return CopyInto(sh.get(), wsrc, sf, wdest, opts, result);
}

namespace {

std::mutex probe_mu;
std::map<std::pair<bool, uint64_t>, VolumeInfo>& ProbeCache() {
  static auto* cache = new std::map<std::pair<bool, uint64_t>, VolumeInfo>();
  return *cache;
}

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

HANDLE CreateScratch(const std::wstring& path, DWORD flags) {
  return CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE | DELETE, kShareAll, nullptr,
                     CREATE_NEW, FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_TEMPORARY | flags,
                     nullptr);
}

}  // namespace

Status ProbeVolume(const Path& path, VolumeInfo* info) {
  std::wstring wpath;
  DWORD err = ToWidePath(path, &wpath);
  if (err != 0) return FailWin("stat", err);
  UniqueHandle h(OpenForAttributes(wpath));
  if (!h.valid()) return FailWin("stat", GetLastError());
  FileFacts facts;
  err = Inspect(h.get(), &facts);
  if (err != 0) return FailWin("stat", err);
  const std::wstring dir = facts.directory() ? wpath : ParentDirectory(wpath);
  const auto key = std::make_pair(facts.identity.extended, facts.identity.volume);
  {
    std::lock_guard<std::mutex> lock(probe_mu);
    auto it = ProbeCache().find(key);
    if (it != ProbeCache().end()) {
      *info = it->second;
      return Status();
    }
  }
  wchar_t fs_name[MAX_PATH + 1] = {};
  DWORD volume_flags = 0;
  if (!GetVolumeInformationByHandleW(h.get(), nullptr, 0, nullptr, nullptr, &volume_flags, fs_name,
                                     MAX_PATH + 1))
    return FailWin("statfs", GetLastError());
  h.Reset();
  VolumeInfo probed;
  probed.fs_name = ToUtf8(fs_name);

  const std::wstring base = Join(dir, L".cowcopy-probe");
  ScratchName a(TempSibling(base, L"a"));
  UniqueHandle ha(CreateScratch(a.path(), 0));
  if (!ha.valid()) {
    // Read-only or not ours: nothing can be cloned into it by this process.
    // Not cached: permissions are per directory.
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
    UniqueHandle hb(CreateScratch(TempSibling(base, L"b"), FILE_FLAG_DELETE_ON_CLOSE));
    if (!hb.valid()) return FailWin("open", GetLastError());
    ClonePrep prep;
    probed.reflink = PrepareClone(ha.get(), a.path(), sizeof block, &prep).error == 0 &&
                     ApplyClone(prep, ha.get(), false, sizeof block, hb.get(), false).error == 0;
  }
  {
    ScratchName link(TempSibling(base, L"link"));
    probed.hardlink = CreateHardLinkW(link.path().c_str(), a.path().c_str(), nullptr) != 0;
  }
  ha.Reset();  // CopyFileExW opens the source without sharing writes
  {
    ScratchName copy(TempSibling(base, L"c"));
    probed.kernel_copy = CopyFileExW(a.path().c_str(), copy.path().c_str(), nullptr, nullptr,
                                     nullptr, COPY_FILE_FAIL_IF_EXISTS) != 0;
  }

  std::lock_guard<std::mutex> lock(probe_mu);
  ProbeCache()[key] = probed;
  *info = probed;
  return Status();
}

// win_errors.h spells the SDK's numbers out: hold it to them.
namespace {
#define COWCOPY_SAME_AS_SDK(ours, sdk) \
  static_assert(win::ours == static_cast<uint32_t>(sdk), #sdk)
COWCOPY_SAME_AS_SDK(kErrorInvalidFunction, ERROR_INVALID_FUNCTION);
COWCOPY_SAME_AS_SDK(kErrorFileNotFound, ERROR_FILE_NOT_FOUND);
COWCOPY_SAME_AS_SDK(kErrorPathNotFound, ERROR_PATH_NOT_FOUND);
COWCOPY_SAME_AS_SDK(kErrorTooManyOpenFiles, ERROR_TOO_MANY_OPEN_FILES);
COWCOPY_SAME_AS_SDK(kErrorAccessDenied, ERROR_ACCESS_DENIED);
COWCOPY_SAME_AS_SDK(kErrorInvalidHandle, ERROR_INVALID_HANDLE);
COWCOPY_SAME_AS_SDK(kErrorNotEnoughMemory, ERROR_NOT_ENOUGH_MEMORY);
COWCOPY_SAME_AS_SDK(kErrorInvalidData, ERROR_INVALID_DATA);
COWCOPY_SAME_AS_SDK(kErrorOutOfMemory, ERROR_OUTOFMEMORY);
COWCOPY_SAME_AS_SDK(kErrorInvalidDrive, ERROR_INVALID_DRIVE);
COWCOPY_SAME_AS_SDK(kErrorNotSameDevice, ERROR_NOT_SAME_DEVICE);
COWCOPY_SAME_AS_SDK(kErrorWriteProtect, ERROR_WRITE_PROTECT);
COWCOPY_SAME_AS_SDK(kErrorCrc, ERROR_CRC);
COWCOPY_SAME_AS_SDK(kErrorGenFailure, ERROR_GEN_FAILURE);
COWCOPY_SAME_AS_SDK(kErrorSharingViolation, ERROR_SHARING_VIOLATION);
COWCOPY_SAME_AS_SDK(kErrorLockViolation, ERROR_LOCK_VIOLATION);
COWCOPY_SAME_AS_SDK(kErrorHandleDiskFull, ERROR_HANDLE_DISK_FULL);
COWCOPY_SAME_AS_SDK(kErrorNotSupported, ERROR_NOT_SUPPORTED);
COWCOPY_SAME_AS_SDK(kErrorNetnameDeleted, ERROR_NETNAME_DELETED);
COWCOPY_SAME_AS_SDK(kErrorFileExists, ERROR_FILE_EXISTS);
COWCOPY_SAME_AS_SDK(kErrorCannotMake, ERROR_CANNOT_MAKE);
COWCOPY_SAME_AS_SDK(kErrorInvalidParameter, ERROR_INVALID_PARAMETER);
COWCOPY_SAME_AS_SDK(kErrorBrokenPipe, ERROR_BROKEN_PIPE);
COWCOPY_SAME_AS_SDK(kErrorOpenFailed, ERROR_OPEN_FAILED);
COWCOPY_SAME_AS_SDK(kErrorBufferOverflow, ERROR_BUFFER_OVERFLOW);
COWCOPY_SAME_AS_SDK(kErrorDiskFull, ERROR_DISK_FULL);
COWCOPY_SAME_AS_SDK(kErrorSemTimeout, ERROR_SEM_TIMEOUT);
COWCOPY_SAME_AS_SDK(kErrorInsufficientBuffer, ERROR_INSUFFICIENT_BUFFER);
COWCOPY_SAME_AS_SDK(kErrorInvalidName, ERROR_INVALID_NAME);
COWCOPY_SAME_AS_SDK(kErrorModNotFound, ERROR_MOD_NOT_FOUND);
COWCOPY_SAME_AS_SDK(kErrorDirNotEmpty, ERROR_DIR_NOT_EMPTY);
COWCOPY_SAME_AS_SDK(kErrorSignalRefused, ERROR_SIGNAL_REFUSED);
COWCOPY_SAME_AS_SDK(kErrorBadPathname, ERROR_BAD_PATHNAME);
COWCOPY_SAME_AS_SDK(kErrorAlreadyExists, ERROR_ALREADY_EXISTS);
COWCOPY_SAME_AS_SDK(kErrorEnvvarNotFound, ERROR_ENVVAR_NOT_FOUND);
COWCOPY_SAME_AS_SDK(kErrorNoSignalSent, ERROR_NO_SIGNAL_SENT);
COWCOPY_SAME_AS_SDK(kErrorFilenameExcedRange, ERROR_FILENAME_EXCED_RANGE);
COWCOPY_SAME_AS_SDK(kErrorMetaExpansionTooLong, ERROR_META_EXPANSION_TOO_LONG);
COWCOPY_SAME_AS_SDK(kErrorBadPipe, ERROR_BAD_PIPE);
COWCOPY_SAME_AS_SDK(kErrorPipeBusy, ERROR_PIPE_BUSY);
COWCOPY_SAME_AS_SDK(kErrorNoData, ERROR_NO_DATA);
COWCOPY_SAME_AS_SDK(kErrorPipeNotConnected, ERROR_PIPE_NOT_CONNECTED);
COWCOPY_SAME_AS_SDK(kErrorDirectory, ERROR_DIRECTORY);
COWCOPY_SAME_AS_SDK(kErrorEaTableFull, ERROR_EA_TABLE_FULL);
#ifdef ERROR_BLOCK_TOO_MANY_REFERENCES  // not in mingw-w64 10's winerror.h
COWCOPY_SAME_AS_SDK(kErrorBlockTooManyReferences, ERROR_BLOCK_TOO_MANY_REFERENCES);
#endif
#ifdef ERROR_ELEVATION_REQUIRED  // not in mingw-w64 10's winerror.h
COWCOPY_SAME_AS_SDK(kErrorElevationRequired, ERROR_ELEVATION_REQUIRED);
#endif
COWCOPY_SAME_AS_SDK(kErrorOperationAborted, ERROR_OPERATION_ABORTED);
COWCOPY_SAME_AS_SDK(kErrorNoaccess, ERROR_NOACCESS);
COWCOPY_SAME_AS_SDK(kErrorInvalidFlags, ERROR_INVALID_FLAGS);
COWCOPY_SAME_AS_SDK(kErrorEndOfMedia, ERROR_END_OF_MEDIA);
COWCOPY_SAME_AS_SDK(kErrorFilemarkDetected, ERROR_FILEMARK_DETECTED);
COWCOPY_SAME_AS_SDK(kErrorBeginningOfMedia, ERROR_BEGINNING_OF_MEDIA);
COWCOPY_SAME_AS_SDK(kErrorSetmarkDetected, ERROR_SETMARK_DETECTED);
COWCOPY_SAME_AS_SDK(kErrorNoDataDetected, ERROR_NO_DATA_DETECTED);
COWCOPY_SAME_AS_SDK(kErrorInvalidBlockLength, ERROR_INVALID_BLOCK_LENGTH);
COWCOPY_SAME_AS_SDK(kErrorBusReset, ERROR_BUS_RESET);
COWCOPY_SAME_AS_SDK(kErrorNoUnicodeTranslation, ERROR_NO_UNICODE_TRANSLATION);
COWCOPY_SAME_AS_SDK(kErrorIoDevice, ERROR_IO_DEVICE);
COWCOPY_SAME_AS_SDK(kErrorEomOverflow, ERROR_EOM_OVERFLOW);
COWCOPY_SAME_AS_SDK(kErrorDeviceRequiresCleaning, ERROR_DEVICE_REQUIRES_CLEANING);
COWCOPY_SAME_AS_SDK(kErrorDeviceDoorOpen, ERROR_DEVICE_DOOR_OPEN);
COWCOPY_SAME_AS_SDK(kErrorConnectionRefused, ERROR_CONNECTION_REFUSED);
COWCOPY_SAME_AS_SDK(kErrorAddressAlreadyAssociated, ERROR_ADDRESS_ALREADY_ASSOCIATED);
COWCOPY_SAME_AS_SDK(kErrorNetworkUnreachable, ERROR_NETWORK_UNREACHABLE);
COWCOPY_SAME_AS_SDK(kErrorHostUnreachable, ERROR_HOST_UNREACHABLE);
COWCOPY_SAME_AS_SDK(kErrorConnectionAborted, ERROR_CONNECTION_ABORTED);
COWCOPY_SAME_AS_SDK(kErrorPrivilegeNotHeld, ERROR_PRIVILEGE_NOT_HELD);
COWCOPY_SAME_AS_SDK(kErrorDiskCorrupt, ERROR_DISK_CORRUPT);
COWCOPY_SAME_AS_SDK(kErrorSymlinkNotSupported, ERROR_SYMLINK_NOT_SUPPORTED);
COWCOPY_SAME_AS_SDK(kErrorCantAccessFile, ERROR_CANT_ACCESS_FILE);
COWCOPY_SAME_AS_SDK(kErrorCantResolveFilename, ERROR_CANT_RESOLVE_FILENAME);
COWCOPY_SAME_AS_SDK(kErrorNotConnected, ERROR_NOT_CONNECTED);
COWCOPY_SAME_AS_SDK(kErrorInvalidReparseData, ERROR_INVALID_REPARSE_DATA);
COWCOPY_SAME_AS_SDK(kWsaEintr, WSAEINTR);
COWCOPY_SAME_AS_SDK(kWsaEacces, WSAEACCES);
COWCOPY_SAME_AS_SDK(kWsaEfault, WSAEFAULT);
COWCOPY_SAME_AS_SDK(kWsaEinval, WSAEINVAL);
COWCOPY_SAME_AS_SDK(kWsaEmfile, WSAEMFILE);
COWCOPY_SAME_AS_SDK(kWsaEwouldblock, WSAEWOULDBLOCK);
COWCOPY_SAME_AS_SDK(kWsaEalready, WSAEALREADY);
COWCOPY_SAME_AS_SDK(kWsaEnotsock, WSAENOTSOCK);
COWCOPY_SAME_AS_SDK(kWsaEmsgsize, WSAEMSGSIZE);
COWCOPY_SAME_AS_SDK(kWsaEprotonosupport, WSAEPROTONOSUPPORT);
COWCOPY_SAME_AS_SDK(kWsaEsocktnosupport, WSAESOCKTNOSUPPORT);
COWCOPY_SAME_AS_SDK(kWsaEpfnosupport, WSAEPFNOSUPPORT);
COWCOPY_SAME_AS_SDK(kWsaEafnosupport, WSAEAFNOSUPPORT);
COWCOPY_SAME_AS_SDK(kWsaEaddrinuse, WSAEADDRINUSE);
COWCOPY_SAME_AS_SDK(kWsaEaddrnotavail, WSAEADDRNOTAVAIL);
COWCOPY_SAME_AS_SDK(kWsaEnetunreach, WSAENETUNREACH);
COWCOPY_SAME_AS_SDK(kWsaEconnaborted, WSAECONNABORTED);
COWCOPY_SAME_AS_SDK(kWsaEconnreset, WSAECONNRESET);
COWCOPY_SAME_AS_SDK(kWsaEnobufs, WSAENOBUFS);
COWCOPY_SAME_AS_SDK(kWsaEisconn, WSAEISCONN);
COWCOPY_SAME_AS_SDK(kWsaEnotconn, WSAENOTCONN);
COWCOPY_SAME_AS_SDK(kWsaEshutdown, WSAESHUTDOWN);
COWCOPY_SAME_AS_SDK(kWsaEtimedout, WSAETIMEDOUT);
COWCOPY_SAME_AS_SDK(kWsaEconnrefused, WSAECONNREFUSED);
COWCOPY_SAME_AS_SDK(kWsaEhostunreach, WSAEHOSTUNREACH);
COWCOPY_SAME_AS_SDK(kWsaHostNotFound, WSAHOST_NOT_FOUND);
COWCOPY_SAME_AS_SDK(kWsaNoData, WSANO_DATA);
#undef COWCOPY_SAME_AS_SDK
}  // namespace

}  // namespace cowcopy
