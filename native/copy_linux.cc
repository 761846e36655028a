// Linux: FICLONE -> copy_file_range -> sendfile -> read/write, keeping holes.
//
// libuv's uv__fs_copyfile is the floor: same-file check before anything is
// truncated, the destination removed when a copy fails. On top of it: a
// pre-existing destination that was never touched is never removed, "cannot"
// answers are remembered per pair of devices, sparse files stay sparse, a file
// that grows or shrinks while it is copied is copied up to its end.
#include "copy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "posix.h"

#ifndef FICLONE
#define FICLONE _IOW(0x94, 9, int)
#endif

namespace cowcopy {
namespace {

constexpr size_t kKernelChunk = 1 << 30;  // per copy_file_range/sendfile call
constexpr size_t kCancellableChunk = 64 << 20;  // when an abort is looked for between calls
constexpr size_t kBufferSize = 256 * 1024;

// Through syscall(): the glibc wrapper only exists from 2.27, and the
// prebuilt binaries are linked against an older glibc. ENOSYS on kernels
// before 4.5, which the chain treats as "use the next method".
ssize_t CopyFileRange(int in_fd, loff_t* in_off, int out_fd, loff_t* out_off, size_t len) {
  return syscall(SYS_copy_file_range, in_fd, in_off, out_fd, out_off, len, 0u);
}

// FICLONE errors that mean "not here", not "failed": CloneNeverWorks's, and
// EINVAL, EPERM that are about this one file.
bool CloneUnsupported(int err) { return CloneNeverWorks(err) || err == EINVAL || err == EPERM; }
// copy_file_range / sendfile errors that mean "use the next method".
bool KernelCopyUnsupported(int err) {
  return err == EXDEV || err == EOPNOTSUPP || err == EINVAL ||
         err == ENOSYS || err == EPERM || err == EBADF || err == ETXTBSY;
}

// Copies bytes between two open regular files with the best method left.
class Copier {
 public:
  enum Level { kCopyRange = 0, kSendfile = 1, kReadWrite = 2 };

  Copier(int sfd, int dfd, dev_t sdev, dev_t ddev, const CopyOptions& opts)
      : sfd_(sfd), dfd_(dfd), sdev_(sdev), ddev_(ddev), cancel_(opts.cancel) {
    if (opts.no_kernel_copy) {
      level_ = kReadWrite;
    } else if (opts.request == Request::kCopy || Cannot::Known(sdev, ddev, Cannot::kCopyRange)) {
      // copy_file_range may reflink on xfs/btrfs; a forced copy must not.
      level_ = kSendfile;
    }
    if (level_ == kSendfile && Cannot::Known(sdev, ddev, Cannot::kSendfile))
      level_ = kReadWrite;
  }

  // Copies the whole file, skipping holes when it has any.
  Status CopyAll(const struct stat& sst) {
    return CopyByExtents(sfd_, dfd_, sst, [this](off_t start, off_t length, off_t* end) {
      return CopyRange(start, length, end);
    });
  }

  Strategy strategy() const {
    return used_ == kReadWrite ? Strategy::kUserspace : Strategy::kKernel;
  }

 private:
  // Copies [start, start + length), or to the end of the file when length is
  // negative. The destination offset equals the source offset, so holes
  // skipped by the caller stay holes.
  Status CopyRange(off_t start, off_t length, off_t* end) {
    off_t pos = start;
    uint64_t remaining = length < 0 ? UINT64_MAX : static_cast<uint64_t>(length);
    const size_t chunk = cancel_ != nullptr ? kCancellableChunk : kKernelChunk;
    while (remaining > 0) {
      if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) return Fail("copyfile", ECANCELED);
      size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, chunk));
      ssize_t n;
      if (level_ != kReadWrite) {
        const bool range = level_ == kCopyRange;
        if (!range && out_pos_ != pos) {
          if (lseek(dfd_, pos, SEEK_SET) < 0) return Fail("lseek", errno);
          out_pos_ = pos;
        }
        loff_t in = pos, out = pos;
        n = range ? CopyFileRange(sfd_, &in, dfd_, &out, want) : sendfile(dfd_, sfd_, &in, want);
        if (n < 0) {
          int err = errno;
          if (err == EINTR) continue;
          if (!KernelCopyUnsupported(err)) return Fail(range ? "copy_file_range" : "sendfile", err);
          if (err == ENOSYS || err == EOPNOTSUPP || (range && err == EXDEV))
            Cannot::Remember(sdev_, ddev_, range ? Cannot::kCopyRange : Cannot::kSendfile);
          level_ = range ? kSendfile : kReadWrite;
          continue;
        }
        // Some files (procfs, sysfs) report 0 from copy_file_range or
        // sendfile although they have data: let read() decide.
        if (n == 0 && pos == 0 && !ReadSaysEof(pos)) {
          level_ = kReadWrite;
          continue;
        }
        if (!range) out_pos_ += n;
      } else {
        n = ReadWrite(pos, std::min(want, kBufferSize));
        if (n < 0) return Fail(rw_syscall_, static_cast<int>(-n));
      }
      if (n == 0) break;  // end of file
      used_ = std::max(used_, level_);
      pos += n;
      remaining -= static_cast<uint64_t>(n);
    }
    used_ = std::max(used_, level_);
    *end = pos;
    return Status();
  }

  bool ReadSaysEof(off_t pos) {
    char byte;
    ssize_t n;
    do {
      n = pread(sfd_, &byte, 1, pos);
    } while (n < 0 && errno == EINTR);
    return n == 0;
  }

  // One buffer's worth; returns bytes copied, 0 at EOF, or -errno.
  ssize_t ReadWrite(off_t pos, size_t want) {
    if (!buffer_) buffer_.reset(new char[kBufferSize]);
    return ReadWriteAt(sfd_, dfd_, pos, buffer_.get(), want, &rw_syscall_);
  }

  int sfd_, dfd_;
  dev_t sdev_, ddev_;
  const std::atomic<bool>* cancel_;
  Level level_ = kCopyRange;
  Level used_ = kCopyRange;
  off_t out_pos_ = 0;
  const char* rw_syscall_ = "read";
  std::unique_ptr<char[]> buffer_;
};

}  // namespace

