// The tree walk's Windows half (tree.h's Fs): absolute \\?\ paths below the
// roots, each directory held open while the walk works in it. Listing a
// directory gives every entry's kind from one call per 64 KiB of entries
// (GetFileInformationByHandleEx, FileIdBothDirectoryInfo), so no entry is
// opened just to learn what it is; each file is copied as copyFile copies
// it (win::CopyOpened: block clone, CopyFileExW, what CopyFileW keeps).
//
// What Node does on Windows, done the same here:
// - A symlink is what libuv's lstat calls one: IO_REPARSE_TAG_SYMLINK, a
//   junction to a drive path, a WSL symlink; other reparse points are the
//   files or directories they stand for. Their targets read as
//   uv_fs_readlink reads them (the \??\ of an absolute target dropped).
// - fs.symlink without a type: a directory link where the target resolves
//   to a directory, the target with '\' separators, an absolute one as a
//   \\?\ path; unprivileged creation (Developer Mode) asked for first.
// - Modes are the read-only attribute: 0444 or 0666, as libuv's stat says.
//
// Opened directories hold no sharing of deletion: a directory the walk
// writes into cannot be renamed or replaced while it does. The components
// above it are resolved by Windows as for any path (fs.cp does the same).
#include "win.h"

#include <winioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <vector>

#include "tree.h"
#include "win_errors.h"

// Newer than some SDKs' headers (the values are Windows' own).
#ifndef IO_REPARSE_TAG_LX_SYMLINK
#define IO_REPARSE_TAG_LX_SYMLINK 0xA000001DL
#endif
#ifndef SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE
#define SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE 0x2
#endif

