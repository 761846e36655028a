// What the tree walk (tree.cc, the same on every platform) asks of the
// platform that runs it: directories opened again by their path below the
// roots, what they hold, and the entries made in them. tree_posix.cc
// answers with directory descriptors (openat and friends, no symlink
// followed on the way), tree_win.cc with paths below the roots. Relative
// paths (`rel`) use '/'.
#ifndef COWCOPY_TREE_H_
#define COWCOPY_TREE_H_

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "copy.h"

namespace cowcopy {
namespace tree {

enum class Kind : unsigned char { kUnknown, kFile, kDirectory, kSymlink, kFifo, kSocket, kDevice };

// What the walk keeps of an entry it copies.
struct Stat {
  Kind kind = Kind::kUnknown;
  // Which file it is (ReFS file ids have 128 bits: ino and ino_high).
  uint64_t dev = 0, ino = 0, ino_high = 0;
  uint32_t mode = 0;  // permission bits, 07777
  uint32_t uid = 0, gid = 0;
  uint64_t nlink = 1, rdev = 0;
  uint32_t format = 0;  // the type bits as the OS gives them (POSIX S_IFMT): what MakeSpecial makes
  uint64_t size = 0;
  // Access and modification times, for the destination's when asked.
  int64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;

  bool Same(const Stat& o) const { return dev == o.dev && ino == o.ino && ino_high == o.ino_high; }
};

struct Entry {
  Path name;
  Kind kind = Kind::kUnknown;  // as listed; kUnknown where the listing does not say
};

// An open directory of the walk (a descriptor, or a path and a handle).
struct Dir {
  virtual ~Dir() = default;
};

// A source file, open for copying: the one the copy reads, whatever its
// name leads to meanwhile.
struct SourceFile {
  virtual ~SourceFile() = default;
  Stat stat;  // as it was opened
};

// What FinishDir gives a directory whose contents are done.
struct Finish {
  bool mode = false;               // the source's mode (unless made with it)
  bool times = false;              // the source's atime and mtime
  bool owner = false;              // the source's owner and group (KeepOwner's rule)
  Dir* xattrs_from = nullptr;      // the source directory, whose xattrs it gets
};

// How a platform runs the walk's workers.
struct WorkerPolicy {
  unsigned workers = 2;      // when the caller does not say
  unsigned most = 64;        // whatever the caller says (descriptors left, say)
  bool oldest_first = true;  // several workers take the oldest queued item
};

class Fs {
 public:
  virtual ~Fs() = default;

  // ---- roots ----
  // The source root (following a symlink there with dereference only).
  virtual Status OpenSourceRoot(bool follow, std::unique_ptr<Dir>* dir, Stat* st) = 0;
  // Makes the destination root (owner-only until filled).
  virtual Status MakeDestRoot() = 0;
  virtual Status OpenDestRoot(bool follow, std::unique_ptr<Dir>* dir, Stat* st) = 0;
  // Whether what the walk makes in the destination root gets exactly the
  // mode asked for (then it need not be asked back, or set again).
  virtual bool ExactModes(Dir& /*dest_root*/, const Stat& /*st*/) { return false; }
  virtual WorkerPolicy Policy(Dir& /*dest_root*/) { return WorkerPolicy(); }
  // One clone of the whole source tree as the destination (macOS
  // clonefile), counted into `counted`; *refused when it holds an entry
  // fs.cp refuses (then it is removed again). Not supported (the default):
  // the platform's ENOTSUP, nothing made.
  virtual Status CloneWhole(TreeResult* /*counted*/, bool* /*refused*/) { return {Code(ENOTSUP), "clonefile"}; }
  // Removes what CloneWhole left at the destination.
  virtual Status RemoveDestRoot() { return Status(); }

  // ---- directories below the roots ----
  virtual Status OpenSource(const Path& rel, std::unique_ptr<Dir>* dir) = 0;
  virtual Status OpenDest(const Path& rel, std::unique_ptr<Dir>* dir) = 0;
  virtual Status List(Dir& dir, std::vector<Entry>* entries) = 0;
  virtual Status StatAt(Dir& dir, const Path& name, bool follow, Stat* st) = 0;
  // Makes `name`: with `mode` itself where *final (exact modes, nobody else
  // can write into it meanwhile) and the platform can give it so, else
  // owner-only until filled; *final says which.
  virtual Status MakeDir(Dir& parent, const Path& name, uint32_t mode, bool* final) = 0;
  // A directory whose contents are done: what `what` asks of the source's.
  virtual Status FinishDir(Dir& dir, const Stat& src, const Finish& what) = 0;
  virtual Status ReadLink(Dir& dir, const Path& name, Path* target) = 0;
  virtual Status MakeSymlink(Dir& dir, const Path& name, const Path& target) = 0;
  // The source's times and owner for an entry not opened (a symlink, a
  // special file), as asked. Where the platform has neither: nothing done
  // when nothing is asked, else its ENOTSUP.
  virtual Status SetEntry(Dir& /*dir*/, const Path& /*name*/, const Stat& /*src*/, bool times, bool owner) {
    return times || owner ? Status{Code(ENOTSUP), "utime"} : Status();
  }
  // A FIFO, socket or device like `src` (its mode exactly). Not supported
  // (the default): the platform's ENOTSUP.
  virtual Status MakeSpecial(Dir& /*dir*/, const Path& /*name*/, const Stat& /*src*/) {
    return {Code(ENOTSUP), "mknod"};
  }
  virtual Status Rename(Dir& dir, const Path& from, const Path& to) = 0;
  virtual void Remove(Dir& dir, const Path& name) = 0;

  // ---- files ----
  virtual Status OpenFile(Dir& dir, const Path& name, bool follow, std::unique_ptr<SourceFile>* file) = 0;
  // Copies `file` to `name`, a new entry of `dir` (never through a symlink);
  // exists: the platform's EEXIST. `exact`: `dir` makes entries with the
  // exact mode asked.
  virtual Status CopyInto(SourceFile& file, Dir& dir, const Path& name, bool exact, const CopyOptions& opts,
                          CopyResult* result) = 0;
  // An existing file `name` in `dir` (our user and group, one link) that already holds
  // `file`'s data in the same blocks, as a clone of it does, gets only what a
  // new copy would (the mode, the source's times or now): true when done,
  // with what a clone would report. False where it cannot tell: replace it.
  virtual bool RefreshClone(SourceFile&, Dir&, const Path&, const CopyOptions&, CopyResult*) { return false; }
  // A hard link `name` in `dir` to the file `source` names in `sdir`.
  virtual Status LinkInto(Dir& sdir, const Path& source, bool follow, Dir& dir, const Path& name) = 0;

  // ---- codes and paths ----
  // Node's code for a POSIX errno on this platform (EEXIST, ELOOP, ECANCELED).
  virtual int Code(int posix_errno) const = 0;
  // Link targets, resolved as Node's path.resolve does on this platform (the
  // directory of a resolved path is that path and "/.." resolved).
  virtual bool IsAbsolute(const Path& p) const = 0;
  virtual Path Resolve(const Path& base, const Path& p) const = 0;
  // What Resolve's paths are split at (path.sep; '/' too on Windows).
  virtual const char* Separators() const = 0;
};

// The components of `p` between any of `separators`, "." left out and ".."
// taking the one before it away (none above the first): path.normalize's.
std::vector<Path> Normalized(const Path& p, const char* separators);

// The platform's Fs for one walk of src into dest.
std::unique_ptr<Fs> MakeFs(const Path& src, const Path& dest, bool dereference);

}  // namespace tree
}  // namespace cowcopy

#endif  // COWCOPY_TREE_H_
