// macOS: clonefile (fclonefileat) -> fcopyfile, keeping holes.
//
// The contract is copy_linux.cc's: same-file check before anything is
// truncated, a destination we created or changed is removed on failure, a
// pre-existing one left untouched stays as it was (mode included), mode bits
// always, timestamps to the nanosecond when asked, forced requests fail
// rather than do something else, FIFOs refused without blocking.
//
// What differs: clonefile() only creates new files (EEXIST otherwise). A new
// destination is cloned straight to its name; over an existing one the clone
// is made under a temporary name next to it, finished there (owner, mode,
// times), and only then renamed over it: the destination is never removed
// before its replacement exists. See CloneOver for what a replaced
// destination keeps and what it does not.
#include "copy.h"

#include <copyfile.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/attr.h>
#include <sys/clonefile.h>
#include <sys/mount.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "posix.h"

namespace cowcopy {
namespace {

constexpr size_t kBufferSize = 256 * 1024;

// CLONE_NOOWNERCOPY: the clone is owned like a file made by open(2), as
// fs.copyFile's are; only root's clones would otherwise keep the source's
// owner (a non-root caller cannot give files away anyway). CLONE_NOFOLLOW:
// never clone a symlink itself (the source is an open descriptor anyway).
constexpr uint32_t kCloneFlags = CLONE_NOFOLLOW | CLONE_NOOWNERCOPY;

// fclonefileat errors after which a byte copy may still work: the volume
// cannot clone (ENOTSUP; EOPNOTSUPP/ENOSYS/EINVAL from other file systems),
// two volumes (EXDEV), or the temporary name cannot be made where the
// destination itself is writable (EACCES, EPERM: a read-only directory).
bool CloneFallsBack(int err) {
  return (CloneNeverWorks(err) && err != ENOTTY) || err == EINVAL || err == EACCES || err == EPERM;
}

enum class CloneOutcome {
  kCloned,  // dest now names the finished clone
  kCannot,  // not here (the volume, or what dest would lose): a copy may do
  kFailed,  // a real error
};

struct CloneAttempt {
  CloneOutcome outcome = CloneOutcome::kFailed;
  int err = 0;
  const char* syscall = "fclonefileat";
  uint64_t bytes = 0;
};

// Gives a fresh clone (`name` in dir) the source's mode and the requested
// times: clonefile clears setuid/setgid (as does a chown before this), and a
// clone keeps the source's times where a copy gets new ones.
int FinishClone(int dir, const char* name, const struct stat& sst, const CopyOptions& opts,
                const char** syscall) {
  // (A clone has the source's xattrs already.) Owned as the source is
  // already (this user's file): no chown, which may drop some of them.
  struct stat made;
  if (opts.preserve_ownership && fstatat(dir, name, &made, AT_SYMLINK_NOFOLLOW) == 0 &&
      (made.st_uid != sst.st_uid || made.st_gid != sst.st_gid)) {
    Status owned = KeepOwner("fchownat", [dir, name](uid_t u, gid_t g) { return fchownat(dir, name, u, g, AT_SYMLINK_NOFOLLOW); },
                             sst.st_uid, sst.st_gid);
    *syscall = owned.syscall;
    if (!owned.ok()) return -owned.code;
  }
  *syscall = "fchmodat";
  if (fchmodat(dir, name, sst.st_mode & 07777, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  struct timespec times[2];
  if (opts.preserve_timestamps) StatTimes(sst, times);
  *syscall = "utimensat";
  // No times: both now.
  if (utimensat(dir, name, opts.preserve_timestamps ? times : nullptr, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  return 0;
}

// The name fs.copyFile writes to: dest, or the file its symlinks lead to.
// Fails (EAGAIN) when that name no longer holds the inode we opened.
int ResolveTarget(const Path& dest, const struct stat& dst, Path* target, const char** syscall) {
  struct stat named;
  *syscall = "lstat";
  if (lstat(dest.c_str(), &named) != 0) return errno;
  if (SameInode(named, dst)) {
    *target = dest;
    return 0;
  }
  if (!S_ISLNK(named.st_mode)) return EAGAIN;
  char real[MAXPATHLEN];
  *syscall = "realpath";
  if (realpath(dest.c_str(), real) == nullptr) return errno;
  *syscall = "lstat";
  if (lstat(real, &named) != 0) return errno;
  if (!SameInode(named, dst)) return EAGAIN;
  *target = real;
  return 0;
}

// Clones the open source over dest: to a temporary name next to the file dest
// names (through symlinks, as fs.copyFile writes through them), given dest's
// owner and group, the source's mode and the requested times, then renamed
// over it. Until that rename nothing at dest changes.
//
// The renamed file is a new inode: other hard links keep the old content (so
// 'auto' does not clone over a file with several links), and the old file's
// extended attributes, ACL and flags are replaced by the clone's (clonefile
// copies the source's extended attributes; it has no way not to). When the
// owner or group cannot be kept, the clone is abandoned rather than widen
// who may read the data (kCannot, EPERM).
CloneAttempt CloneOver(int sfd, const Path& dest, const struct stat& sst,
                       const struct stat& dst, const CopyOptions& opts) {
  const char* syscall = "fclonefileat";
  Path target;
  int err = ResolveTarget(dest, dst, &target, &syscall);
  if (err != 0) return {err == EAGAIN ? CloneOutcome::kCannot : CloneOutcome::kFailed, err, syscall};
  const Path dir = DirName(target);
  Path temp;
  err = EEXIST;
  for (int i = 0; i < 16 && err == EEXIST; i++) {
    temp = TempIn(dir, "clone");
    err = fclonefileat(sfd, AT_FDCWD, temp.c_str(), kCloneFlags) == 0 ? 0 : errno;
  }
  if (err != 0) return {CloneFallsBack(err) ? CloneOutcome::kCannot : CloneOutcome::kFailed, err, "fclonefileat"};
  auto abandon = [&](const char* failed, int e, CloneOutcome outcome) {
    unlink(temp.c_str());
    return CloneAttempt{outcome, e, failed};
  };
  struct stat made;
  if (lstat(temp.c_str(), &made) != 0) return abandon("lstat", errno, CloneOutcome::kFailed);
  // A new name gets the directory's group; dest may have had another.
  if ((made.st_uid != dst.st_uid || made.st_gid != dst.st_gid) &&
      fchownat(AT_FDCWD, temp.c_str(), dst.st_uid, dst.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
    return abandon("fchownat", errno, CloneOutcome::kCannot);
  err = FinishClone(AT_FDCWD, temp.c_str(), sst, opts, &syscall);
  if (err != 0) return abandon(syscall, err, CloneOutcome::kFailed);
  // Last check that target is still the file we opened, then replace it.
  struct stat named;
  if (lstat(target.c_str(), &named) != 0) return abandon("lstat", errno, CloneOutcome::kFailed);
  if (!SameInode(named, dst)) return abandon("lstat", EAGAIN, CloneOutcome::kCannot);
  if (rename(temp.c_str(), target.c_str()) != 0)
    return abandon("rename", errno, CloneOutcome::kFailed);
  return {CloneOutcome::kCloned, 0, "fclonefileat", static_cast<uint64_t>(made.st_size)};
}

// read()/write() through a buffer, keeping holes: what no_kernel_copy asks
// for, so tests can reach the user-space path.
Status BufferCopy(int sfd, const struct stat& sst, int dfd) {
  std::unique_ptr<char[]> buffer(new char[kBufferSize]);
  return CopyByExtents(sfd, dfd, sst, [&](off_t start, off_t length, off_t* end) {
    off_t pos = start;
    uint64_t remaining = length < 0 ? UINT64_MAX : static_cast<uint64_t>(length);
    while (remaining > 0) {
      const char* syscall = "read";
      ssize_t n = ReadWriteAt(sfd, dfd, pos, buffer.get(), static_cast<size_t>(std::min<uint64_t>(remaining, kBufferSize)),
                              &syscall);
      if (n < 0) return Fail(syscall, static_cast<int>(-n));
      if (n == 0) break;
      pos += n;
      remaining -= static_cast<uint64_t>(n);
    }
    *end = pos;
    return Status();
  });
}

// The data of an open source into an open dest that is new or was cut to
// nothing, then setuid/setgid again and the times when asked.
Status CopyData(int sfd, const struct stat& sst, int dfd, const CopyOptions& opts,
                CopyResult* result) {
  Status status;
  if (opts.no_kernel_copy) {
    status = BufferCopy(sfd, sst, dfd);
    result->strategy = Strategy::kUserspace;
  } else {
    // fcopyfile with COPYFILE_DATA only. The contract copies the bytes and
    // sets mode and times itself: COPYFILE_STAT would copy times and file
    // flags (an immutable source would make dest unwritable),
    // COPYFILE_XATTR/ACL metadata fs.copyFile does not copy. fcopyfile never
    // clones (COPYFILE_CLONE only applies to copyfile(), and is not passed),
    // so a forced copy gets blocks of its own. COPYFILE_DATA_SPARSE keeps
    // holes; with COPYFILE_DATA it falls back to a full copy when the source
    // has none or the volume cannot.
    status = fcopyfile(sfd, dfd, nullptr, COPYFILE_DATA | COPYFILE_DATA_SPARSE) < 0
                 ? Fail("fcopyfile", errno != 0 ? errno : EIO)
                 : Status();
    result->strategy = Strategy::kKernel;
  }
  if (!status.ok()) return status;
  struct stat now;
  if (fstat(dfd, &now) != 0) return Fail("fstat", errno);
  result->bytes = static_cast<uint64_t>(now.st_size);
  return FinishMetadata(sfd, dfd, sst, opts);
}

}  // namespace

const char* const kPlatform = "darwin";

// The old content is gone: cloned over (a new inode), or written into.
Status WriteInto(int sfd, const struct stat& sst, const Path& dest, UniqueFd* dfd, const struct stat& dst,
                 bool created, bool* touched, const CopyOptions& opts, CopyResult* result) {
  // The mode first, as libuv does: if that is refused (not our file),
  // nothing was touched, and no clone replaces a file we could not chmod.
  if (fchmod(dfd->get(), sst.st_mode & 07777) != 0) return Fail("fchmod", errno);

  bool try_clone = opts.request == Request::kReflink ||
                   (opts.request == Request::kAuto && !Cannot::Known(sst.st_dev, dst.st_dev, Cannot::kClone) &&
                    // Other names of dest would keep the old data: write into it.
                    (created || dst.st_nlink <= 1));
  if (try_clone) {
    CloneAttempt clone = CloneOver(sfd, dest, sst, dst, opts);
    if (clone.outcome == CloneOutcome::kCloned) {
      dfd->Reset();  // the replaced inode: nothing was written through it
      result->strategy = Strategy::kReflink;
      result->bytes = clone.bytes;
      return Status();
    }
    if (opts.request == Request::kReflink)
      return Fail(clone.syscall, clone.outcome == CloneOutcome::kCannot ? ForcedCloneError(clone.err) : clone.err);
    if (clone.outcome == CloneOutcome::kFailed) return Fail(clone.syscall, clone.err);
    if (strcmp(clone.syscall, "fclonefileat") == 0 && CloneNeverWorks(clone.err))
      Cannot::Remember(sst.st_dev, dst.st_dev, Cannot::kClone);
  }

  if (!created) {
    *touched = true;
    if (ftruncate(dfd->get(), 0) != 0) return Fail("ftruncate", errno);
  }
  return CopyData(sfd, sst, dfd->get(), opts, result);
}

Path PathOfFd(int fd) {
  char buf[MAXPATHLEN];
  if (fcntl(fd, F_GETPATH, buf) != 0) return Path();
  return Path(buf);
}

// macOS cannot link an open descriptor: link by name, then check the link is
// the inode opened (a source swapped meanwhile is caught, its link removed).
int LinkOpened(int, const Path& src, const Path& name, const struct stat& sst) {
  if (linkat(AT_FDCWD, src.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) != 0) return errno;
  struct stat linked;
  if (lstat(name.c_str(), &linked) == 0 && SameInode(linked, sst)) return 0;
  unlink(name.c_str());
  return EAGAIN;  // src names another file than the one opened
}

Status CopyIntoNew(int sfd, const struct stat& sst, int dest_dir, const char* name,
                   const CopyOptions& opts, CopyResult* result, const NewFileHint*) {
  // No "cannot clone" cache here: without dest's device to key it, a failed
  // fclonefileat costs about what the stat to find that device would.
  if (opts.request != Request::kCopy) {
    if (fclonefileat(sfd, dest_dir, name, kCloneFlags) == 0) {
      struct stat made;
      const char* syscall = "fstatat";
      int err = fstatat(dest_dir, name, &made, AT_SYMLINK_NOFOLLOW) == 0
                    ? FinishClone(dest_dir, name, sst, opts, &syscall)
                    : errno;
      if (err == 0) {
        result->strategy = Strategy::kReflink;
        result->bytes = static_cast<uint64_t>(made.st_size);
        return Status();
      }
      unlinkat(dest_dir, name, 0);  // fclonefileat made it and follows no link: ours
      return Fail(syscall, err);
    }
    int err = errno;
    if (opts.request == Request::kReflink)
      return Fail("fclonefileat", CloneFallsBack(err) ? ForcedCloneError(err) : err);
    if (!CloneFallsBack(err)) return Fail("fclonefileat", err);  // EEXIST among them
  }

  const mode_t mode = sst.st_mode & 07777;
  UniqueFd dfd(OpenAtNoIntr(dest_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode));
  if (dfd.get() < 0) return Fail("open", errno);
  // The exact mode: open() applied the umask.
  Status status = fchmod(dfd.get(), mode) == 0 ? CopyData(sfd, sst, dfd.get(), opts, result)
                                               : Fail("fchmod", errno);
  if (status.ok()) {
    int err = dfd.Close();
    if (err == 0) return status;
    status = Fail("close", err);
  }
  unlinkat(dest_dir, name, 0);  // made with O_EXCL, never through a link: ours
  return status;
}

int MakeNode(int dir, const char* name, mode_t mode, dev_t rdev) {
  // mknodat came with macOS 13: by the directory's path (a directory this
  // walk is filling, owner-only meanwhile).
  char at[MAXPATHLEN];
  if (dir != AT_FDCWD && fcntl(dir, F_GETPATH, at) != 0) return errno;
  const Path path = dir == AT_FDCWD ? Path(name) : Path(at) + "/" + name;
  const int made = S_ISFIFO(mode) ? mkfifo(path.c_str(), mode & 07777) : mknod(path.c_str(), mode, rdev);
  return made == 0 ? 0 : errno;
}

// APFS has no FIEMAP: which blocks two files share is not asked here.
bool SharesAllData(int, int) { return false; }

Status CloneDirectory(const Path& src, const Path& dest) {
  // One call for the whole hierarchy (the caller made sure nothing needs a
  // per-file decision). Apple discourages it for directories in favour of
  // copyfile(3), and it turns setuid/setgid bits off: see docs/design.md.
  if (clonefile(src.c_str(), dest.c_str(), kCloneFlags) == 0) return Status();
  return Fail("clonefile", errno);
}

// APFS clones a whole hierarchy with one clonefile(); it has no subvolumes.
Status InspectTree(const Path& path, TreeVolume* out) {
  struct statfs sfs;
  if (statfs(path.c_str(), &sfs) != 0) return Fail("statfs", errno);
  out->fs_name.assign(sfs.f_fstypename, strnlen(sfs.f_fstypename, sizeof sfs.f_fstypename));
  if (out->fs_name == "apfs") out->whole = "clonefile";
  return Status();
}

// APFS has no read-only clone: read_only is not honoured here (the facade
// reports readOnly false, as it does for the walk) rather than refused,
// which would make a readOnly request walk a volume that clones at once.
Status CloneTree(const Path& src, const Path& dest, bool, TreeVolume* out) {
  Status s = InspectTree(src, out);
  if (!s.ok() || out->whole == nullptr) return s;
  // dest's parent inside src (by their real paths): the clone would hold itself.
  char real_src[PATH_MAX], real_parent[PATH_MAX];
  if (realpath(src.c_str(), real_src) == nullptr) return Fail("realpath", errno);
  if (realpath(DirName(dest).c_str(), real_parent) != nullptr) {
    const size_t n = strlen(real_src);
    if (strncmp(real_parent, real_src, n) == 0 && (real_parent[n] == '\0' || real_parent[n] == '/' || n == 1))
      return Fail("clonefile", EINVAL);
  }
  // Following src (a template may be reached through a symlink), as the
  // statfs above does. Without CLONE_NOOWNERCOPY: a workspace keeps owners
  // as the walk's preserve 'all' and a btrfs snapshot do (only root's
  // clones can; anyone else's are theirs either way). What the walk keeps
  // and this may not: setuid/setgid bits of regular files (clonefile turns
  // them off), and hard links (Apple: "as if each item was cloned
  // individually"). See docs/design.md.
  if (clonefile(src.c_str(), dest.c_str(), 0) == 0) return Status();
  return Fail("clonefile", errno);
}

Status CreateSubvolume(const Path&) { return Fail("subvolume", ENOTSUP); }
Status DestroySubvolume(const Path&) { return Fail("subvolume", ENOTSUP); }
Status SetSubvolumeReadOnly(const Path&, bool) { return Fail("ioctl", ENOTSUP); }
Status ExchangePaths(const Path&, const Path&) { return Fail("rename", ENOTSUP); }

namespace {

// What the volume says about clones: 1 yes, 0 no, -1 it does not say.
int AdvertisesClones(const char* mount_point) {
  struct attrlist request;
  memset(&request, 0, sizeof request);
  request.bitmapcount = ATTR_BIT_MAP_COUNT;
  // ATTR_VOL_INFO must accompany any volume attribute.
  request.volattr = ATTR_VOL_INFO | ATTR_VOL_CAPABILITIES;
  struct {
    uint32_t length;
    vol_capabilities_attr_t caps;
  } __attribute__((aligned(4), packed)) reply;
  // Volume attributes are asked of the mount point (statfs f_mntonname).
  if (getattrlist(mount_point, &request, &reply, sizeof reply, 0) != 0) return -1;
  if (reply.length < sizeof reply) return -1;
  const uint32_t valid = reply.caps.valid[VOL_CAPABILITIES_INTERFACES];
  const uint32_t set = reply.caps.capabilities[VOL_CAPABILITIES_INTERFACES];
  if ((valid & VOL_CAP_INT_CLONE) == 0) return -1;
  return (set & VOL_CAP_INT_CLONE) != 0 ? 1 : 0;
}

}  // namespace

Status ProbeCopies(const Path& dir, int scratch, size_t, VolumeInfo* probed) {
  struct statfs sfs;
  if (statfs(dir.c_str(), &sfs) != 0) return Fail("statfs", errno);
  // fs_type stays 0: f_type numbers are not stable on macOS, the name is.
  probed->fs_name.assign(sfs.f_fstypename, strnlen(sfs.f_fstypename, sizeof sfs.f_fstypename));
  if (scratch < 0) return Status();

  // A "yes" is not enough (network volumes relay the server's answer): try.
  // A volume that says it cannot clone is taken at its word.
  if (AdvertisesClones(sfs.f_mntonname) != 0) {
    const Path b_name = TempIn(dir, "probe");
    probed->reflink = fclonefileat(scratch, AT_FDCWD, b_name.c_str(), kCloneFlags) == 0;
    if (probed->reflink) unlink(b_name.c_str());
  }
  // Scratch files are named (no O_TMPFILE here) and unlinked at once.
  const Path c_name = TempIn(dir, "probe");
  UniqueFd c(OpenNoIntr(c_name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600));
  if (c.get() < 0) return Fail("open", errno);
  unlink(c_name.c_str());
  probed->kernel_copy = fcopyfile(scratch, c.get(), nullptr, COPYFILE_DATA) == 0;
  return Status();
}

}  // namespace cowcopy