namespace cowcopy {
namespace win {
namespace {

using tree::Dir;
using tree::Entry;
using tree::Kind;
using tree::SourceFile;
using tree::Stat;

// REPARSE_DATA_BUFFER (ntifs.h), the parts read here.
struct ReparseData {
  ULONG tag;
  USHORT data_length;
  USHORT reserved;
  union {
    struct {  // symbolic links (flags) and junctions (no flags)
      USHORT substitute_offset, substitute_length, print_offset, print_length;
      ULONG flags;
    } link;
    struct {
      ULONG version;
      char target[1];
    } lx;
  };
};
constexpr size_t kMountPointHeader = 8;  // the junction's names start before `flags`

constexpr size_t kListBuffer = 64 * 1024;
constexpr int64_t kUnixEpochInFileTime = 116444736000000000LL;  // 1601 -> 1970, in 100 ns
constexpr DWORD kDirAccess = FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE;

struct WinDir : Dir {
  std::wstring path;
  UniqueHandle h;
};

WinDir& Of(Dir& dir) { return static_cast<WinDir&>(dir); }

struct WinFile : SourceFile {
  std::wstring path;
  UniqueHandle h;
  FileFacts facts;
};

// `base` and a name or a '/'-separated relative path, as a wide path.
// Returns a Win32 error: ERROR_NO_UNICODE_TRANSLATION (ECHARSET) for bytes
// that are not UTF-8 (no Windows name has them).
DWORD Below(const std::wstring& base, const Path& rel, std::wstring* out) {
  std::wstring wide = Widen(rel);
  if (wide.empty() && !rel.empty()) return ERROR_NO_UNICODE_TRANSLATION;
  std::replace(wide.begin(), wide.end(), L'/', L'\\');
  *out = rel.empty() ? base : Join(base, wide);
  return 0;
}

void FromFileTime(int64_t t, int64_t* sec, int64_t* nsec) {
  t -= kUnixEpochInFileTime;
  const bool before = t % 10000000 < 0;  // divided toward zero: one second back before 1970
  *sec = t / 10000000 - (before ? 1 : 0);
  *nsec = (t % 10000000 + (before ? 10000000 : 0)) * 100;
}

LARGE_INTEGER ToFileTime(int64_t sec, int64_t nsec) {
  LARGE_INTEGER t;
  t.QuadPart = sec * 10000000 + nsec / 100 + kUnixEpochInFileTime;
  return t;
}

bool IsDriveLetter(wchar_t c) { return (c >= L'A' && c <= L'Z') || (c >= L'a' && c <= L'z'); }

// \??\X: followed by nothing or '\'.
bool IsNtDrivePath(const wchar_t* p, size_t n) {
  return n >= 6 && p[0] == L'\\' && p[1] == L'?' && p[2] == L'?' && p[3] == L'\\' && IsDriveLetter(p[4]) &&
         p[5] == L':' && (n == 6 || p[6] == L'\\');
}

// A link's target as uv_fs_readlink gives it; false (ERROR_SYMLINK_NOT_SUPPORTED)
// for a reparse point that is no link, as libuv's lstat decides.
DWORD ReadLinkHandle(HANDLE h, Path* target) {
  std::unique_ptr<uint64_t[]> buffer(new uint64_t[MAXIMUM_REPARSE_DATA_BUFFER_SIZE / sizeof(uint64_t)]);
  auto* data = reinterpret_cast<ReparseData*>(buffer.get());
  DWORD got = 0;
  if (!DeviceIoControl(h, FSCTL_GET_REPARSE_POINT, nullptr, 0, data, MAXIMUM_REPARSE_DATA_BUFFER_SIZE, &got, nullptr))
    return GetLastError();
  const char* base = reinterpret_cast<const char*>(data);
  if (data->tag == IO_REPARSE_TAG_SYMLINK || data->tag == IO_REPARSE_TAG_MOUNT_POINT) {
    const bool junction = data->tag == IO_REPARSE_TAG_MOUNT_POINT;
    const size_t names = offsetof(ReparseData, link) + (junction ? kMountPointHeader : sizeof data->link);
    const size_t offset = data->link.substitute_offset, length = data->link.substitute_length;
    if (names + offset + length > got) return ERROR_INVALID_DATA;
    const wchar_t* p = reinterpret_cast<const wchar_t*>(base + names + offset);
    size_t n = length / sizeof(wchar_t);
    // Only a junction to a drive path is a link (not \??\Volume{...}).
    if (junction && !IsNtDrivePath(p, n)) return ERROR_SYMLINK_NOT_SUPPORTED;
    if (IsNtDrivePath(p, n)) {
      *target = ToUtf8(p + 4, n - 4);  // the \??\ of a junction, or CreateSymbolicLinkW's of an absolute target
    } else if (n >= 8 && _wcsnicmp(p, L"\\??\\UNC\\", 8) == 0) {
      *target = "\\" + ToUtf8(p + 7, n - 7);  // \??\UNC\server\share -> \\server\share
    } else {
      *target = ToUtf8(p, n);
    }
    return 0;
  }
  if (data->tag == IO_REPARSE_TAG_LX_SYMLINK) {
    const size_t start = offsetof(ReparseData, lx.target);
    const size_t length = data->data_length >= sizeof(ULONG) ? data->data_length - sizeof(ULONG) : 0;
    if (start + length > got) return ERROR_INVALID_DATA;
    target->assign(base + start, length);
    return 0;
  }
  return ERROR_SYMLINK_NOT_SUPPORTED;
}

// What the walk keeps of a file's facts; `link`: it is a symlink (lstat).
Stat ToStat(const FileFacts& f, bool link) {
  Stat st;
  st.kind = link ? Kind::kSymlink : f.directory() ? Kind::kDirectory : Kind::kFile;
  st.dev = f.identity.volume;
  std::memcpy(&st.ino, f.identity.id, sizeof st.ino);
  std::memcpy(&st.ino_high, f.identity.id + sizeof st.ino, sizeof st.ino_high);
  st.mode = f.read_only() ? 0444 : 0666;
  st.nlink = f.links;
  st.size = f.directory() ? 0 : f.size;
  FromFileTime(f.last_access_time.QuadPart, &st.atime_sec, &st.atime_nsec);
  FromFileTime(f.last_write_time.QuadPart, &st.mtime_sec, &st.mtime_nsec);
  return st;
}

// Opens `path` as stat (`follow`) or lstat sees it: without `follow` a link
// as itself (*link), any other reparse point through to what it stands
// for. Returns a Win32 error.
DWORD OpenAs(const std::wstring& path, bool follow, DWORD access, DWORD share, UniqueHandle* h, FileFacts* facts,
             bool* link) {
  *link = false;
  DWORD err = OpenExisting(path, access, follow, h, facts, share);
  if (err != 0 || follow || (facts->attributes & FILE_ATTRIBUTE_REPARSE_POINT) == 0) return err;
  Path ignored;
  if (ReadLinkHandle(h->get(), &ignored) == 0) {
    *link = true;
    return 0;
  }
  return OpenExisting(path, access, true, h, facts, share);
}

// Opens `rel` below `base`, a directory (`dir`) or a file of the walk:
// through links when `follow`, else refusing one (as O_NOFOLLOW does; a
// file may have become a link since it was listed).
Status OpenEntry(const std::wstring& base, const Path& rel, bool follow, bool dir, DWORD share,
                 std::wstring* path, UniqueHandle* h, FileFacts* facts) {
  const char* syscall = dir ? "opendir" : "open";
  bool link = false;
  DWORD err = Below(base, rel, path);
  if (err == 0) err = OpenAs(*path, follow, dir ? kDirAccess : GENERIC_READ, share, h, facts, &link);
  if (err != 0) return FailWin(syscall, err);
  if (link) return FailUv(syscall, uvwin::kELOOP);
  if (facts->directory() != dir) return FailUv(syscall, dir ? uvwin::kENOTDIR : uvwin::kEISDIR);
  return Status();
}

// Opens a directory of the walk (O_DIRECTORY); with `st`, stats it.
Status OpenDirectory(const std::wstring& base, const Path& rel, bool follow, DWORD share,
                     std::unique_ptr<Dir>* out, Stat* st = nullptr) {
  auto dir = std::make_unique<WinDir>();
  FileFacts facts;
  Status s = OpenEntry(base, rel, follow, true, share, &dir->path, &dir->h, &facts);
  if (!s.ok()) return s;
  if (st != nullptr) *st = ToStat(facts, false);
  *out = std::move(dir);
  return Status();
}

constexpr char kSeparators[] = "/\\";
bool IsSeparator(char c) { return c == '/' || c == '\\'; }

// The root of a Windows path ("C:\", "C:", "\\server\share\", "\" or ""),
// with '\' separators, and where the rest of the path starts.
size_t RootOf(const Path& p, Path* root) {
  if (p.size() >= 2 && IsSeparator(p[0]) && IsSeparator(p[1])) {
    size_t server_end = 2;
    while (server_end < p.size() && !IsSeparator(p[server_end])) server_end++;
    const size_t share = server_end + 1;
    size_t share_end = share;
    while (share_end < p.size() && !IsSeparator(p[share_end])) share_end++;
    if (server_end == 2 || share >= p.size() || share_end == share) {
      *root = "\\";  // not a whole \\server\share
      return 1;
    }
    *root = "\\\\" + p.substr(2, server_end - 2) + "\\" + p.substr(share, share_end - share) + "\\";
    return share_end < p.size() ? share_end + 1 : share_end;
  }
  if (p.size() >= 2 && p[1] == ':' && IsDriveLetter(static_cast<wchar_t>(p[0]))) {
    *root = p.substr(0, 2);
    if (p.size() >= 3 && IsSeparator(p[2])) {
      *root += "\\";
      return 3;
    }
    return 2;
  }
  if (!p.empty() && IsSeparator(p[0])) {
    *root = "\\";
    return 1;
  }
  root->clear();
  return 0;
}

// Fs's defaults hold for ExactModes (Windows modes are one attribute: none
// is "exact"), Policy, and CloneWhole (no whole-directory clone here).
class WinFs : public tree::Fs {
 public:
  // The roots as \\?\ paths, once: a failure is reported by the first call that needs one.
  WinFs(const Path& src, const Path& dest, bool dereference)
      : src_error_(ToWidePath(src, &wsrc_)), dest_error_(ToWidePath(dest, &wdest_)), dereference_(dereference) {}

