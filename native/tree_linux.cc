// The Linux side of the tree walk (posix.h's hooks): getdents64, openat2,
// which filesystems make entries with exactly the mode asked, and how many
// workers a walk runs where. Measurements behind the choices:
// bench/results/notebook.md.
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "posix.h"

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define COWCOPY_HAVE_OPENAT2 1
#endif

namespace cowcopy {
namespace {

// The filesystem `dir` is on, as statfs's f_type; 0 when unknown.
unsigned long FilesystemType(int dir) {
  struct statfs sfs;
  return fstatfs(dir, &sfs) == 0 ? static_cast<unsigned long>(sfs.f_type) : 0;
}

// The process's umask, without setting it (umask(2) cannot only read).
bool ReadUmask(mode_t* mask) {
  UniqueFd fd(OpenAtNoIntr(AT_FDCWD, "/proc/self/status", O_RDONLY));
  if (fd.get() < 0) return false;
  char buf[4096];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* line = strstr(buf, "\nUmask:");
  if (line == nullptr) return false;
  char* end = nullptr;
  unsigned long value = strtoul(line + 7, &end, 8);
  if (end == line + 7 || value > 0777) return false;
  *mask = static_cast<mode_t>(value);
  return true;
}

}  // namespace

bool ListEntries(int dir, std::vector<tree::Entry>* entries) {
  // getdents64 itself: readdir's stream would first fstat and fcntl the
  // descriptor, three system calls per directory for nothing here.
  struct Dirent64 {  // struct linux_dirent64; the name follows d_type
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
  };
  constexpr size_t kNameAt = sizeof(uint64_t) + sizeof(int64_t) + sizeof(unsigned short) + sizeof(unsigned char);
  alignas(8) static thread_local char buf[32768];
  for (;;) {
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    for (long at = 0; at < n;) {
      const Dirent64* d = reinterpret_cast<const Dirent64*>(buf + at);
      at += d->d_reclen;
      const char* name = reinterpret_cast<const char*>(d) + kNameAt;
      if (!IsDotOrDotDot(name)) entries->push_back({name, KindOfDirent(d->d_type)});
    }
  }
}

int OpenBeneath(int root, const Path& rel) {
  if (rel.empty()) return fcntl(root, F_DUPFD_CLOEXEC, 0);
#ifdef COWCOPY_HAVE_OPENAT2
  struct open_how how = {};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return static_cast<int>(fd);
  // Kernels before 5.6 (or a seccomp filter): walk it by hand.
#endif
  return OpenBeneathByComponents(root, rel);
}

// A filesystem known to keep modes as given, no default ACL (which would
// stand in for the umask), and not setgid (new directories would take that
// bit).
bool ExactModes(int dir, const struct stat& st, mode_t* umask) {
  if ((st.st_mode & S_ISGID) != 0) return false;
  switch (FilesystemType(dir)) {
    case EXT4_SUPER_MAGIC:  // ext2/3/4 share it
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case TMPFS_MAGIC:
      break;
    default:
      return false;
  }
  if (fgetxattr(dir, "system.posix_acl_default", nullptr, 0) >= 0) return false;
  if (errno != ENODATA && errno != EOPNOTSUPP) return false;
  return ReadUmask(umask);
}

// btrfs: creating a file and cloning into it take the locks of the one
// metadata tree; a second thread only waits for them, and one walking newest
// first (depth first) measured faster (bench/results/notebook.md).
bool SingleWorker(int dest_dir) { return FilesystemType(dest_dir) == BTRFS_SUPER_MAGIC; }

}  // namespace cowcopy
