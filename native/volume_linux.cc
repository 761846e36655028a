// Whole trees at once on Linux: btrfs subvolumes and their snapshots (the
// ioctls of linux/btrfs.h, which an unprivileged owner may use since Linux
// 4.18), and renameat2's exchange. No other Linux filesystem clones a tree.
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "posix.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace cowcopy {
namespace {

// A subvolume's root directory has this inode number (BTRFS_FIRST_FREE_OBJECTID).
constexpr ino_t kSubvolumeRootIno = 256;

// `path`'s last component, and its parent opened as a directory.
Status OpenParent(const Path& path, UniqueFd* parent, Path* name) {
  Path trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const size_t slash = trimmed.find_last_of('/');
  *name = slash == Path::npos ? trimmed : trimmed.substr(slash + 1);
  if (name->empty() || *name == "." || *name == ".." || *name == "/") return Fail("open", EINVAL);
  if (name->size() > BTRFS_VOL_NAME_MAX) return Fail("open", ENAMETOOLONG);
  parent->Reset(OpenNoIntr(DirName(trimmed).c_str(), O_RDONLY | O_DIRECTORY));
  return parent->get() < 0 ? Fail("open", errno) : Status();
}

// The subvolumes directly inside the one open as `root` (each holds its own
// below it): their paths relative to root. One the caller may not look up
// (a directory on the way it cannot search) is left out.
void ListNested(int root, std::vector<Path>* nested) {
  struct btrfs_ioctl_get_subvol_rootref_args refs;
  memset(&refs, 0, sizeof refs);
  for (;;) {
    const int ret = ioctl(root, BTRFS_IOC_GET_SUBVOL_ROOTREF, &refs);
    // EOVERFLOW: the buffer is full, more follow from min_treeid on.
    if (ret != 0 && errno != EOVERFLOW) return;
    const bool more = ret != 0;
    for (unsigned i = 0; i < refs.num_items; i++) {
      struct btrfs_ioctl_ino_lookup_user_args look;
      memset(&look, 0, sizeof look);
      look.dirid = refs.rootref[i].dirid;
      look.treeid = refs.rootref[i].treeid;
      if (ioctl(root, BTRFS_IOC_INO_LOOKUP_USER, &look) != 0) continue;
      // path is "" or "dir/sub/", the directory that holds the subvolume.
      nested->push_back(Path(look.path) + look.name);
    }
    if (!more) return;
    refs.num_items = 0;
  }
}

// What InspectTree finds of the directory open as `dir` (stat'ed as *st),
// but the read-only flag.
Status Inspect(int dir, struct stat* st, TreeVolume* out) {
  struct statfs sfs;
  if (fstatfs(dir, &sfs) != 0) return Fail("statfs", errno);
  if (fstat(dir, st) != 0) return Fail("stat", errno);
  out->fs_type = static_cast<uint64_t>(sfs.f_type);
  out->subvolume = out->fs_type == BTRFS_SUPER_MAGIC && st->st_ino == kSubvolumeRootIno;
  if (!out->subvolume) return Status();
  out->whole = "snapshot";
  ListNested(dir, &out->nested);
  return Status();
}

}  // namespace

Status InspectTree(const Path& path, TreeVolume* out) {
  // Never through a symlink: removeTree asks of what it lstat'ed.
  UniqueFd dir(OpenNoIntr(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  if (dir.get() < 0) return Fail("open", errno);
  struct stat st;
  Status s = Inspect(dir.get(), &st, out);
  if (!s.ok() || !out->subvolume) return s;
  uint64_t flags = 0;
  if (ioctl(dir.get(), BTRFS_IOC_SUBVOL_GETFLAGS, &flags) != 0) return Fail("ioctl", errno);
  out->read_only = (flags & BTRFS_SUBVOL_RDONLY) != 0;
  return Status();
}

Status CloneTree(const Path& src, const Path& dest, bool read_only, TreeVolume* out) {
  UniqueFd source(OpenNoIntr(src.c_str(), O_RDONLY | O_DIRECTORY));
  if (source.get() < 0) return Fail("open", errno);
  struct stat st, parent_st;
  Status s = Inspect(source.get(), &st, out);
  if (!s.ok() || out->whole == nullptr) return s;
  UniqueFd parent;
  Path name;
  if (!(s = OpenParent(dest, &parent, &name)).ok()) return s;
  // Every subvolume has a device number of its own: dest's parent with
  // src's is inside src, where the snapshot would hold itself.
  struct statfs parent_fs;
  if (fstat(parent.get(), &parent_st) != 0) return Fail("stat", errno);
  if (parent_st.st_dev == st.st_dev) return Fail("snapshot", EINVAL);
  // Not btrfs there: another filesystem, as btrfs says of another btrfs one.
  if (fstatfs(parent.get(), &parent_fs) != 0) return Fail("statfs", errno);
  if (static_cast<uint64_t>(parent_fs.f_type) != BTRFS_SUPER_MAGIC) return Fail("snapshot", EXDEV);
  struct btrfs_ioctl_vol_args_v2 args;
  memset(&args, 0, sizeof args);
  args.fd = source.get();
  args.flags = read_only ? BTRFS_SUBVOL_RDONLY : 0;
  memcpy(args.name, name.data(), name.size());
  if (ioctl(parent.get(), BTRFS_IOC_SNAP_CREATE_V2, &args) != 0) return Fail("snapshot", errno);
  return Status();
}

namespace {

// An ioctl on path's parent naming path's last component (the v1 arguments).
Status OnParent(const Path& path, unsigned long request) {
  UniqueFd parent;
  Path name;
  Status s = OpenParent(path, &parent, &name);
  if (!s.ok()) return s;
  struct btrfs_ioctl_vol_args args;
  memset(&args, 0, sizeof args);
  memcpy(args.name, name.data(), name.size());
  if (ioctl(parent.get(), request, &args) != 0) return Fail("subvolume", errno);
  return Status();
}

}  // namespace

Status CreateSubvolume(const Path& path) { return OnParent(path, BTRFS_IOC_SUBVOL_CREATE); }

Status DestroySubvolume(const Path& path) { return OnParent(path, BTRFS_IOC_SNAP_DESTROY); }

Status SetSubvolumeReadOnly(const Path& path, bool read_only) {
  UniqueFd dir(OpenNoIntr(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  if (dir.get() < 0) return Fail("open", errno);
  uint64_t flags = 0;
  if (ioctl(dir.get(), BTRFS_IOC_SUBVOL_GETFLAGS, &flags) != 0) return Fail("ioctl", errno);
  const uint64_t wanted = read_only ? flags | BTRFS_SUBVOL_RDONLY : flags & ~static_cast<uint64_t>(BTRFS_SUBVOL_RDONLY);
  if (wanted != flags && ioctl(dir.get(), BTRFS_IOC_SUBVOL_SETFLAGS, &wanted) != 0) return Fail("ioctl", errno);
  return Status();
}

Status ExchangePaths(const Path& a, const Path& b) {
  // By number: glibc has no renameat2() before 2.28, and the prebuilds target older ones.
  if (syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0)
    return Fail("rename", errno);
  return Status();
}

}  // namespace cowcopy