  Status OpenSourceRoot(bool follow, std::unique_ptr<Dir>* dir, Stat* st) override {
    return src_error_ != 0 ? FailWin("opendir", src_error_) : OpenDirectory(wsrc_, "", follow, kShareAll, dir, st);
  }

  Status MakeDestRoot() override {
    if (dest_error_ != 0) return FailWin("mkdir", dest_error_);
    return CreateDirectoryW(wdest_.c_str(), nullptr) ? Status() : FailWin("mkdir", GetLastError());
  }

  Status OpenDestRoot(bool follow, std::unique_ptr<Dir>* dir, Stat* st) override {
    return dest_error_ != 0 ? FailWin("opendir", dest_error_) : OpenDirectory(wdest_, "", follow, kDestShare, dir, st);
  }

  Status OpenSource(const Path& rel, std::unique_ptr<Dir>* dir) override {
    return OpenDirectory(wsrc_, rel, dereference_, kShareAll, dir);
  }

  Status OpenDest(const Path& rel, std::unique_ptr<Dir>* dir) override {
    return OpenDirectory(wdest_, rel, false, kDestShare, dir);
  }

  Status List(Dir& dir, std::vector<Entry>* entries) override {
    // FILE_ID_BOTH_DIR_INFO is 8-byte aligned.
    std::unique_ptr<uint64_t[]> buffer(new uint64_t[kListBuffer / sizeof(uint64_t)]);
    FILE_INFO_BY_HANDLE_CLASS cls = FileIdBothDirectoryRestartInfo;
    for (;;) {
      if (!GetFileInformationByHandleEx(Of(dir).h.get(), cls, buffer.get(), kListBuffer)) {
        DWORD err = GetLastError();
        if (err == ERROR_NO_MORE_FILES) return Status();
        return FailWin("scandir", err);
      }
      cls = FileIdBothDirectoryInfo;
      const char* at = reinterpret_cast<const char*>(buffer.get());
      for (;;) {
        const auto* info = reinterpret_cast<const FILE_ID_BOTH_DIR_INFO*>(at);
        const size_t n = info->FileNameLength / sizeof(wchar_t);
        const wchar_t* name = info->FileName;
        const bool dot = (n == 1 && name[0] == L'.') || (n == 2 && name[0] == L'.' && name[1] == L'.');
        if (!dot) {
          Entry e;
          e.name = ToUtf8(name, n);
          const DWORD attributes = info->FileAttributes;
          if ((attributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
            // [MS-FSCC] 2.4.17: EaSize holds the reparse tag. A symlink is
            // one; what else is (a junction, a WSL link) StatAt decides.
            e.kind = info->EaSize == IO_REPARSE_TAG_SYMLINK ? Kind::kSymlink : Kind::kUnknown;
          } else {
            e.kind = (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0 ? Kind::kDirectory : Kind::kFile;
          }
          entries->push_back(std::move(e));
        }
        if (info->NextEntryOffset == 0) break;
        at += info->NextEntryOffset;
      }
    }
  }

  Status StatAt(Dir& dir, const Path& name, bool follow, Stat* st) override {
    std::wstring path;
    UniqueHandle h;
    FileFacts facts;
    bool link = false;
    DWORD err = Below(Of(dir).path, name, &path);
    if (err == 0) err = OpenAs(path, follow, FILE_READ_ATTRIBUTES, kShareAll, &h, &facts, &link);
    if (err != 0) return FailWin(follow ? "stat" : "lstat", err);
    *st = ToStat(facts, link);
    return Status();
  }

  Status MakeDir(Dir& parent, const Path& name, uint32_t, bool* final) override {
    *final = false;  // the read-only attribute comes last, in FinishDir
    std::wstring path;
    DWORD err = Below(Of(parent).path, name, &path);
    if (err == 0 && !CreateDirectoryW(path.c_str(), nullptr)) err = GetLastError();
    return err == 0 ? Status() : FailWin("mkdir", err);
  }

  // Owners and xattrs: Windows has no POSIX owner, and what a copy of a file
  // carries of streams and EAs it carries already (CopyFileExW).
  Status FinishDir(Dir& dir, const Stat& src, const tree::Finish& what) override {
    // chmod as libuv does it: without the owner's write bit, read-only. A
    // directory this walk made is not read-only: only that is set.
    const bool read_only = what.mode && (src.mode & 0200) == 0;
    if (!read_only && !what.times) return Status();
    return SetBasic(Of(dir).path, src, read_only, what.times);
  }

  Status SetEntry(Dir& dir, const Path& name, const Stat& src, bool times, bool) override {
    std::wstring path;
    if (!times) return Status();
    DWORD err = Below(Of(dir).path, name, &path);
    return err == 0 ? SetBasic(path, src, false, true) : FailWin("utime", err);
  }

  // The source's times (`set_times`) and the read-only attribute (`read_only`)
  // on `path` itself, never what it links to.
  static Status SetBasic(const std::wstring& path, const Stat& src, bool read_only, bool set_times) {
    UniqueHandle h;
    FileFacts now;
    DWORD err = OpenExisting(path, FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES, false, &h, read_only ? &now : nullptr);
    if (err != 0) return FailWin(read_only ? "chmod" : "utime", err);
    FILE_BASIC_INFO basic = {};  // zero: "leave as it is"
    if (read_only) basic.FileAttributes = now.attributes | FILE_ATTRIBUTE_READONLY;
    if (set_times) {
      basic.LastAccessTime = ToFileTime(src.atime_sec, src.atime_nsec);
      basic.LastWriteTime = ToFileTime(src.mtime_sec, src.mtime_nsec);
    }
    const bool set = SetFileInformationByHandle(h.get(), FileBasicInfo, &basic, sizeof basic) != 0;
    return set ? Status() : FailWin(read_only ? "chmod" : "utime", GetLastError());
  }

  Status ReadLink(Dir& dir, const Path& name, Path* target) override {
    std::wstring path;
    UniqueHandle h;
    DWORD err = Below(Of(dir).path, name, &path);
    if (err == 0) err = OpenExisting(path, FILE_READ_ATTRIBUTES, false, &h);
    if (err == 0) err = ReadLinkHandle(h.get(), target);
    return err == 0 ? Status() : FailWin("readlink", err);
  }

  // fs.symlink(target, path) with no type, as Node does it on Windows.
  Status MakeSymlink(Dir& dir, const Path& name, const Path& target) override {
    std::wstring link, resolved;
    DWORD err = Below(Of(dir).path, name, &link);
    if (err != 0) return FailWin("symlink", err);
    DWORD flags = 0;
    const Path dir_utf8 = ToUtf8(Of(dir).path.c_str());
    // A directory link where the target, resolved from the link's
    // directory, is a directory now.
    if (ToWidePath(Resolve(Unprefixed(dir_utf8), target), &resolved) == 0) {
      DWORD attributes = GetFileAttributesW(resolved.c_str());
      if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
        flags |= SYMBOLIC_LINK_FLAG_DIRECTORY;
    }
    std::wstring stored;
    if (IsAbsolute(target)) {
      err = ToWidePath(target, &stored);
      if (err != 0) return FailWin("symlink", err);
    } else {
      stored = Widen(target);
      if (stored.empty() && !target.empty()) return FailUv("symlink", uvwin::kECHARSET);
      std::replace(stored.begin(), stored.end(), L'/', L'\\');
    }
    DWORD unprivileged = unprivileged_.load();
    if (CreateSymbolicLinkW(link.c_str(), stored.c_str(), flags | unprivileged)) return Status();
    err = GetLastError();
    if (err == ERROR_INVALID_PARAMETER && unprivileged != 0) {
      // A Windows without unprivileged symlinks (before 10 1703): ask again without.
      unprivileged_ = 0;
      if (CreateSymbolicLinkW(link.c_str(), stored.c_str(), flags)) return Status();
      err = GetLastError();
    }
    return FailWin("symlink", err);
  }

  Status Rename(Dir& dir, const Path& from, const Path& to) override {
    std::wstring a, b;
    DWORD err = Below(Of(dir).path, from, &a);
    if (err == 0) err = Below(Of(dir).path, to, &b);
    if (err == 0) err = ReplaceEntry(a, b);
    return err == 0 ? Status() : FailWin("rename", err);
  }

  void Remove(Dir& dir, const Path& name) override {
    std::wstring path;
    if (Below(Of(dir).path, name, &path) == 0) RemoveEntry(path, false);  // a link as itself
  }

  Status OpenFile(Dir& dir, const Path& name, bool follow, std::unique_ptr<SourceFile>* file) override {
    auto f = std::make_unique<WinFile>();
    Status s = OpenEntry(Of(dir).path, name, follow, false, kShareAll, &f->path, &f->h, &f->facts);
    if (!s.ok()) return s;
    f->stat = ToStat(f->facts, false);
    *file = std::move(f);
    return Status();
  }

  Status CopyInto(SourceFile& file, Dir& dir, const Path& name, bool, const CopyOptions& opts,
                  CopyResult* result) override {
    auto& f = static_cast<WinFile&>(file);
    std::wstring dest;
    DWORD err = Below(Of(dir).path, name, &dest);
    if (err != 0) return FailWin("open", err);
    CopyOptions fresh = opts;
    fresh.overwrite = false;  // a new entry: EEXIST if anything is there
    fresh.replace = false;
    return CopyOpened(f.h.get(), f.path, f.facts, dest, fresh, result);
  }

  Status LinkInto(Dir& sdir, const Path& source, bool follow, Dir& dir, const Path& name) override {
    std::wstring from, to;
    UniqueHandle h;
    DWORD err = Below(Of(sdir).path, source, &from);
    if (err == 0) err = Below(Of(dir).path, name, &to);
    // link(2) with AT_SYMLINK_FOLLOW: to the file a link leads to.
    if (err == 0 && follow) err = OpenExisting(from, FILE_READ_ATTRIBUTES, true, &h);
    if (err != 0) return FailWin("link", err);
    if (follow) FinalPath(h.get(), &from);
    return CreateHardLinkW(to.c_str(), from.c_str(), nullptr) ? Status() : FailFs("link", GetLastError());
  }

  int Code(int posix_errno) const override {
    switch (posix_errno) {
      case EEXIST: return uvwin::kEEXIST;
      case ELOOP: return uvwin::kELOOP;
      case ECANCELED: return uvwin::kECANCELED;
      case ENOTSUP: return uvwin::kENOTSUP;
      default: return uvwin::kEINVAL;
    }
  }

  // path.win32.isAbsolute.
  bool IsAbsolute(const Path& p) const override {
    return (!p.empty() && IsSeparator(p[0])) ||
           (p.size() >= 3 && p[1] == ':' && IsDriveLetter(static_cast<wchar_t>(p[0])) && IsSeparator(p[2]));
  }

  // path.win32.resolve(base, p), `base` absolute: '\' separators, "." and
  // ".." gone, the root ("C:\", "\\server\share\") kept.
  Path Resolve(const Path& base, const Path& p) const override {
    Path root_p, root_base;
    size_t rest_p = RootOf(p, &root_p), rest_base = RootOf(base, &root_base);
    Path root = root_base, joined = p.substr(rest_p);
    if (IsAbsolute(p)) {
      // C:\... or \\server\share\...; \... on base's drive
      root = root_p.size() > 1 ? root_p : DriveOf(root_base);
    } else if (!root_p.empty() && DriveOf(root_base).compare(0, 2, root_p) != 0) {
      root = root_p + "\\";  // D:rel with base elsewhere: from D:'s root
    } else {
      joined = base.substr(rest_base) + "\\" + joined;
    }
    const std::vector<Path> parts = tree::Normalized(joined, kSeparators);
    Path out = root;
    for (size_t k = 0; k < parts.size(); k++) out += (k == 0 ? "" : "\\") + parts[k];
    return out;
  }

  const char* Separators() const override { return kSeparators; }

 private:
  // Destinations are not deleted or renamed while the walk writes into them.
  static constexpr DWORD kDestShare = FILE_SHARE_READ | FILE_SHARE_WRITE;

  static Path DriveOf(const Path& root) { return root.size() >= 2 && root[1] == ':' ? root.substr(0, 2) + "\\" : root; }
  // A \\?\ path as a Win32 one (\\?\C:\x -> C:\x, \\?\UNC\s\h -> \\s\h).
  static Path Unprefixed(const Path& p) {
    if (p.compare(0, 8, "\\\\?\\UNC\\") == 0) return "\\\\" + p.substr(8);
    if (p.compare(0, 4, "\\\\?\\") == 0) return p.substr(4);
    return p;
  }

  std::wstring wsrc_, wdest_;  // before the errors: their initializers fill them
  const DWORD src_error_, dest_error_;
  const bool dereference_;
  std::atomic<DWORD> unprivileged_{SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE};
};

}  // namespace
}  // namespace win

namespace tree {

std::unique_ptr<Fs> MakeFs(const Path& src, const Path& dest, bool dereference) {
  return std::make_unique<win::WinFs>(src, dest, dereference);
}

}  // namespace tree

const bool kNativeTree = true;

}  // namespace cowcopy
