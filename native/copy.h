// The one internal interface every platform file implements.
//
// Platform files (copy_linux.cc, ...) talk to the OS and return data: a
// libuv-style error code (negative, as in Node's err.errno) plus the name of
// the call that failed. They never include napi.h; addon.cc never includes
// an OS header. TypeScript turns a Status into a Node-shaped Error.
#ifndef COWCOPY_COPY_H_
#define COWCOPY_COPY_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cowcopy {

// Bytes as the OS takes them: UTF-8 from a JavaScript string, raw bytes from a
// Buffer (so names that are not valid UTF-8 survive).
using Path = std::string;

// What actually happened. Crosses into TypeScript by name (kStrategyNames).
enum class Strategy : int {
  kNone = 0,       // nothing was copied (same file, copyFile semantics)
  kReflink = 1,    // copy-on-write clone: FICLONE, clonefile, block cloning
  kHardlink = 2,   // a new name for the same inode
  kKernel = 3,     // the kernel moved the bytes: copy_file_range, sendfile
  kUserspace = 4,  // read()/write() through a buffer
};

// What the caller asked for. Anything but kAuto is forced: it fails rather
// than doing something else.
enum class Request : int {
  kAuto = 0,
  kReflink = 1,
  kHardlink = 2,
  kCopy = 3,
};

// The names the enums cross the boundary with, in the enums' order.
// lib/binding.ts has the same lists and refuses a binding that differs.
constexpr const char* kStrategyNames[] = {"none", "reflink", "hardlink", "kernel", "userspace"};
constexpr const char* kRequestNames[] = {"auto", "reflink", "hardlink", "copy"};
// Which existing files and symlinks force replaces (GNU cp's --update).
enum class Update : unsigned char { kAll, kNone, kOlder };
constexpr const char* kUpdateNames[] = {"all", "none", "older"};
// What a walk keeps beyond fs.cp's copy (cp()'s preserve), as bits of
// TreeOptions::preserve, in kPreserveNames' order.
enum Preserve : unsigned { kLinks = 1, kXattr = 2, kTimestamps = 4, kMode = 8, kOwnership = 16 };
constexpr const char* kPreserveNames[] = {"links", "xattr", "timestamps", "mode", "ownership"};
// FIFOs, sockets and devices in a tree: fs.cp's error, skipped, or made again.
enum class Special : unsigned char { kError, kSkip, kRecreate };
constexpr const char* kSpecialNames[] = {"error", "skip", "recreate"};

struct CopyOptions {
  Request request = Request::kAuto;
  bool overwrite = true;             // false: COPYFILE_EXCL
  bool preserve_timestamps = false;  // atime and mtime, nanoseconds
  bool preserve_ownership = false;   // owner and group (KeepOwner's rule)
  bool preserve_xattr = false;       // extended attributes (CopyXattrs)
  bool same_file_ok = false;         // copyFile: a no-op; clone: an error
  bool no_kernel_copy = false;       // tests: exercise the read/write loop
  bool no_own_clone = false;         // tests: leave any clone to the OS copy (Windows)
  // An existing dest is replaced by a new file, renamed over it once
  // complete (fs.cp), instead of being written into (fs.copyFile).
  bool replace = false;
  // Set by an abort: a copy of the bytes stops between chunks (ECANCELED),
  // and what it wrote is removed. A clone is one call and is not stopped.
  const std::atomic<bool>* cancel = nullptr;
};

struct Status {
  int code = 0;                   // 0 or a negative libuv-style error code
  const char* syscall = nullptr;  // the call that failed, for err.syscall
  bool same_file = false;         // src and dest are one file (code is set)

  bool ok() const { return code == 0; }
};

struct CopyResult {
  Strategy strategy = Strategy::kNone;
  uint64_t bytes = 0;  // size of the destination's data
};

// Which platform file is compiled in ("linux", ...), or nullptr where no
// platform file exists yet: the facade then uses its node:fs fallback.
extern const char* const kPlatform;

// ".cowcopy-<tag>-<pid>-<n>": a temporary name for an entry being made, to
// be renamed over the one it replaces. Short, so that a name near NAME_MAX
// still gets one. Both in tree.cc, lib/paths.ts's form.
Path TempName(const char* tag);
// A temporary name (TempName's form) that a process no longer running left
// behind (killed between making it and renaming it): safe to remove.
bool IsLeftoverTemp(const Path& name);
// What the two ask the OS: this process's id, and whether process `pid`
// has ended (no such process, as this one sees them).
uint64_t ProcessId();
bool ProcessEnded(uint64_t pid);