const char* const kPlatform = "linux";

// posix.h's hook, and CopyIntoNew's copy: the data, mode and timestamps of an
// open source into an open destination (`created`: its old data need not be kept).
Status WriteInto(int sfd, const struct stat& sst, const Path&, UniqueFd* fd, const struct stat& dst, bool created,
                 bool* touched, const CopyOptions& opts, CopyResult* result) {
  const int dfd = fd->get();
  const mode_t mode = sst.st_mode & 07777;
  // The mode first, as libuv does: if that is refused, nothing was touched.
  // A file just created with it usually has it already (umask permitting).
  if ((dst.st_mode & 07777) != mode && fchmod(dfd, mode) != 0) return Fail("fchmod", errno);

  result->strategy = Strategy::kNone;
  bool try_clone = opts.request == Request::kReflink ||
                   (opts.request == Request::kAuto &&
                    !Cannot::Known(sst.st_dev, dst.st_dev, Cannot::kClone));
  if (try_clone) {
    // Into an existing dest first as it is: when the filesystem cannot clone
    // (EXDEV, EOPNOTSUPP) it says so before touching anything.
    int err = ioctl(dfd, FICLONE, sfd) == 0 ? 0 : errno;
    if (err == EINVAL && !created && dst.st_size > sst.st_size) {
      // The source's unaligned last block cannot land inside dest: empty it
      // and clone again (it was to be replaced anyway).
      *touched = true;
      if (ftruncate(dfd, 0) != 0) return Fail("ftruncate", errno);
      err = ioctl(dfd, FICLONE, sfd) == 0 ? 0 : errno;
    }
    if (err == 0) {
      *touched = true;
      if (!created && dst.st_size > sst.st_size && ftruncate(dfd, sst.st_size) != 0)
        return Fail("ftruncate", errno);
      result->strategy = Strategy::kReflink;
      result->bytes = static_cast<uint64_t>(sst.st_size);
    } else {
      if (opts.request == Request::kReflink) return Fail("ioctl", ForcedCloneError(err));
      if (!CloneUnsupported(err)) return Fail("ioctl", err);
      if (CloneNeverWorks(err)) Cannot::Remember(sst.st_dev, dst.st_dev, Cannot::kClone);
    }
  }

  if (result->strategy == Strategy::kNone) {
    if (!created) {
      *touched = true;
      if (ftruncate(dfd, 0) != 0) return Fail("ftruncate", errno);
    }
    Copier copier(sfd, dfd, sst.st_dev, dst.st_dev, opts);
    Status status = copier.CopyAll(sst);
    if (!status.ok()) return status;
    struct stat now;
    if (fstat(dfd, &now) != 0) return Fail("fstat", errno);
    result->strategy = copier.strategy();
    result->bytes = static_cast<uint64_t>(now.st_size);
  }

  return FinishMetadata(sfd, dfd, sst, opts);
}

Status CopyIntoNew(int sfd, const struct stat& sst, int dest_dir, const char* name,
                   const CopyOptions& opts, CopyResult* result, const NewFileHint* hint) {
  const mode_t mode = sst.st_mode & 07777;
  UniqueFd dfd(OpenAtNoIntr(dest_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode));
  if (dfd.get() < 0) return Fail("open", errno);
  struct stat dst = {};
  bool touched = false;
  Status status;
  // setuid/setgid may be dropped by open() depending on who we are: ask.
  if (hint != nullptr && (mode & 07000) == 0) {
    dst.st_dev = hint->dev;
    dst.st_mode = S_IFREG | (mode & ~hint->umask);
  } else if (fstat(dfd.get(), &dst) != 0) {
    status = Fail("fstat", errno);
  }
  if (status.ok()) status = WriteInto(sfd, sst, Path(), &dfd, dst, true, &touched, opts, result);
  if (status.ok()) {
    int err = dfd.Close();
    if (err == 0) return status;
    status = Fail("close", err);
  }
  // We made it with O_EXCL and never followed a link: the name is ours.
  unlinkat(dest_dir, name, 0);
  return status;
}

