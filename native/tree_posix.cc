// The tree walk's POSIX half (tree.h's Fs): directory descriptors, openat
// and friends, O_NOFOLLOW everywhere, a directory opened again from its
// root with no symlink followed on the way (OpenBeneath). What differs
// between Linux and macOS (listing, exact modes, the worker policy, the
// fastest way beneath a root) is behind posix.h's hooks, in tree_linux.cc
// and tree_darwin.cc.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <memory>
#include <thread>
#include <vector>

#include "copy.h"
#include "posix.h"
#include "tree.h"

namespace cowcopy {

tree::Kind KindOfDirent(unsigned char type) {
  using tree::Kind;
  switch (type) {
    case DT_DIR: return Kind::kDirectory;
    case DT_REG: return Kind::kFile;
    case DT_LNK: return Kind::kSymlink;
    case DT_FIFO: return Kind::kFifo;
    case DT_SOCK: return Kind::kSocket;
    case DT_CHR:
    case DT_BLK: return Kind::kDevice;
    default: return Kind::kUnknown;
  }
}

bool IsDotOrDotDot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

bool ListWithReaddir(int dir, std::vector<tree::Entry>* entries) {
  // The stream owns a duplicate, so `dir` stays the caller's.
  int fd = fcntl(dir, F_DUPFD_CLOEXEC, 0);
  DIR* stream = fd >= 0 ? fdopendir(fd) : nullptr;
  if (stream == nullptr) {
    int err = errno;
    if (fd >= 0) close(fd);
    errno = err;
    return false;
  }
  errno = 0;
  while (struct dirent* d = readdir(stream)) {
    if (!IsDotOrDotDot(d->d_name)) entries->push_back({d->d_name, KindOfDirent(d->d_type)});
  }
  int err = errno;
  closedir(stream);
  errno = err;
  return err == 0;
}

int OpenBeneathByComponents(int root, const Path& rel) {
  UniqueFd dir(fcntl(root, F_DUPFD_CLOEXEC, 0));
  size_t i = 0;
  while (dir.get() >= 0 && i < rel.size()) {
    size_t j = rel.find('/', i);
    if (j == Path::npos) j = rel.size();
    Path part = rel.substr(i, j - i);
    dir.Reset(OpenAtNoIntr(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    i = j + 1;
  }
  return dir.Release();
}

namespace {

using tree::Dir;
using tree::Entry;
using tree::Kind;
using tree::SourceFile;
using tree::Stat;

struct FdDir : Dir {
  explicit FdDir(int fd) : fd(fd) {}
  UniqueFd fd;
};

int FdOf(Dir& dir) { return static_cast<FdDir&>(dir).fd.get(); }

// A directory just opened as fd (or -1 with errno) for the walk.
Status Opened(int fd, std::unique_ptr<Dir>* dir) {
  if (fd < 0) return Fail("opendir", errno);
  dir->reset(new FdDir(fd));
  return Status();
}

struct FdFile : SourceFile {
  UniqueFd fd;
  struct stat st = {};
};

Kind KindOfMode(mode_t mode) {
  return S_ISDIR(mode)    ? Kind::kDirectory
         : S_ISREG(mode)  ? Kind::kFile
         : S_ISLNK(mode)  ? Kind::kSymlink
         : S_ISFIFO(mode) ? Kind::kFifo
         : S_ISSOCK(mode) ? Kind::kSocket
                          : Kind::kDevice;
}

Stat ToStat(const struct stat& st) {
  Stat out;
  out.kind = KindOfMode(st.st_mode);
  out.dev = static_cast<uint64_t>(st.st_dev);
  out.ino = static_cast<uint64_t>(st.st_ino);
  out.mode = st.st_mode & 07777;
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  out.nlink = static_cast<uint64_t>(st.st_nlink);
  out.rdev = static_cast<uint64_t>(st.st_rdev);
  out.format = st.st_mode & S_IFMT;
  out.size = static_cast<uint64_t>(st.st_size);
  struct timespec times[2];
  StatTimes(st, times);
  out.atime_sec = times[0].tv_sec;
  out.atime_nsec = times[0].tv_nsec;
  out.mtime_sec = times[1].tv_sec;
  out.mtime_nsec = times[1].tv_nsec;
  return out;
}

// A Stat's atime and mtime, as futimens and utimensat take them.
std::array<struct timespec, 2> Times(const Stat& st) {
  return {{{static_cast<time_t>(st.atime_sec), static_cast<long>(st.atime_nsec)},
           {static_cast<time_t>(st.mtime_sec), static_cast<long>(st.mtime_nsec)}}};
}

bool ReadLinkAt(int dir, const char* name, Path* target) {
  std::vector<char> buf(256);
  for (;;) {
    ssize_t n = readlinkat(dir, name, buf.data(), buf.size());
    if (n < 0) return false;
    if (static_cast<size_t>(n) < buf.size()) {
      target->assign(buf.data(), static_cast<size_t>(n));
      return true;
    }
    buf.resize(buf.size() * 2);
  }
}

// Counts what is below an open directory (after a whole-directory clone).
// Stops at the first entry fs.cp would refuse (a FIFO, socket or device):
// *refused is then set.
bool CountBelow(int dir, TreeResult* r, bool* refused) {
  std::vector<Entry> entries;
  if (!ListWithReaddir(dir, &entries)) return false;
  for (const Entry& e : entries) {
    struct stat st;
    if (fstatat(dir, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (S_ISDIR(st.st_mode)) {
      r->directories++;
      UniqueFd sub(OpenAtNoIntr(dir, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      if (sub.get() < 0 || !CountBelow(sub.get(), r, refused)) return false;
      if (*refused) return true;
    } else if (S_ISLNK(st.st_mode)) {
      r->symlinks++;
    } else if (S_ISREG(st.st_mode)) {
      r->files++;
      r->bytes += static_cast<uint64_t>(st.st_size);
      r->by_strategy[static_cast<int>(Strategy::kReflink)]++;
    } else {
      *refused = true;
      return true;
    }
  }
  return true;
}

// Removes the tree `name` in `parent` that this walk made (a directory
// clone): what it holds is ours, read-only directories included.
bool RemoveTree(int parent, const char* name) {
  UniqueFd dir(OpenAtNoIntr(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  if (dir.get() < 0 || fchmod(dir.get(), 0700) != 0) return false;
  std::vector<Entry> entries;
  if (!ListWithReaddir(dir.get(), &entries)) return false;
  for (const Entry& e : entries) {
    struct stat st;
    if (fstatat(dir.get(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (S_ISDIR(st.st_mode) ? !RemoveTree(dir.get(), e.name.c_str()) : unlinkat(dir.get(), e.name.c_str(), 0) != 0)
      return false;
  }
  return unlinkat(parent, name, AT_REMOVEDIR) == 0;
}

// How many descriptors this process has open, or -1 where it cannot tell:
// listed in /proc/self/fd (Linux) or /dev/fd (macOS's fdesc).
long OpenDescriptors() {
  for (const char* path : {"/proc/self/fd", "/dev/fd"}) {
    UniqueFd dir(OpenAtNoIntr(AT_FDCWD, path, O_RDONLY | O_DIRECTORY));
    std::vector<Entry> entries;
    // Less the two reading it (ListWithReaddir's stream has a duplicate).
    if (dir.get() >= 0 && ListWithReaddir(dir.get(), &entries)) return static_cast<long>(entries.size()) - 2;
  }
  return -1;
}

// How many workers the descriptors this process may still open allow: each
// holds at most five at once (two directories, a source, its copy, a
// directory reopened to finish it), and some are left for the rest of the
// process. At least one.
unsigned WorkersForDescriptors() {
  constexpr long kPerWorker = 5;
  constexpr long kLeftForOthers = 16;
  constexpr unsigned kMax = 64;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kMax;
  long open = OpenDescriptors();
  if (open < 0) return kMax;
  long spare = static_cast<long>(limit.rlim_cur) - open - kLeftForOthers;
  return static_cast<unsigned>(std::max(1L, std::min<long>(kMax, spare / kPerWorker)));
}

class PosixFs : public tree::Fs {
 public:
  PosixFs(const Path& src, const Path& dest, bool dereference) : src_(src), dest_(dest), dereference_(dereference) {}

  Status OpenSourceRoot(bool follow, std::unique_ptr<Dir>* dir, Stat* st) override {
    return OpenRoot(src_, follow, &src_root_, &src_st_, dir, st);
  }

  Status MakeDestRoot() override { return mkdir(dest_.c_str(), 0700) == 0 ? Status() : Fail("mkdir", errno); }

  Status OpenDestRoot(bool follow, std::unique_ptr<Dir>* dir, Stat* st) override {
    return OpenRoot(dest_, follow, &dest_root_, &dest_st_, dir, st);
  }

  bool ExactModes(Dir& dest_root, const Stat&) override {
    hint_.dev = dest_st_.st_dev;
    return cowcopy::ExactModes(FdOf(dest_root), dest_st_, &hint_.umask);
  }

  tree::WorkerPolicy Policy(Dir& dest_root) override {
    // Beyond one thread per core the threads mostly wait on each other in the
    // filesystem's log and locks. Several take the oldest queued item, so that
    // they work in directories made one after the other, which xfs spreads
    // over its allocation groups.
    tree::WorkerPolicy policy{std::min(64u, std::max(2u, std::thread::hardware_concurrency()))};
    if (SingleWorker(FdOf(dest_root))) policy = {1, 64, false};
    // No more workers than the descriptors left allow (EMFILE under a low ulimit -n).
    policy.most = WorkersForDescriptors();
    return policy;
  }

  Status CloneWhole(TreeResult* counted, bool* refused) override {
    Status cloned = CloneDirectory(src_, dest_);
    if (!cloned.ok()) return cloned;
    UniqueFd dest(OpenAtNoIntr(AT_FDCWD, dest_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    counted->directories = 1;
    if (dest.get() < 0 || !CountBelow(dest.get(), counted, refused)) return Fail("scandir", errno);
    return Status();
  }

  Status RemoveDestRoot() override {
    struct stat left;
    if (lstat(dest_.c_str(), &left) != 0) return Status();  // nothing was made
    return RemoveTree(AT_FDCWD, dest_.c_str()) ? Status() : Fail("rmdir", errno);
  }

  Status OpenSource(const Path& rel, std::unique_ptr<Dir>* dir) override {
    if (!dereference_) return Opened(OpenBeneath(src_root_.get(), rel), dir);
    // Symlinks are to be followed here, wherever they lead.
    Path path = rel.empty() ? src_ : src_ + "/" + rel;
    return Opened(OpenAtNoIntr(AT_FDCWD, path.c_str(), O_RDONLY | O_DIRECTORY), dir);
  }

  Status OpenDest(const Path& rel, std::unique_ptr<Dir>* dir) override {
    return Opened(OpenBeneath(dest_root_.get(), rel), dir);
  }

  Status List(Dir& dir, std::vector<Entry>* entries) override {
    return ListEntries(FdOf(dir), entries) ? Status() : Fail("scandir", errno);
  }

  Status StatAt(Dir& dir, const Path& name, bool follow, Stat* st) override {
    struct stat raw;
    if (fstatat(FdOf(dir), name.c_str(), &raw, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0)
      return Fail(follow ? "stat" : "lstat", errno);
    *st = ToStat(raw);
    return Status();
  }

  Status MakeDir(Dir& parent, const Path& name, uint32_t mode, bool* final) override {
    // The umask would narrow a final mode: one that has a umask bit is not final.
    *final = *final && (mode & hint_.umask) == 0;
    return mkdirat(FdOf(parent), name.c_str(), *final ? mode : 0700) == 0 ? Status() : Fail("mkdir", errno);
  }

  Status FinishDir(Dir& dir, const Stat& src, const tree::Finish& what) override {
    const int fd = FdOf(dir);
    Status s;
    if (what.owner && !(s = KeepOwner("chown", [fd](uid_t u, gid_t g) { return fchown(fd, u, g); }, src.uid, src.gid)).ok())
      return s;
    if (what.xattrs_from != nullptr && !(s = CopyXattrs(FdOf(*what.xattrs_from), fd)).ok()) return s;
    if (what.mode && fchmod(fd, src.mode) != 0) return Fail("chmod", errno);
    if (what.times && futimens(fd, Times(src).data()) != 0) return Fail("utime", errno);
    return Status();
  }

  Status SetEntry(Dir& dir, const Path& name, const Stat& src, bool times, bool owner) override {
    const int fd = FdOf(dir);
    const char* at = name.c_str();
    Status s;
    if (owner &&
        !(s = KeepOwner("lchown", [fd, at](uid_t u, gid_t g) { return fchownat(fd, at, u, g, AT_SYMLINK_NOFOLLOW); },
                        src.uid, src.gid))
             .ok())
      return s;
    if (times && utimensat(fd, at, Times(src).data(), AT_SYMLINK_NOFOLLOW) != 0) return Fail("utime", errno);
    return Status();
  }

  Status MakeSpecial(Dir& dir, const Path& name, const Stat& src) override {
    int err = MakeNode(FdOf(dir), name.c_str(), static_cast<mode_t>(src.format | src.mode), static_cast<dev_t>(src.rdev));
    if (err != 0) return Fail("mknod", err);
    // The exact mode (mknod applied the umask); the node was just made here.
    if (fchmodat(FdOf(dir), name.c_str(), src.mode, 0) != 0) {
      err = errno;
      unlinkat(FdOf(dir), name.c_str(), 0);
      return Fail("chmod", err);
    }
    return Status();
  }

  Status ReadLink(Dir& dir, const Path& name, Path* target) override {
    return ReadLinkAt(FdOf(dir), name.c_str(), target) ? Status() : Fail("readlink", errno);
  }

  Status MakeSymlink(Dir& dir, const Path& name, const Path& target) override {
    return symlinkat(target.c_str(), FdOf(dir), name.c_str()) == 0 ? Status() : Fail("symlink", errno);
  }

  Status Rename(Dir& dir, const Path& from, const Path& to) override {
    return renameat(FdOf(dir), from.c_str(), FdOf(dir), to.c_str()) == 0 ? Status() : Fail("rename", errno);
  }

  void Remove(Dir& dir, const Path& name) override { unlinkat(FdOf(dir), name.c_str(), 0); }

  Status OpenFile(Dir& dir, const Path& name, bool follow, std::unique_ptr<SourceFile>* file) override {
    auto f = std::make_unique<FdFile>();
    Status s = cowcopy::OpenSource(FdOf(dir), name.c_str(), follow, &f->fd, &f->st);
    if (!s.ok()) return s;
    f->stat = ToStat(f->st);
    *file = std::move(f);
    return Status();
  }

  Status CopyInto(SourceFile& file, Dir& dir, const Path& name, bool exact, const CopyOptions& opts,
                  CopyResult* result) override {
    auto& f = static_cast<FdFile&>(file);
    return CopyIntoNew(f.fd.get(), f.st, FdOf(dir), name.c_str(), opts, result, exact ? &hint_ : nullptr);
  }

  bool RefreshClone(SourceFile& file, Dir& dir, const Path& name, const CopyOptions& opts,
                    CopyResult* result) override {
    auto& f = static_cast<FdFile&>(file);
    UniqueFd dfd(OpenAtNoIntr(FdOf(dir), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
    struct stat dst;
    // What a new copy would have: this user's owner and group (or, preserved,
    // the source's, when they are this user's too), no xattrs (or none to copy).
    if (dfd.get() < 0 || fstat(dfd.get(), &dst) != 0 || !S_ISREG(dst.st_mode) || dst.st_nlink != 1 ||
        dst.st_uid != geteuid() || dst.st_gid != getegid() || dst.st_size != f.st.st_size ||
        (opts.preserve_ownership && (f.st.st_uid != dst.st_uid || f.st.st_gid != dst.st_gid)) ||
        (opts.preserve_xattr && HasXattrs(f.fd.get())) || !SharesAllData(f.fd.get(), dfd.get()))
      return false;
    struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    if (opts.preserve_timestamps) StatTimes(f.st, times);
    const mode_t mode = f.st.st_mode & 07777;
    if (((dst.st_mode & 07777) != mode && fchmod(dfd.get(), mode) != 0) || futimens(dfd.get(), times) != 0)
      return false;
    result->strategy = Strategy::kReflink;
    result->bytes = static_cast<uint64_t>(dst.st_size);
    return true;
  }

  Status LinkInto(Dir& sdir, const Path& source, bool follow, Dir& dir, const Path& name) override {
    return linkat(FdOf(sdir), source.c_str(), FdOf(dir), name.c_str(), follow ? AT_SYMLINK_FOLLOW : 0) == 0
               ? Status()
               : Fail("link", errno);
  }

  int Code(int posix_errno) const override { return -posix_errno; }

  bool IsAbsolute(const Path& p) const override { return !p.empty() && p[0] == '/'; }

  // path.resolve(base, p) for POSIX: absolute, normalized ("." and ".." gone).
  Path Resolve(const Path& base, const Path& p) const override {
    Path out;
    for (const Path& part : tree::Normalized(IsAbsolute(p) ? p : base + "/" + p, "/")) out += "/" + part;
    return out.empty() ? "/" : out;
  }

  const char* Separators() const override { return "/"; }

 private:
  // Opens a root (through a symlink with `follow` only) into *root; the walk gets a duplicate.
  static Status OpenRoot(const Path& path, bool follow, UniqueFd* root, struct stat* raw, std::unique_ptr<Dir>* dir,
                         Stat* st) {
    root->Reset(OpenAtNoIntr(AT_FDCWD, path.c_str(), O_RDONLY | O_DIRECTORY | (follow ? 0 : O_NOFOLLOW)));
    if (root->get() < 0) return Fail("opendir", errno);
    if (fstat(root->get(), raw) != 0) return Fail("fstat", errno);
    *st = ToStat(*raw);
    dir->reset(new FdDir(fcntl(root->get(), F_DUPFD_CLOEXEC, 0)));
    return Status();
  }

  const Path src_, dest_;
  const bool dereference_;
  UniqueFd src_root_, dest_root_;
  struct stat src_st_ = {}, dest_st_ = {};
  NewFileHint hint_{0, 0777};
};

}  // namespace

namespace tree {

std::unique_ptr<Fs> MakeFs(const Path& src, const Path& dest, bool dereference) {
  return std::make_unique<PosixFs>(src, dest, dereference);
}

}  // namespace tree

const bool kNativeTree = true;

}  // namespace cowcopy
