// Small helpers every POSIX file shares (copy_linux.cc, tree_posix.cc).
#ifndef COWCOPY_POSIX_H_
#define COWCOPY_POSIX_H_

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <vector>

#include "copy.h"
#include "tree.h"

namespace cowcopy {

inline Status Fail(const char* syscall, int err) { return Status{-err, syscall}; }

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }
  // Closes and returns the error close() gives (NFS reports failed writes there).
  int Close() {
    int fd = Release();
    return fd >= 0 && close(fd) != 0 ? errno : 0;
  }

 private:
  int fd_;
};

inline int OpenAtNoIntr(int dir, const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = openat(dir, path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

inline int OpenNoIntr(const char* path, int flags, mode_t mode = 0) {
  return OpenAtNoIntr(AT_FDCWD, path, flags, mode);
}

inline bool SameInode(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// { atime, mtime } for futimens(): the fields are named differently on macOS.
inline void StatTimes(const struct stat& st, struct timespec times[2]) {
#ifdef __APPLE__
  times[0] = st.st_atimespec;
  times[1] = st.st_mtimespec;
#else
  times[0] = st.st_atim;
  times[1] = st.st_mtim;
#endif
}

// Opens a source file for copying and checks what it is. O_NONBLOCK: opening
// a FIFO must not wait for a writer. A directory is EISDIR; anything else that
// is not a regular file has no end to copy up to: EINVAL.
inline Status OpenSource(int dir, const char* name, bool follow, UniqueFd* fd, struct stat* st) {
  fd->Reset(OpenAtNoIntr(dir, name, O_RDONLY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW)));
  if (fd->get() < 0) return Fail("open", errno);
  if (fstat(fd->get(), st) != 0) return Fail("fstat", errno);
  if (S_ISDIR(st->st_mode)) return Fail("copyfile", EISDIR);
  if (!S_ISREG(st->st_mode)) return Fail("copyfile", EINVAL);
  return Status();
}

// Clone errors that hold for the whole pair of filesystems, and may be
// remembered: it cannot clone (ENOTSUP, EOPNOTSUPP, ENOSYS; ENOTTY for an
// ioctl it does not know), or two of them (EXDEV).
inline bool CloneNeverWorks(int err) {
  return err == ENOTSUP || err == EOPNOTSUPP || err == ENOTTY || err == ENOSYS || err == EXDEV;
}
// What a forced clone reports when the filesystem cannot clone: EXDEV for two
// filesystems, ENOTSUP otherwise (as COPYFILE_FICLONE_FORCE does on Linux).
inline int ForcedCloneError(int err) {
  return err == EOPNOTSUPP || err == ENOTTY || err == EINVAL || err == ENOSYS ? ENOTSUP : err;
}

// ---- file_posix.cc: shared by the POSIX platform files ----

Path DirName(const Path& path);
Path TempIn(const Path& dir, const char* tag);

// Copies the data of `sfd` into `dfd` at the same offsets: extent by extent
// where the file has holes (SEEK_DATA/SEEK_HOLE: they stay holes, a trailing
// one to the size the file has now), else up to the size it had when
// opened (to its end where that says 0: procfs). Where reading ends before
// an extent does (a file that shrank, a sysfs attribute), so does dest.
// `range` copies [start, start + length) (to the end when length < 0) and
// says where it stopped.
using RangeCopy = std::function<Status(off_t start, off_t length, off_t* end)>;
Status CopyByExtents(int sfd, int dfd, const struct stat& sst, const RangeCopy& range);
// One pread of up to `want` bytes at `pos` and the pwrites of all of it:
// the bytes copied, 0 at the end, or -errno with *syscall set.
ssize_t ReadWriteAt(int sfd, int dfd, off_t pos, char* buffer, size_t want, const char** syscall);

// After the data: the owner and the xattrs when asked, setuid/setgid again
// (a write or a chown clears them), and the source's times when asked.
Status FinishMetadata(int sfd, int dfd, const struct stat& sst, const CopyOptions& opts);

// preserve 'ownership' by `chown` (fchown, fchownat, ...): as root a refusal
// is an error; any other user gives away nothing, so then the group alone is
// tried, and a refusal of that is kept quiet (GNU cp's rule).
Status KeepOwner(const char* syscall, const std::function<int(uid_t, gid_t)>& chown, uid_t uid, gid_t gid);

// ---- hooks each POSIX platform file implements ----

// fs.copyFile into an existing dest, open as *dfd and described by dst (or a
// file just `created` through a dangling symlink there): the result is at the
// name dest leads to. Sets *touched once a pre-existing dest's data changed
// (CopyOneFile then removes it on failure). Closes *dfd itself where it no
// longer holds dest (a clone renamed over it).
Status WriteInto(int sfd, const struct stat& sst, const Path& dest, UniqueFd* dfd, const struct stat& dst,
                 bool created, bool* touched, const CopyOptions& opts, CopyResult* result);

// ProbeVolume's platform half in directory `dir`: the filesystem, and
// whether `scratch` (`size` bytes, open there; -1 where none could be made)
// clones and copies by the kernel (file_posix.cc makes it, tries a hard link).
Status ProbeCopies(const Path& dir, int scratch, size_t size, VolumeInfo* info);
// The path an open file has now, or "" where the OS cannot tell.
Path PathOfFd(int fd);
// Makes `name` a link to the file open as sfd (opened from src), never to
// another file swapped in at src meanwhile: 0 or an errno.
int LinkOpened(int sfd, const Path& src, const Path& name, const struct stat& sst);

// What a caller knows of the files it creates in a directory: they land on
// `dev` with exactly the mode asked less `umask` (no default ACL there).
struct NewFileHint {
  dev_t dev;
  mode_t umask;
};

// Whether dfd already holds sfd's data in the same blocks, as a clone of it
// does: every extent at the same offset, shared, settled on disk (nothing
// delayed, unwritten or encoded; data inline in the metadata the same
// bytes), and no xattrs (a new copy has none). False wherever the OS cannot
// tell.
bool SharesAllData(int sfd, int dfd);

// preserve 'xattr': every extended attribute of sfd onto dfd (POSIX ACLs
// and file capabilities are ones on Linux), but security.selinux; where the
// OS refuses this user a security. or trusted. one, it is left out.
Status CopyXattrs(int sfd, int dfd);
// Whether the open file has extended attributes (or the OS cannot say).
bool HasXattrs(int fd);

// mknodat where the OS has it: 0, or an errno.
int MakeNode(int dir, const char* name, mode_t mode, dev_t rdev);

// What the POSIX tree walk needs from the platform file: copy an open source
// into `name`, a new entry of dest_dir that this call creates (never through
// a symlink). On failure nothing is left at `name`. EEXIST when it exists.
// With a hint the platform may skip asking what it made.
Status CopyIntoNew(int sfd, const struct stat& sst, int dest_dir, const char* name,
                   const CopyOptions& opts, CopyResult* result, const NewFileHint* hint = nullptr);

// A whole directory hierarchy in one call where the OS can (macOS
// clonefile); dest must not exist. -ENOTSUP where it cannot: then nothing
// was made and the walk copies file by file.
Status CloneDirectory(const Path& src, const Path& dest);

// ---- the tree walk on POSIX (tree_posix.cc), and its per-OS hooks ----

bool IsDotOrDotDot(const char* name);
tree::Kind KindOfDirent(unsigned char type);
// Appends the entries of the directory open as `dir` ("." and ".." left
// out), kinds where the listing gives them: readdir(3), for any POSIX OS.
// False with errno.
bool ListWithReaddir(int dir, std::vector<tree::Entry>* entries);
// Opens directory `rel` below `root` one component at a time, O_NOFOLLOW:
// never through a symlink. -1 with errno.
int OpenBeneathByComponents(int root, const Path& rel);

// Hooks each POSIX OS implements (tree_linux.cc, tree_darwin.cc):
// listing a directory (as ListWithReaddir does)...
bool ListEntries(int dir, std::vector<tree::Entry>* entries);
// ...opening one beneath a root with no symlink followed on the way...
int OpenBeneath(int root, const Path& rel);
// ...whether what the walk creates in `dir` gets exactly the mode it asks
// for less the umask (then it need not ask back; sets *umask)...
bool ExactModes(int dir, const struct stat& st, mode_t* umask);
// ...and whether a walk into `dest_dir` runs one worker, depth first (else
// one per core, oldest item first).
bool SingleWorker(int dest_dir);

}  // namespace cowcopy

#endif  // COWCOPY_POSIX_H_
