// The single-file pieces every POSIX platform file shares (copy_linux.cc,
// copy_darwin.cc): CopyOneFile's steps, temporary names, removing what a
// failed copy wrote, the same-file answer, and hard links that replace a
// destination atomically. What differs per OS is behind posix.h's hooks.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__APPLE__) && !__has_include(<sys/xattr.h>)
// The macOS cross build's headers (zig's) lack it; Apple's SDK has these.
extern "C" {
ssize_t flistxattr(int fd, char* names, size_t size, int options);
ssize_t fgetxattr(int fd, const char* name, void* value, size_t size, uint32_t position, int options);
int fsetxattr(int fd, const char* name, const void* value, size_t size, uint32_t position, int options);
}
#else
#include <sys/xattr.h>
#endif

#include <map>
#include <mutex>
#include <vector>

#include "posix.h"
#include "thread.h"

namespace cowcopy {

int NodeErrorCode(int os_error) { return -os_error; }

struct Thread::Impl {
  pthread_t id;
  std::function<void()> fn;
};

int Thread::Start(std::function<void()> fn) {
  Join();
  auto impl = std::make_unique<Impl>();
  impl->fn = std::move(fn);
  int err = pthread_create(
      &impl->id, nullptr,
      [](void* arg) -> void* {
        static_cast<Impl*>(arg)->fn();
        return nullptr;
      },
      impl.get());
  if (err == 0) impl_ = std::move(impl);
  return err;
}

void Thread::Join() {
  if (impl_ == nullptr) return;
  pthread_join(impl_->id, nullptr);
  impl_.reset();
}

Path DirName(const Path& path) {
  size_t slash = path.find_last_of('/');
  if (slash == Path::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

namespace {

// ProbeVolume's work in directory `dir`: a scratch file of one block, named
// so that a hard link to it can be tried, for the platform to clone and copy.
Status ProbeDirectory(const Path& dir, VolumeInfo* probed) {
  const Path name = TempIn(dir, "probe");
  UniqueFd scratch(OpenNoIntr(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600));
  // Read-only or not ours: nothing can be cloned into it by this process.
  if (scratch.get() < 0) return ProbeCopies(dir, -1, 0, probed);
  probed->writable = true;
  char block[4096];
  for (size_t i = 0; i < sizeof block; i++) block[i] = static_cast<char>(i * 31);
  Status status;
  if (pwrite(scratch.get(), block, sizeof block, 0) != static_cast<ssize_t>(sizeof block)) {
    status = Fail("write", errno ? errno : EIO);
  } else {
    const Path linked = name + "-link";
    probed->hardlink = link(name.c_str(), linked.c_str()) == 0;
    if (probed->hardlink) unlink(linked.c_str());
    status = ProbeCopies(dir, scratch.get(), sizeof block, probed);
  }
  unlink(name.c_str());
  return status;
}

}  // namespace

// Cached per directory (its stat), not per device: whether this process may
// write there is a property of the directory.
Status ProbeVolume(const Path& path, VolumeInfo* info) {
  // Never destroyed: no exit-order race.
  static auto* mu = new std::mutex();
  static auto* cache = new std::map<std::pair<dev_t, ino_t>, VolumeInfo>();
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Fail("stat", errno);
  Path dir = path;
  if (!S_ISDIR(st.st_mode)) {
    dir = DirName(path);
    if (stat(dir.c_str(), &st) != 0) return Fail("stat", errno);
  }
  {
    std::lock_guard<std::mutex> lock(*mu);
    auto it = cache->find({st.st_dev, st.st_ino});
    if (it != cache->end()) {
      *info = it->second;
      return Status();
    }
  }
  VolumeInfo probed;
  Status status = ProbeDirectory(dir, &probed);
  if (!status.ok()) return status;
  // Read-only or not ours: not cached, permissions change.
  if (probed.writable) {
    std::lock_guard<std::mutex> lock(*mu);
    (*cache)[{st.st_dev, st.st_ino}] = probed;
  }
  *info = probed;
  return Status();
}

Path TempIn(const Path& dir, const char* tag) { return dir + "/" + TempName(tag); }

uint64_t ProcessId() { return static_cast<uint64_t>(getpid()); }

// Only pids a pid_t holds: kill() takes a negative one as a process group.
bool ProcessEnded(uint64_t pid) { return pid <= INT_MAX && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

namespace {

// Removes what a failed copy wrote at dest, and only that: the name must
// still point at the inode written (`ours`); dfd (or -1) finds it by its real
// name when it was created through a dangling symlink.
void RemoveWritten(const Path& dest, const struct stat& ours, int dfd) {
  struct stat named;
  if (lstat(dest.c_str(), &named) == 0 && SameInode(ours, named)) {
    unlink(dest.c_str());
    return;
  }
  if (dfd < 0) return;
  Path real = PathOfFd(dfd);
  if (!real.empty() && lstat(real.c_str(), &named) == 0 && SameInode(ours, named)) unlink(real.c_str());
}

Status SameFile(const CopyOptions& opts, const struct stat& sst, CopyResult* result) {
  if (!opts.same_file_ok) return Status{-EINVAL, "copyfile", true};
  result->strategy = Strategy::kNone;
  result->bytes = static_cast<uint64_t>(sst.st_size);
  return Status();
}

// Makes dest's replacement beside it with `make` (under a temporary name,
// another while one is taken), then renames it over dest: either the old dest
// or the new entry is there at every moment.
Status RenameOver(const Path& dest, const char* tag, const std::function<Status(const Path& temp)>& make) {
  Path temp;
  Status status = Fail("open", EEXIST);
  for (int attempt = 0; attempt < 16 && status.code == -EEXIST; attempt++) {
    temp = TempIn(DirName(dest), tag);
    status = make(temp);
  }
  if (!status.ok()) return status;
  if (rename(temp.c_str(), dest.c_str()) == 0) return Status();
  int err = errno;
  unlink(temp.c_str());
  return Fail("rename", err);
}

// A hard link to the file open as sfd; an existing dest is replaced by rename.
Status HardlinkFile(int sfd, const Path& src, const Path& dest, const struct stat& sst,
                    const CopyOptions& opts, CopyResult* result) {
  struct stat dst;
  bool exists = stat(dest.c_str(), &dst) == 0;
  if (!exists && errno != ENOENT) return Fail("stat", errno);
  if (exists && SameInode(sst, dst)) return SameFile(opts, sst, result);
  if (exists && !opts.overwrite) return Fail("link", EEXIST);
  int err = exists ? EEXIST : LinkOpened(sfd, src, dest, sst);
  if (err != 0) {
    if (err != EEXIST || !opts.overwrite) return Fail("link", err);
    Status replaced = RenameOver(dest, "link", [&](const Path& temp) {
      int e = LinkOpened(sfd, src, temp, sst);
      return e == 0 ? Status() : Fail("link", e);
    });
    if (!replaced.ok()) return replaced;
  }
  result->strategy = Strategy::kHardlink;
  result->bytes = static_cast<uint64_t>(sst.st_size);
  return Status();
}

// fs.cp: an existing dest is replaced by a new file made beside it and
// renamed over it once complete. The entry is replaced whatever it is, never
// opened or followed (a symlink, a FIFO, a read-only file).
Status ReplaceByRename(int sfd, const struct stat& sst, const Path& dest, const CopyOptions& opts,
                       CopyResult* result) {
  struct stat dst;
  if (lstat(dest.c_str(), &dst) != 0) return Fail("lstat", errno);
  if (SameInode(sst, dst)) return SameFile(opts, sst, result);
  if (S_ISDIR(dst.st_mode)) return Fail("open", EISDIR);
  return RenameOver(dest, "new", [&](const Path& temp) {
    return CopyIntoNew(sfd, sst, AT_FDCWD, temp.c_str(), opts, result);
  });
}

}  // namespace

namespace {

// The xattr calls on open files, macOS's with their position and options,
// and the error for a name that is not there.
#if defined(__APPLE__)
constexpr int kNoAttr = ENOATTR;
ssize_t ListXattrs(int fd, char* names, size_t size) { return flistxattr(fd, names, size, 0); }
ssize_t GetXattr(int fd, const char* name, void* value, size_t size) { return fgetxattr(fd, name, value, size, 0, 0); }
int SetXattr(int fd, const char* name, const void* value, size_t size) { return fsetxattr(fd, name, value, size, 0, 0); }
#else
constexpr int kNoAttr = ENODATA;
ssize_t ListXattrs(int fd, char* names, size_t size) { return flistxattr(fd, names, size); }
ssize_t GetXattr(int fd, const char* name, void* value, size_t size) { return fgetxattr(fd, name, value, size); }
int SetXattr(int fd, const char* name, const void* value, size_t size) { return fsetxattr(fd, name, value, size, 0); }
#endif

// One xattr call's answer into *buf, asking for the size first and again
// while it grows meanwhile (ERANGE): its length, or -1 with errno.
ssize_t ReadGrowing(std::vector<char>* buf, const std::function<ssize_t(char*, size_t)>& call) {
  for (;;) {
    ssize_t n = call(nullptr, 0);
    if (n <= 0) return n;
    buf->resize(static_cast<size_t>(n));
    n = call(buf->data(), buf->size());
    if (n >= 0 || errno != ERANGE) return n;
  }
}

bool NotSupported(int err) { return err == ENOTSUP || err == EOPNOTSUPP; }

}  // namespace

bool HasXattrs(int fd) {
  const ssize_t n = ListXattrs(fd, nullptr, 0);
  return n != 0 && !(n < 0 && NotSupported(errno));
}

Status CopyXattrs(int sfd, int dfd) {
  std::vector<char> names, value;
  const ssize_t listed = ReadGrowing(&names, [sfd](char* b, size_t n) { return ListXattrs(sfd, b, n); });
  if (listed < 0) return NotSupported(errno) ? Status() : Fail("flistxattr", errno);
  for (size_t at = 0; at < static_cast<size_t>(listed); at += strlen(&names[at]) + 1) {
    const char* name = &names[at];
    // The security context is the destination's own (cp --preserve=context).
    if (strcmp(name, "security.selinux") == 0) continue;
    const ssize_t size = ReadGrowing(&value, [sfd, name](char* b, size_t n) { return GetXattr(sfd, name, b, n); });
    if (size < 0) {
      if (errno == kNoAttr) continue;  // removed since it was listed
      return Fail("fgetxattr", errno);
    }
    if (SetXattr(dfd, name, value.data(), static_cast<size_t>(size)) == 0) continue;
    const bool privileged = strncmp(name, "security.", 9) == 0 || strncmp(name, "trusted.", 8) == 0;
    if (errno == EPERM && privileged && geteuid() != 0) continue;
    return Fail("fsetxattr", errno);
  }
  return Status();
}

Status MakeSpecialFile(const Path& src, const Path& dest, bool follow, unsigned preserve) {
  struct stat st;
  if ((follow ? stat(src.c_str(), &st) : lstat(src.c_str(), &st)) != 0) return Fail(follow ? "stat" : "lstat", errno);
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) return Fail("mknod", EINVAL);
  const int err = MakeNode(AT_FDCWD, dest.c_str(), st.st_mode, st.st_rdev);
  if (err != 0) return Fail("mknod", err);
  const char* at = dest.c_str();
  Status s;
  if (fchmodat(AT_FDCWD, at, st.st_mode & 07777, 0) != 0) s = Fail("chmod", errno);
  if (s.ok() && (preserve & kOwnership) != 0)
    s = KeepOwner("lchown", [at](uid_t u, gid_t g) { return fchownat(AT_FDCWD, at, u, g, AT_SYMLINK_NOFOLLOW); },
                  st.st_uid, st.st_gid);
  struct timespec times[2];
  StatTimes(st, times);
  if (s.ok() && (preserve & kTimestamps) != 0 && utimensat(AT_FDCWD, at, times, AT_SYMLINK_NOFOLLOW) != 0)
    s = Fail("utime", errno);
  if (!s.ok()) unlink(at);  // made just now by mknod, which follows no link
  return s;
}

Status KeepOwner(const char* syscall, const std::function<int(uid_t, gid_t)>& chown, uid_t uid, gid_t gid) {
  if (chown(uid, gid) == 0) return Status();
  const int err = errno;
  if (geteuid() == 0 || (err != EPERM && err != EINVAL)) return Fail(syscall, err);
  chown(static_cast<uid_t>(-1), gid);  // a group this user is in; refused: the one it was made with
  return Status();
}

Status FinishMetadata(int sfd, int dfd, const struct stat& sst, const CopyOptions& opts) {
  // The owner before the xattrs: a chown drops security.capability.
  Status s;
  if (opts.preserve_ownership &&
      !(s = KeepOwner("fchown", [dfd](uid_t u, gid_t g) { return fchown(dfd, u, g); }, sst.st_uid, sst.st_gid)).ok())
    return s;
  const mode_t mode = sst.st_mode & 07777;
  // Only a writer may set user xattrs: a read-only copy is writable for them (as GNU cp does).
  const bool lend_write = opts.preserve_xattr && (mode & S_IWUSR) == 0 && geteuid() != 0;
  if (lend_write && fchmod(dfd, mode | S_IWUSR) != 0) return Fail("fchmod", errno);
  if (opts.preserve_xattr && !(s = CopyXattrs(sfd, dfd)).ok()) return s;
  // Writing as non-root, or a chown, clears setuid/setgid: set them again at the end.
  if ((lend_write || (mode & (S_ISUID | S_ISGID)) != 0) && fchmod(dfd, mode) != 0) return Fail("fchmod", errno);
  if (opts.preserve_timestamps) {
    struct timespec times[2];
    StatTimes(sst, times);
    if (futimens(dfd, times) != 0) return Fail("futimens", errno);
  }
  return Status();
}

Status CopyOneFile(const Path& src, const Path& dest, const CopyOptions& opts, CopyResult* result) {
  UniqueFd sfd;
  struct stat sst;
  Status status = OpenSource(AT_FDCWD, src.c_str(), true, &sfd, &sst);
  if (!status.ok()) return status;
  if (opts.request == Request::kHardlink) return HardlinkFile(sfd.get(), src, dest, sst, opts, result);

  // The common case: a new file (cloned or copied straight to its name).
  status = CopyIntoNew(sfd.get(), sst, AT_FDCWD, dest.c_str(), opts, result);
  if (status.code != -EEXIST || !opts.overwrite) return status;

  // It exists. fs.cp replaces the entry itself (never opened or followed);
  // fs.copyFile writes into it (through a symlink). Either way only after
  // checking it is not the source itself.
  if (opts.replace) return ReplaceByRename(sfd.get(), sst, dest, opts, result);
  const mode_t mode = sst.st_mode & 07777;
  bool created = false;  // we made the inode dest now leads to
  UniqueFd dfd(OpenNoIntr(dest.c_str(), O_WRONLY));
  if (dfd.get() < 0 && errno == ENOENT) {
    // A dangling symlink: create its target, as fs.copyFile does.
    dfd.Reset(OpenNoIntr(dest.c_str(), O_WRONLY | O_CREAT, mode));
    created = true;
  }
  if (dfd.get() < 0) return Fail("open", errno);
  struct stat dst;
  if (fstat(dfd.get(), &dst) != 0) {
    int err = errno;
    Path real = created ? PathOfFd(dfd.get()) : Path();
    if (!real.empty()) unlink(real.c_str());
    return Fail("fstat", err);
  }
  if (!created && SameInode(sst, dst)) return SameFile(opts, sst, result);

  bool touched = false;
  status = WriteInto(sfd.get(), sst, dest, &dfd, dst, created, &touched, opts, result);
  if (status.ok()) {
    int err = dfd.Close();
    if (err == 0) return status;
    RemoveWritten(dest, dst, -1);
    return Fail("close", err);
  }
  // On failure a dest we did not change stays as it was.
  if (created || touched) {
    RemoveWritten(dest, dst, dfd.get());
  } else if ((dst.st_mode & 07777) != mode) {
    fchmod(dfd.get(), dst.st_mode & 07777);  // left untouched: its mode too
  }
  return status;
}

Status CopyByExtents(int sfd, int dfd, const struct stat& sst, const RangeCopy& range) {
  off_t end;
  // Fewer allocated blocks than bytes: there are holes (or compression);
  // walking SEEK_DATA costs calls, so only then.
  if (static_cast<off_t>(sst.st_blocks) * 512 >= sst.st_size) return range(0, sst.st_size > 0 ? sst.st_size : -1, &end);
  for (off_t pos = 0;;) {
    off_t data = lseek(sfd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // no data after pos
      if (errno == EINVAL || errno == EOPNOTSUPP || errno == ENOTSUP) return range(pos, -1, &end);  // no SEEK_DATA here
      return Fail("lseek", errno);
    }
    off_t hole = lseek(sfd, data, SEEK_HOLE);
    if (hole < 0) return Fail("lseek", errno);
    Status s = range(data, hole - data, &end);
    if (!s.ok()) return s;
    if (end < hole) {
      // The data ended before its hole: the file shrank meanwhile, or it
      // was never that long (a sysfs attribute says 4096 bytes and has 23,
      // in no blocks). It ends where reading did.
      return ftruncate(dfd, end) == 0 ? Status() : Fail("ftruncate", errno);
    }
    pos = hole;
  }
  struct stat now;
  if (fstat(sfd, &now) != 0) return Fail("fstat", errno);
  return ftruncate(dfd, now.st_size) == 0 ? Status() : Fail("ftruncate", errno);
}

ssize_t ReadWriteAt(int sfd, int dfd, off_t pos, char* buffer, size_t want, const char** syscall) {
  ssize_t n;
  do {
    n = pread(sfd, buffer, want, pos);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    *syscall = "read";
    return -errno;
  }
  for (ssize_t done = 0; done < n;) {
    ssize_t w = pwrite(dfd, buffer + done, static_cast<size_t>(n - done), pos + done);
    if (w < 0) {
      if (errno == EINTR) continue;
      *syscall = "write";
      return -errno;
    }
    done += w;
  }
  return n;
}

}  // namespace cowcopy