// "Cannot" answers that hold for every file between two volumes (a clone
// between them, a kernel copy), remembered for the life of the process, so
// that a tree does not ask again for every file. A forced request ignores
// them and always asks the OS. Volumes are keyed as the platform names them
// (st_dev, a volume serial number).
class Cannot {
 public:
  enum What : unsigned { kClone = 1, kCopyRange = 2, kSendfile = 4 };

  static bool Known(uint64_t src, uint64_t dest, What what) { return (Add(src, dest, 0) & what) != 0; }
  static void Remember(uint64_t src, uint64_t dest, What what) { Add(src, dest, what); }

 private:
  // Ors `what` into the pair's answers, and returns them. Never destroyed:
  // walk threads may outlive exit.
  static unsigned Add(uint64_t src, uint64_t dest, unsigned what) {
    static auto* mu = new std::mutex();
    static auto* pairs = new std::map<std::pair<uint64_t, uint64_t>, unsigned>();
    std::lock_guard<std::mutex> lock(*mu);
    return (*pairs)[{src, dest}] |= what;
  }
};

// The err.errno Node gives for an error number of this OS (errno on POSIX,
// GetLastError() on Windows, where the host's own libuv translates it).
int NodeErrorCode(int os_error);

// Copies one regular file (following symlinks, as fs.copyFile does).
// On failure the destination is removed unless it existed before and was
// left untouched; the source is never modified.
Status CopyOneFile(const Path& src, const Path& dest, const CopyOptions& opts, CopyResult* result);

// A FIFO, socket or device like src (followed with `follow`) made at dest,
// a new entry: its mode exactly, and the owner and times that `preserve`
// (Preserve bits) asks. Nothing is left at dest on failure. Where the OS has
// no such files, ENOTSUP.
Status MakeSpecialFile(const Path& src, const Path& dest, bool follow, unsigned preserve);

struct VolumeInfo {
  uint64_t fs_type = 0;    // statfs f_type (Linux); 0 where names are used
  std::string fs_name;     // filesystem name where the OS reports one
  bool reflink = false;    // a clone of a scratch file really succeeded
  bool hardlink = false;   // a link of a scratch file really succeeded
  bool kernel_copy = false;  // copy_file_range (or the OS equivalent) works
  bool writable = false;   // scratch files could be created at all
};

// Probes the volume holding `path` (a directory, or a file's directory) by
// really trying each operation on scratch files; cached per directory.
Status ProbeVolume(const Path& path, VolumeInfo* info);

// ---- Whole trees at once: snapshot(), prepareTemplate(), removeTree() ----
// (volume_linux.cc for btrfs, copy_darwin.cc for APFS; elsewhere there are
// none: InspectTree says so, and the rest fail with ENOTSUP.)

// What the volume can do with directory `path` as a whole.
struct TreeVolume {
  uint64_t fs_type = 0;      // statfs f_type (Linux); 0 where names are used
  std::string fs_name;       // filesystem name where the OS reports one
  // How CloneTree would copy it at once: "snapshot" (btrfs, a subvolume's
  // root), "clonefile" (APFS), or nullptr (it cannot: the caller walks).
  const char* whole = nullptr;
  bool subvolume = false;    // btrfs: path is a subvolume's root
  bool read_only = false;    // ...and that subvolume is read-only
  // btrfs, a subvolume's root: the subvolumes inside it (paths relative to
  // it), which a snapshot of it holds as empty directories.
  std::vector<Path> nested;
};
Status InspectTree(const Path& path, TreeVolume* out);  // path itself not followed (Linux)
// The whole directory src as a new entry dest (which must not exist), in
// one call where InspectTree would name a way (a btrfs snapshot, read-only
// if asked; a clonefile), and where dest would not be inside src (EINVAL).
// *out is src's TreeVolume: with out->whole null nothing was tried (the
// caller walks). Nothing is made on failure.
Status CloneTree(const Path& src, const Path& dest, bool read_only, TreeVolume* out);
// btrfs: a new empty subvolume at path; the subvolume at path deleted whole
// (root, or the mount option user_subvol_rm_allowed: else EPERM; ENOTEMPTY
// while it holds subvolumes); a subvolume made read-only or writable again
// (its owner may).
Status CreateSubvolume(const Path& path);
Status DestroySubvolume(const Path& path);
Status SetSubvolumeReadOnly(const Path& path, bool read_only);
// a and b swap names in one step (Linux renameat2 RENAME_EXCHANGE).
Status ExchangePaths(const Path& a, const Path& b);

// ---- Trees (tree.cc, the platform behind tree.h) ----