Path PathOfFd(int fd) {
  char proc[64];
  char target[PATH_MAX];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(proc, target, sizeof target - 1);
  return n > 0 ? Path(target, static_cast<size_t>(n)) : Path();
}

int LinkOpened(int sfd, const Path& src, const Path& name, const struct stat&) {
  // linkat() of the open file itself, through /proc.
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", sfd);
  if (linkat(AT_FDCWD, proc, AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0) return 0;
  if (errno != ENOENT) return errno;
  // No /proc: link by name.
  return linkat(AT_FDCWD, src.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
}

Status CloneDirectory(const Path&, const Path&) {
  return Fail("clonefile", EOPNOTSUPP);  // no directory clone on Linux
}

int MakeNode(int dir, const char* name, mode_t mode, dev_t rdev) {
  return mknodat(dir, name, mode, rdev) == 0 ? 0 : errno;
}

bool SharesAllData(int sfd, int dfd) {
  if (flistxattr(dfd, nullptr, 0) != 0) return false;
  constexpr unsigned kBatch = 32;
  constexpr uint32_t kUnsettled = FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED |
                                  FIEMAP_EXTENT_DATA_ENCRYPTED | FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_UNWRITTEN;
  // Data kept in the metadata (btrfs's small files) is never shared: the
  // same bytes at the same place are what a clone would give.
  auto same_inline = [&](const struct fiemap_extent& a) {
    char x[4096], y[4096];
    if (a.fe_length > sizeof x) return false;
    const ssize_t n = pread(sfd, x, a.fe_length, static_cast<off_t>(a.fe_logical));
    return n >= 0 && pread(dfd, y, a.fe_length, static_cast<off_t>(a.fe_logical)) == n &&
           memcmp(x, y, static_cast<size_t>(n)) == 0;
  };
  alignas(struct fiemap) unsigned char raw[2][sizeof(struct fiemap) + kBatch * sizeof(struct fiemap_extent)];
  struct fiemap* maps[2] = {reinterpret_cast<struct fiemap*>(raw[0]), reinterpret_cast<struct fiemap*>(raw[1])};
  for (uint64_t start = 0;;) {
    for (int i = 0; i < 2; i++) {
      memset(raw[i], 0, sizeof raw[i]);
      maps[i]->fm_start = start;
      maps[i]->fm_length = FIEMAP_MAX_OFFSET - start;
      maps[i]->fm_flags = FIEMAP_FLAG_SYNC;
      maps[i]->fm_extent_count = kBatch;
      if (ioctl(i == 0 ? sfd : dfd, FS_IOC_FIEMAP, maps[i]) != 0) return false;
    }
    const unsigned n = maps[0]->fm_mapped_extents;
    if (n != maps[1]->fm_mapped_extents) return false;
    if (n == 0) return true;  // no data at all, or none past `start`
    for (unsigned k = 0; k < n; k++) {
      const struct fiemap_extent& a = maps[0]->fm_extents[k];
      const struct fiemap_extent& b = maps[1]->fm_extents[k];
      if (a.fe_logical != b.fe_logical || a.fe_length != b.fe_length || a.fe_flags != b.fe_flags ||
          (a.fe_flags & kUnsettled) != 0)
        return false;
      const bool shared = (a.fe_flags & FIEMAP_EXTENT_SHARED) != 0 && a.fe_physical == b.fe_physical;
      if (!(a.fe_flags & FIEMAP_EXTENT_DATA_INLINE ? same_inline(a) : shared)) return false;
    }
    const struct fiemap_extent& last = maps[0]->fm_extents[n - 1];
    if (last.fe_flags & FIEMAP_EXTENT_LAST) return true;
    start = last.fe_logical + last.fe_length;
  }
}

namespace {

// An anonymous scratch file in dir (O_TMPFILE), or a named one unlinked at
// once where O_TMPFILE is not supported.
int ScratchFile(const Path& dir) {
  int fd = OpenNoIntr(dir.c_str(), O_TMPFILE | O_RDWR, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
  Path name = TempIn(dir, "probe");
  fd = OpenNoIntr(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) unlink(name.c_str());
  return fd;
}

}  // namespace

Status ProbeCopies(const Path& dir, int scratch, size_t size, VolumeInfo* probed) {
  struct statfs sfs;
  if (statfs(dir.c_str(), &sfs) != 0) return Fail("statfs", errno);
  probed->fs_type = static_cast<uint64_t>(sfs.f_type);
  if (scratch < 0) return Status();
  UniqueFd b(ScratchFile(dir));
  if (b.get() < 0) return Fail("open", errno);
  probed->reflink = ioctl(b.get(), FICLONE, scratch) == 0;
  UniqueFd c(ScratchFile(dir));
  if (c.get() < 0) return Fail("open", errno);
  loff_t in = 0, out = 0;
  probed->kernel_copy = CopyFileRange(scratch, &in, c.get(), &out, size) >= 0;
  return Status();
}

}  // namespace cowcopy