struct TreeOptions {
  CopyOptions file;               // request, preserve_timestamps, no_kernel_copy
  bool force = true;              // replace existing files and symlinks
  bool error_on_exist = false;    // without force: an existing entry is an error, not skipped
  bool error_on_existing_dir = false;  // a directory there too (the Node that runs refuses one)
  Update update = Update::kAll;
  unsigned preserve = 0;          // Preserve bits
  Special special = Special::kError;
  bool dereference = false;       // follow symlinks in src
  bool verbatim_symlinks = true;  // false: relative targets are made absolute (fs.cp)
  bool dest_exists = false;       // dest is a directory to merge into
  unsigned concurrency = 0;       // worker threads; 0: a default for this machine
  Path src_absolute;              // resolves relative link targets
  Path dest_absolute;             // resolves the targets of links found at dest
  // Try one clone of the whole directory first (CloneDirectory); the walk
  // follows only where the OS cannot.
  bool whole_clone = false;
};

struct FilterEntry {
  Path name;
  bool is_dir = false;
  bool keep = true;
};

// How the walk reaches back into JavaScript; called on worker threads.
class TreeHooks {
 public:
  virtual ~TreeHooks() = default;
  virtual bool has_filter() const = 0;
  // Sets `keep` for the entries of directory `rel` (relative to the roots);
  // blocks until answered. False: stop the walk (the filter threw, or the
  // walk was cancelled meanwhile).
  virtual bool Filter(const Path& rel, std::vector<FilterEntry>* entries) = 0;
  // Counters so far; must not block.
  virtual void Progress(uint64_t files, uint64_t bytes) = 0;
};

// The fs.cp errors (lib/errors.ts builds ERR_FS_CP_* from them).
enum class TreeErrorKind : int {
  kSystem = 0,        // Status carries the OS error
  kSameFile = 1,      // src and dest cannot be the same
  kDirToNonDir = 2,   // cannot overwrite non-directory with directory
  kNonDirToDir = 3,   // cannot overwrite directory with non-directory
  kExists = 4,        // errorOnExist
  kFifo = 5,
  kSocket = 6,
  kUnknownType = 7,   // devices and anything else that is not a file
  kLinkIntoSelf = 8,  // a symlink's target inside the link being replaced
  kLinkOverSubdir = 9,
  kCancelled = 10,    // the AbortSignal fired
  kFilter = 11,       // the filter threw; JavaScript holds the error
  kLoop = 12,         // dereference: a directory leads back to an ancestor
  kUnsupported = 13,  // (the node:fs fallback's: never recorded here)
};
constexpr const char* kTreeErrorNames[] = {
    "system", "sameFile",     "dirToNonDir",    "nonDirToDir", "exists", "fifo", "socket",
    "unknownType", "linkIntoSelf", "linkOverSubdir", "cancelled", "filter", "loop", "unsupported"};

// Which paths a system error names (decided where it is recorded).
enum class ErrorPaths : int {
  kSource = 0,       // the source entry (a read failed)
  kDestination = 1,  // the destination entry (a mkdir, a chmod failed)
  kBoth = 2,         // source -> destination (a copy failed)
  kLinkTarget = 3,   // a symlink's target -> destination (symlink() failed)
};
constexpr const char* kErrorPathsNames[] = {"source", "destination", "both", "linkTarget"};

struct TreeResult {
  uint64_t files = 0, directories = 0, symlinks = 0, bytes = 0, skipped = 0, specials = 0;
  uint64_t by_strategy[5] = {};  // indexed by Strategy

  // The first failure, when status or kind is set.
  Status status;
  TreeErrorKind kind = TreeErrorKind::kSystem;
  Path rel;               // the entry that failed, relative to both roots
  ErrorPaths paths = ErrorPaths::kDestination;
  Path link_src, link_dest;  // for the symlink errors: the targets compared

  bool ok() const { return status.ok() && kind == TreeErrorKind::kSystem; }
};

// Whether CopyTree walks natively here (tree.cc) or not (copy_unsupported.cc:
// the facade walks and copies each file with CopyOneFile).
extern const bool kNativeTree;

// Copies the directory src into dest (created, or merged into when
// opts.dest_exists), in parallel, relative to directory descriptors.
// Stops at the first error (in *result), or when *cancel becomes true.
void CopyTree(const Path& src, const Path& dest, const TreeOptions& opts, TreeHooks* hooks,
              const std::atomic<bool>* cancel, TreeResult* result);

}  // namespace cowcopy

#endif  // COWCOPY_COPY_H_
