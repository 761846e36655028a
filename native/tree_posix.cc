// The native directory walk, for every POSIX platform: fs.cp's semantics,
// done on worker threads relative to directory descriptors.
//
// - Work items are a directory to list or a batch of its files; they sit in a
//   bounded queue, taken newest first by one worker, oldest first by several
//   where the filesystem spreads them apart (OldestFirst). A worker that
//   finds the queue full keeps the item for itself, to run after it closed
//   what it has open: the number of open descriptors stays at about four per
//   worker whatever the tree, and memory does not grow with the tree's size.
// - A queued item holds no descriptor: directories are opened again from the
//   root with symlinks refused (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
//   or a component walk with O_NOFOLLOW), so a directory swapped for a symlink
//   meanwhile cannot lead a write outside the destination.
// - A directory gets its mode (and timestamps when asked) when everything in
//   it is done: a read-only source directory stays writable while filled.
//   Where the mode asked of mkdir/open is known to come out exact (no umask
//   bit in it, no default ACL, not setgid: ModesAsAsked), it is given at
//   creation and nothing is asked back: one system call per entry less.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "copy.h"
#include "posix.h"
#include "thread.h"

#ifdef __linux__
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define COWCOPY_HAVE_OPENAT2 1
#endif
#endif

namespace cowcopy {
namespace {

constexpr size_t kBatch = 64;             // files per work item
constexpr size_t kQueueCapacity = 1024;   // work items waiting for a worker
constexpr unsigned kMaxWorkers = 64;
constexpr auto kProgressEvery = std::chrono::milliseconds(100);

Path Join(const Path& dir, const Path& name) {
  if (dir.empty()) return name;
  return dir + "/" + name;
}

// path.resolve(base, p) for POSIX: absolute, normalized ("." and ".." gone).
Path Resolve(const Path& base, const Path& p) {
  Path joined = !p.empty() && p[0] == '/' ? p : base + "/" + p;
  std::vector<Path> parts;
  size_t i = 0;
  while (i <= joined.size()) {
    size_t j = joined.find('/', i);
    if (j == Path::npos) j = joined.size();
    Path part = joined.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  Path out;
  for (const Path& part : parts) out += "/" + part;
  return out.empty() ? "/" : out;
}

Path Dirname(const Path& p) {
  size_t slash = p.find_last_of('/');
  if (slash == Path::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

// fs.cp's isSrcSubdir: every component of a is the same in b.
bool IsSubdir(const Path& a, const Path& b) {
  Path ra = Resolve("/", a), rb = Resolve("/", b);
  if (ra == "/") return true;
  return rb == ra || (rb.size() > ra.size() && rb.compare(0, ra.size(), ra) == 0 && rb[ra.size()] == '/');
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

// Opens directory `rel` below `root` without following any symlink on the way.
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

struct Entry {
  Path name;
  unsigned char type;  // DT_*
};

bool IsDotOrDotDot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

bool ReadEntries(int dir, std::vector<Entry>* entries);

// Removes the temporary entries a copy killed while replacing an entry left
// in `dir` (IsLeftoverTemp: the process that made them is gone). One more
// listing, only for a destination directory that was there already.
void RemoveLeftovers(int dir) {
  std::vector<Entry> entries;
  if (!ReadEntries(dir, &entries)) return;
  for (const Entry& e : entries) {
    if (e.type != DT_DIR && IsLeftoverTemp(e.name.c_str())) unlinkat(dir, e.name.c_str(), 0);
  }
}

// Appends what directory `dir` holds, "." and ".." left out. False with errno.
bool ReadEntries(int dir, std::vector<Entry>* entries) {
#ifdef __linux__
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
      if (!IsDotOrDotDot(name)) entries->push_back({name, d->d_type});
    }
  }
#else
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
    if (!IsDotOrDotDot(d->d_name)) entries->push_back({d->d_name, d->d_type});
  }
  int err = errno;
  closedir(stream);
  errno = err;
  return err == 0;
#endif
}

#ifdef __linux__
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
#endif

// The filesystem `dir` is on, as statfs's f_type (Linux); 0 when unknown.
unsigned long FilesystemType(int dir) {
#ifdef __linux__
  struct statfs sfs;
  if (fstatfs(dir, &sfs) == 0) return static_cast<unsigned long>(sfs.f_type);
#else
  (void)dir;
#endif
  return 0;
}

// Whether what the walk creates in `dir` (on filesystem `fs_type`) gets
// exactly the mode it asks for less the umask (then it need not ask back): a
// filesystem known to keep modes as given, no default ACL (which would stand
// in for the umask), and not setgid (new directories would take that bit).
// Sets *mask.
bool ModesAsAsked(int dir, unsigned long fs_type, const struct stat& st, mode_t* mask) {
#ifdef __linux__
  if ((st.st_mode & S_ISGID) != 0) return false;
  switch (fs_type) {
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
  return ReadUmask(mask);
#else
  (void)dir;
  (void)fs_type;
  (void)st;
  (void)mask;
  return false;
#endif
}

struct DirNode {
  DirNode* parent = nullptr;
  Path rel;                   // "" for the root
  std::atomic<int> pending{1};  // its listing, plus every queued item of its own
  bool created = false;       // made by this walk: gets mode and times at the end
  bool mode_set = false;      // made with its final mode already
  bool plain = false;         // its destination makes entries as ModesAsAsked says
  struct stat st = {};        // the source directory, as listed by the parent
};

struct Task {
  DirNode* node = nullptr;
  bool list = true;            // list `node`; else copy `files` of `node`
  std::vector<Entry> files;
};

class Walk {
 public:
  Walk(const Path& src, const Path& dest, const TreeOptions& opts, TreeHooks* hooks,
       const std::atomic<bool>* cancel, TreeResult* result)
      : src_(src), dest_(dest), opts_(opts), hooks_(hooks), cancel_(cancel), result_(result) {}

  Status Run();

 private:
  bool Stopped() const { return stop_.load(std::memory_order_relaxed) || (cancel_ && cancel_->load()); }
  void Record(TreeErrorKind kind, const Status& status, const Path& rel, ErrorPaths paths,
              const Path& link_src = Path(), const Path& link_dest = Path());
  // An OS error about one side of an entry, or both.
  void RecordSystem(const char* syscall, int err, const Path& rel, ErrorPaths paths) {
    Record(TreeErrorKind::kSystem, Fail(syscall, err), rel, paths);
  }
  // An fs.cp error (kind other than kSystem): it names the destination.
  void RecordCp(TreeErrorKind kind, const Path& rel, const Path& link_src = Path(), const Path& link_dest = Path()) {
    Record(kind, Status(), rel, ErrorPaths::kDestination, link_src, link_dest);
  }
  void Push(Task task, std::vector<Task>* own);
  bool Pop(Task* task);
  void Worker();
  void Execute(Task& task, std::vector<Task>* own);
  void ListDir(DirNode* node, std::vector<Task>* own);
  void CopyFiles(DirNode* node, int sdir, int ddir, const std::vector<Entry>& files);
  void CopyFile(DirNode* node, int sdir, int ddir, const Entry& entry);
  void LinkFile(DirNode* node, int sdir, int ddir, const Entry& entry);
  void CopySymlink(DirNode* node, int sdir, int ddir, const Entry& entry);
  bool MakeChildDir(DirNode* node, int sdir, int ddir, const Entry& entry, std::vector<Task>* own);
  int OpenSrcDir(const DirNode* node);
  int OpenDestDir(const DirNode* node) { return OpenBeneath(dest_root_.get(), node->rel); }
  // An existing entry at dest: false when the caller must not write it.
  bool MayReplace(const Path& rel, const struct stat& sst, const struct stat& dst);
  // `link_target`: the entry is a symlink to it (what a failure names).
  bool ReplaceAt(int ddir, const Entry& entry, const Path& rel,
                 const std::function<Status(const char*)>& make, const Path& link_target = Path());
  // An entry is at dest already: replace it with `make` where it may be.
  bool ReplaceExisting(int ddir, const Entry& entry, const Path& rel, const struct stat& sst,
                       const std::function<Status(const char*)>& make);
  // One item of node is over; `ddir`, when open, is node's destination.
  void Done(DirNode* node, int ddir = -1);
  void Complete(DirNode* node, int ddir);

  const Path src_, dest_;
  const TreeOptions& opts_;
  TreeHooks* hooks_;
  const std::atomic<bool>* cancel_;
  TreeResult* result_;

  UniqueFd src_root_, dest_root_;
  DirNode* root_ = nullptr;
  mode_t umask_ = 0;   // where some DirNode is plain
  dev_t dest_dev_ = 0;
  bool oldest_first_ = false;  // which queued item a worker takes: see OldestFirst

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Task> queue_;
  bool finished_ = false;
  std::atomic<bool> stop_{false};

  std::atomic<uint64_t> files_{0}, dirs_{0}, symlinks_{0}, bytes_{0}, skipped_{0};
  std::atomic<uint64_t> by_strategy_[5] = {};
};

void Walk::Record(TreeErrorKind kind, const Status& status, const Path& rel, ErrorPaths paths,
                  const Path& link_src, const Path& link_dest) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!result_->ok()) return;  // the first error is the one reported
    // A copy stopped by the abort (CopyOptions::cancel) is the abort.
    if (status.code == -ECANCELED && cancel_ != nullptr && cancel_->load()) kind = TreeErrorKind::kCancelled;
    result_->kind = kind;
    result_->status = status;
    result_->rel = rel;
    result_->paths = paths;
    result_->link_src = link_src;
    result_->link_dest = link_dest;
  }
  stop_ = true;
}

void Walk::Push(Task task, std::vector<Task>* own) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() < kQueueCapacity) {
      queue_.push_back(std::move(task));
      work_cv_.notify_one();
      return;
    }
  }
  own->push_back(std::move(task));
}

bool Walk::Pop(Task* task) {
  std::unique_lock<std::mutex> lock(mu_);
  work_cv_.wait(lock, [this] { return !queue_.empty() || finished_; });
  if (queue_.empty()) return false;
  if (oldest_first_) {
    *task = std::move(queue_.front());
    queue_.pop_front();
  } else {
    *task = std::move(queue_.back());
    queue_.pop_back();
  }
  return true;
}

void Walk::Worker() {
  std::vector<Task> own;  // what did not fit in the queue
  for (;;) {
    Task task;
    if (!own.empty()) {
      task = std::move(own.back());
      own.pop_back();
    } else if (!Pop(&task)) {
      return;
    }
    Execute(task, &own);
  }
}

void Walk::Execute(Task& task, std::vector<Task>* own) {
  DirNode* node = task.node;
  if (Stopped()) {
    // Still accounted for, so every node is completed and freed.
    Done(node);
    return;
  }
  if (task.list) {
    ListDir(node, own);
    return;
  }
  UniqueFd sdir(OpenSrcDir(node));
  if (sdir.get() < 0) {
    RecordSystem("opendir", errno, node->rel, ErrorPaths::kSource);
  } else {
    UniqueFd ddir(OpenDestDir(node));
    if (ddir.get() < 0) {
      RecordSystem("opendir", errno, node->rel, ErrorPaths::kDestination);
    } else {
      CopyFiles(node, sdir.get(), ddir.get(), task.files);
    }
  }
  Done(node);
}

int Walk::OpenSrcDir(const DirNode* node) {
  if (opts_.dereference) {
    // Symlinks are to be followed here, wherever they lead.
    Path path = node->rel.empty() ? src_ : src_ + "/" + node->rel;
    return OpenAtNoIntr(AT_FDCWD, path.c_str(), O_RDONLY | O_DIRECTORY);
  }
  return OpenBeneath(src_root_.get(), node->rel);
}

void Walk::ListDir(DirNode* node, std::vector<Task>* own) {
  UniqueFd sdir(OpenSrcDir(node));
  if (sdir.get() < 0) {
    RecordSystem("opendir", errno, node->rel, ErrorPaths::kSource);
    Done(node);
    return;
  }
  UniqueFd ddir(OpenDestDir(node));
  if (ddir.get() < 0) {
    RecordSystem("opendir", errno, node->rel, ErrorPaths::kDestination);
    Done(node);
    return;
  }

  // A directory that was there: what a killed copy left in it goes.
  if (!node->created) RemoveLeftovers(ddir.get());

  const int src_fd = sdir.get();
  std::vector<Entry> entries;
  if (!ReadEntries(src_fd, &entries)) {
    RecordSystem("scandir", errno, node->rel, ErrorPaths::kSource);
    Done(node);
    return;
  }

  // The filter first: fs.cp asks it before it looks at the entry.
  if (hooks_ && hooks_->has_filter() && !entries.empty()) {
    std::vector<FilterEntry> asked;
    asked.reserve(entries.size());
    for (const Entry& e : entries) asked.push_back({e.name, e.type == DT_DIR, true});
    if (!hooks_->Filter(node->rel, &asked)) {
      bool cancelled = cancel_ != nullptr && cancel_->load();
      RecordCp(cancelled ? TreeErrorKind::kCancelled : TreeErrorKind::kFilter, node->rel);
      Done(node);
      return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < entries.size(); i++) {
      if (!asked[i].keep) continue;
      if (kept != i) entries[kept] = std::move(entries[i]);  // never onto itself
      kept++;
    }
    skipped_ += entries.size() - kept;
    entries.resize(kept);
  }

  // Types readdir did not give, or that dereference changes.
  for (Entry& e : entries) {
    if (e.type != DT_UNKNOWN && !(opts_.dereference && e.type == DT_LNK)) continue;
    struct stat st;
    if (fstatat(src_fd, e.name.c_str(), &st, opts_.dereference ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
      RecordSystem(opts_.dereference ? "stat" : "lstat", errno, Join(node->rel, e.name), ErrorPaths::kSource);
      Done(node);
      return;
    }
    e.type = S_ISDIR(st.st_mode)   ? DT_DIR
             : S_ISREG(st.st_mode) ? DT_REG
             : S_ISLNK(st.st_mode) ? DT_LNK
             : S_ISFIFO(st.st_mode) ? DT_FIFO
             : S_ISSOCK(st.st_mode) ? DT_SOCK
             : S_ISCHR(st.st_mode)  ? DT_CHR
             : S_ISBLK(st.st_mode)  ? DT_BLK
                                    : DT_UNKNOWN;
  }

  // Directories first, so idle workers get them while this one copies files.
  std::vector<Entry> batch;
  for (const Entry& e : entries) {
    if (Stopped()) break;
    if (e.type == DT_DIR) MakeChildDir(node, src_fd, ddir.get(), e, own);
  }
  for (Entry& e : entries) {
    if (Stopped()) break;
    switch (e.type) {
      case DT_DIR:
        break;
      case DT_REG:
        batch.push_back(std::move(e));
        if (batch.size() == kBatch) {
          node->pending++;
          Push(Task{node, false, std::move(batch)}, own);
          batch.clear();
        }
        break;
      case DT_LNK:
        CopySymlink(node, src_fd, ddir.get(), e);
        break;
      case DT_FIFO:
        RecordCp(TreeErrorKind::kFifo, Join(node->rel, e.name));
        break;
      case DT_SOCK:
        RecordCp(TreeErrorKind::kSocket, Join(node->rel, e.name));
        break;
      default:
        // Devices too: reading one has no end (fs.cp would copy /dev/zero forever).
        RecordCp(TreeErrorKind::kUnknownType, Join(node->rel, e.name));
        break;
    }
  }
  if (!Stopped()) CopyFiles(node, src_fd, ddir.get(), batch);
  // Often the last item of this directory: finish it with what is open.
  Done(node, ddir.get());
}

bool Walk::MakeChildDir(DirNode* node, int sdir, int ddir, const Entry& e, std::vector<Task>* own) {
  Path rel = Join(node->rel, e.name);
  auto child = std::make_unique<DirNode>();
  child->parent = node;
  child->rel = rel;
  if (fstatat(sdir, e.name.c_str(), &child->st, opts_.dereference ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
    RecordSystem(opts_.dereference ? "stat" : "lstat", errno, rel, ErrorPaths::kSource);
    return false;
  }
  if (opts_.dereference) {
    // A symlink back to an ancestor would never end.
    for (const DirNode* up = node; up != nullptr; up = up->parent) {
      if (SameInode(up->st, child->st)) {
        Record(TreeErrorKind::kLoop, Fail("cp", ELOOP), rel, ErrorPaths::kBoth);
        return false;
      }
    }
  }
  // Made with its final mode where that comes out exact, lets the owner fill
  // it and nobody else write into it meanwhile; otherwise owner-only until
  // its contents are done, its own mode last.
  const mode_t mode = child->st.st_mode & 07777;
  const bool final_mode = node->plain && (mode & ~01777) == 0 && (mode & 0700) == 0700 && (mode & 0022) == 0 &&
                          (mode & umask_) == 0;
  if (mkdirat(ddir, e.name.c_str(), final_mode ? mode : 0700) == 0) {
    child->created = true;
    child->mode_set = final_mode;
    child->plain = node->plain;  // nothing it could have inherited
  } else if (errno == EEXIST) {
    struct stat dst;
    if (fstatat(ddir, e.name.c_str(), &dst, AT_SYMLINK_NOFOLLOW) != 0) {
      RecordSystem("lstat", errno, rel, ErrorPaths::kDestination);
      return false;
    }
    if (SameInode(child->st, dst)) {
      RecordCp(TreeErrorKind::kSameFile, rel);
      return false;
    }
    if (!S_ISDIR(dst.st_mode)) {
      // Never into a symlink planted at dest, nor over a file.
      RecordCp(TreeErrorKind::kDirToNonDir, rel);
      return false;
    }
  } else {
    RecordSystem("mkdir", errno, rel, ErrorPaths::kDestination);
    return false;
  }
  dirs_++;
  node->pending++;
  Push(Task{child.release(), true, {}}, own);
  return true;
}

void Walk::CopyFiles(DirNode* node, int sdir, int ddir, const std::vector<Entry>& files) {
  for (const Entry& e : files) {
    if (Stopped()) return;
    if (opts_.file.request == Request::kHardlink) {
      LinkFile(node, sdir, ddir, e);
    } else {
      CopyFile(node, sdir, ddir, e);
    }
  }
}

bool Walk::MayReplace(const Path& rel, const struct stat& sst, const struct stat& dst) {
  if (SameInode(sst, dst)) {
    RecordCp(TreeErrorKind::kSameFile, rel);
    return false;
  }
  if (S_ISDIR(dst.st_mode)) {
    RecordCp(TreeErrorKind::kNonDirToDir, rel);
    return false;
  }
  if (opts_.force) return true;
  if (opts_.error_on_exist) {
    RecordCp(TreeErrorKind::kExists, rel);
  } else {
    skipped_++;
  }
  return false;
}

// Makes the entry under a temporary name with `make`, then renames it over
// the existing one: either the old entry or the new one is there, always.
bool Walk::ReplaceAt(int ddir, const Entry& e, const Path& rel, const std::function<Status(const char*)>& make,
                     const Path& link_target) {
  Path temp;
  Status status = Fail("open", EEXIST);
  for (int attempt = 0; attempt < 16 && status.code == -EEXIST; attempt++) {
    temp = TempName("tree");
    status = make(temp.c_str());
  }
  if (!status.ok()) {
    Record(TreeErrorKind::kSystem, status, rel, link_target.empty() ? ErrorPaths::kBoth : ErrorPaths::kLinkTarget,
           link_target);
    return false;
  }
  if (renameat(ddir, temp.c_str(), ddir, e.name.c_str()) != 0) {
    int err = errno;
    unlinkat(ddir, temp.c_str(), 0);
    RecordSystem("rename", err, rel, ErrorPaths::kBoth);
    return false;
  }
  return true;
}

bool Walk::ReplaceExisting(int ddir, const Entry& e, const Path& rel, const struct stat& sst,
                           const std::function<Status(const char*)>& make) {
  struct stat dst;
  if (fstatat(ddir, e.name.c_str(), &dst, AT_SYMLINK_NOFOLLOW) != 0) {
    RecordSystem("lstat", errno, rel, ErrorPaths::kDestination);
    return false;
  }
  return MayReplace(rel, sst, dst) && ReplaceAt(ddir, e, rel, make);
}

void Walk::CopyFile(DirNode* node, int sdir, int ddir, const Entry& e) {
  Path rel = Join(node->rel, e.name);
  UniqueFd sfd;
  struct stat sst;
  Status status = OpenSource(sdir, e.name.c_str(), opts_.dereference, &sfd, &sst);
  if (!status.ok()) {
    // fs.cp's errors for a file come from copyFile.
    RecordSystem("copyfile", -status.code, rel, ErrorPaths::kBoth);
    return;
  }
  CopyResult copied;
  const NewFileHint hint{dest_dev_, umask_};
  status = CopyIntoNew(sfd.get(), sst, ddir, e.name.c_str(), opts_.file, &copied, node->plain ? &hint : nullptr);
  if (status.code == -EEXIST) {
    bool replaced = ReplaceExisting(ddir, e, rel, sst, [&](const char* temp) {
      Status s = CopyIntoNew(sfd.get(), sst, ddir, temp, opts_.file, &copied);
      return s.ok() || s.code == -EEXIST ? s : Fail("copyfile", -s.code);
    });
    if (!replaced) return;
  } else if (!status.ok()) {
    RecordSystem("copyfile", -status.code, rel, ErrorPaths::kBoth);
    return;
  }
  files_++;
  bytes_ += copied.bytes;
  by_strategy_[static_cast<int>(copied.strategy)]++;
}

void Walk::LinkFile(DirNode* node, int sdir, int ddir, const Entry& e) {
  Path rel = Join(node->rel, e.name);
  const int follow = opts_.dereference ? AT_SYMLINK_FOLLOW : 0;
  struct stat sst;
  if (fstatat(sdir, e.name.c_str(), &sst, opts_.dereference ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
    RecordSystem("lstat", errno, rel, ErrorPaths::kSource);
    return;
  }
  if (linkat(sdir, e.name.c_str(), ddir, e.name.c_str(), follow) != 0) {
    if (errno != EEXIST) {
      RecordSystem("link", errno, rel, ErrorPaths::kBoth);
      return;
    }
    bool replaced = ReplaceExisting(ddir, e, rel, sst, [&](const char* temp) {
      return linkat(sdir, e.name.c_str(), ddir, temp, follow) == 0 ? Status() : Fail("link", errno);
    });
    if (!replaced) return;
  }
  files_++;
  bytes_ += static_cast<uint64_t>(sst.st_size);
  by_strategy_[static_cast<int>(Strategy::kHardlink)]++;
}

void Walk::CopySymlink(DirNode* node, int sdir, int ddir, const Entry& e) {
  Path rel = Join(node->rel, e.name);
  Path target;
  if (!ReadLinkAt(sdir, e.name.c_str(), &target)) {
    RecordSystem("readlink", errno, rel, ErrorPaths::kSource);
    return;
  }
  // What fs.cp does without verbatimSymlinks: a relative target becomes
  // absolute, pointing into the source tree.
  const Path link_dir = Dirname(Resolve(opts_.src_absolute, rel));
  if (!opts_.verbatim_symlinks && (target.empty() || target[0] != '/')) target = Resolve(link_dir, target);
  if (symlinkat(target.c_str(), ddir, e.name.c_str()) == 0) {
    symlinks_++;
    return;
  }
  if (errno != EEXIST) {
    Record(TreeErrorKind::kSystem, Fail("symlink", errno), rel, ErrorPaths::kLinkTarget, target);
    return;
  }
  struct stat dst;
  if (fstatat(ddir, e.name.c_str(), &dst, AT_SYMLINK_NOFOLLOW) != 0) {
    RecordSystem("lstat", errno, rel, ErrorPaths::kDestination);
    return;
  }
  if (S_ISDIR(dst.st_mode)) {
    RecordCp(TreeErrorKind::kNonDirToDir, rel);
    return;
  }
  if (!opts_.force) {
    // fs.cp replaces symlinks even without force; an explicit force: false
    // means "overwrite nothing", links included.
    if (opts_.error_on_exist) {
      RecordCp(TreeErrorKind::kExists, rel);
    } else {
      skipped_++;
    }
    return;
  }
  if (!S_ISLNK(dst.st_mode)) {
    // fs.cp: symlink() over an existing file, which is EEXIST.
    Record(TreeErrorKind::kSystem, Fail("symlink", EEXIST), rel, ErrorPaths::kLinkTarget, target);
    return;
  }
  Path existing;
  if (!ReadLinkAt(ddir, e.name.c_str(), &existing)) {
    RecordSystem("readlink", errno, rel, ErrorPaths::kDestination);
    return;
  }
  const Path dest_dir = Dirname(Resolve(dest_, rel));
  Path resolved_src = Resolve(link_dir, target);
  Path resolved_dest = Resolve(dest_dir, existing);
  // fs.cp refuses even a link identical to the one there (its target is
  // "inside itself"); replacing it with the same link harms nothing.
  if (resolved_src != resolved_dest && IsSubdir(resolved_src, resolved_dest)) {
    RecordCp(TreeErrorKind::kLinkIntoSelf, rel, target, resolved_dest);
    return;
  }
  struct stat followed;
  if (fstatat(sdir, e.name.c_str(), &followed, 0) == 0 && S_ISDIR(followed.st_mode) &&
      IsSubdir(resolved_dest, resolved_src)) {
    RecordCp(TreeErrorKind::kLinkOverSubdir, rel, target, resolved_dest);
    return;
  }
  bool replaced = ReplaceAt(
      ddir, e, rel, [&](const char* temp) { return symlinkat(target.c_str(), ddir, temp) == 0 ? Status() : Fail("symlink", errno); },
      target);
  if (replaced) symlinks_++;
}

void Walk::Done(DirNode* node, int ddir) {
  if (node->pending.fetch_sub(1) == 1) Complete(node, ddir);
}

void Walk::Complete(DirNode* node, int ddir) {
  const bool set_mode = node->created && !node->mode_set;
  if (node->created && (set_mode || opts_.file.preserve_timestamps) && !Stopped()) {
    UniqueFd reopened;
    if (ddir < 0) {
      reopened.Reset(OpenDestDir(node));
      ddir = reopened.get();
    }
    const mode_t mode = node->st.st_mode & 07777;
    if (ddir < 0) {
      RecordSystem("opendir", errno, node->rel, ErrorPaths::kDestination);
    } else if (set_mode && fchmod(ddir, mode) != 0) {
      RecordSystem("chmod", errno, node->rel, ErrorPaths::kDestination);
    } else if (opts_.file.preserve_timestamps) {
      struct timespec times[2];
      StatTimes(node->st, times);
      if (futimens(ddir, times) != 0) RecordSystem("utime", errno, node->rel, ErrorPaths::kDestination);
    }
  }
  DirNode* parent = node->parent;
  if (parent != nullptr) {
    delete node;
    Done(parent);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  work_cv_.notify_all();
  done_cv_.notify_all();
}

// Which queued item a free worker takes. One worker: the newest, depth first,
// so the directory it just made is still warm and the frontier small. Several:
// the oldest, so that they work at once in directories made one after the
// other, which xfs spreads over its allocation groups instead of contending
// for the locks of one (measured, 2 threads, 10,000 files: xfs 123 ms against
// 135 newest first; ext4 gained too, 106 against 115). Not on btrfs, where
// every directory is in the one metadata tree: there newest first stayed
// faster (253 ms against 269), when asked for several threads.
bool OldestFirst(unsigned long dest_fs_type, unsigned workers) {
#ifdef __linux__
  if (dest_fs_type == BTRFS_SUPER_MAGIC) return false;
#else
  (void)dest_fs_type;
#endif
  return workers > 1;
}

// How many workers the descriptors this process may still open allow: each
// holds at most five at once (two directories, a source, its copy, a
// directory reopened to finish it), and some are left for the rest of the
// process. At least one.
unsigned WorkersForDescriptors() {
  constexpr long kPerWorker = 5;
  constexpr long kLeftForOthers = 16;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kMaxWorkers;
  long open = OpenDescriptors();
  if (open < 0) return kMaxWorkers;
  long spare = static_cast<long>(limit.rlim_cur) - open - kLeftForOthers;
  return static_cast<unsigned>(std::max(1L, std::min<long>(kMaxWorkers, spare / kPerWorker)));
}

unsigned DefaultWorkers(unsigned long dest_fs_type) {
#ifdef __linux__
  // btrfs: creating a file and cloning into it take the locks of the one
  // metadata tree, and a second thread only waits for them. Measured, 10,000
  // files, 2 cores: cp() 235 ms with one thread against 274 with two (and
  // 213/251, 231/267 in other runs); a minimal C copy 213 against 265, and
  // 317 against 342 on another machine.
  if (dest_fs_type == BTRFS_SUPER_MAGIC) return 1;
#else
  (void)dest_fs_type;
#endif
  // Measured on xfs and ext4 (2 cores): beyond one thread per core the
  // threads mostly wait on each other in the filesystem's log and locks.
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min(kMaxWorkers, std::max(2u, cores));
}

// Counts what is below an open directory (after a whole-directory clone).
// Stops at the first entry fs.cp would refuse (a FIFO, socket or device):
// *refused is then set.
bool CountBelow(int dir, TreeResult* r, bool* refused) {
  int fd = fcntl(dir, F_DUPFD_CLOEXEC, 0);
  DIR* stream = fd >= 0 ? fdopendir(fd) : nullptr;
  if (stream == nullptr) {
    if (fd >= 0) close(fd);
    return false;
  }
  bool ok = true;
  while (struct dirent* d = readdir(stream)) {
    if (IsDotOrDotDot(d->d_name)) continue;
    struct stat st;
    if (fstatat(dirfd(stream), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      ok = false;
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      r->directories++;
      UniqueFd sub(OpenAtNoIntr(dirfd(stream), d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      if (sub.get() < 0 || !CountBelow(sub.get(), r, refused)) {
        ok = false;
        break;
      }
      if (*refused) break;
    } else if (S_ISLNK(st.st_mode)) {
      r->symlinks++;
    } else if (S_ISREG(st.st_mode)) {
      r->files++;
      r->bytes += static_cast<uint64_t>(st.st_size);
      r->by_strategy[static_cast<int>(Strategy::kReflink)]++;
    } else {
      *refused = true;
      break;
    }
  }
  closedir(stream);
  return ok;
}

// Removes the tree `name` in `parent` that this walk made (a directory
// clone): what it holds is ours, read-only directories included.
bool RemoveTree(int parent, const char* name) {
  UniqueFd dir(OpenAtNoIntr(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  if (dir.get() < 0 || fchmod(dir.get(), 0700) != 0) return false;
  std::vector<Entry> entries;
  if (!ReadEntries(dir.get(), &entries)) return false;
  for (const Entry& e : entries) {
    struct stat st;
    if (fstatat(dir.get(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (S_ISDIR(st.st_mode) ? !RemoveTree(dir.get(), e.name.c_str()) : unlinkat(dir.get(), e.name.c_str(), 0) != 0)
      return false;
  }
  return unlinkat(parent, name, AT_REMOVEDIR) == 0;
}

Status Walk::Run() {
  if (opts_.whole_clone && !opts_.dest_exists) {
    Status cloned = CloneDirectory(src_, dest_);
    if (cloned.code == -EEXIST) {  // made by someone else meanwhile: not ours to touch
      Record(TreeErrorKind::kSystem, cloned, Path(), ErrorPaths::kBoth);
      return Status();
    }
    if (cloned.ok()) {
      UniqueFd dest(OpenAtNoIntr(AT_FDCWD, dest_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      TreeResult counted;
      counted.directories = 1;
      bool refused = false;
      if (dest.get() < 0 || !CountBelow(dest.get(), &counted, &refused)) {
        RecordSystem("scandir", errno, Path(), ErrorPaths::kDestination);
        return Status();
      }
      if (!refused) {
        *result_ = counted;
        return Status();
      }
    }
    // The OS cannot clone this directory here, or the clone holds a FIFO, a
    // socket or a device, which fs.cp refuses: what it made goes, and the
    // walk copies file by file (and stops where fs.cp stops, with its error).
    struct stat left;
    if (lstat(dest_.c_str(), &left) == 0 && !RemoveTree(AT_FDCWD, dest_.c_str())) {
      RecordSystem("rmdir", errno, Path(), ErrorPaths::kDestination);
      return Status();
    }
  }
  const int follow = opts_.dereference ? 0 : O_NOFOLLOW;
  src_root_.Reset(OpenAtNoIntr(AT_FDCWD, src_.c_str(), O_RDONLY | O_DIRECTORY | follow));
  if (src_root_.get() < 0) {
    RecordSystem("opendir", errno, Path(), ErrorPaths::kSource);
    return Status();
  }
  auto root = std::make_unique<DirNode>();
  if (fstat(src_root_.get(), &root->st) != 0) {
    RecordSystem("fstat", errno, Path(), ErrorPaths::kSource);
    return Status();
  }
  if (!opts_.dest_exists) {
    if (mkdir(dest_.c_str(), 0700) != 0) {
      RecordSystem("mkdir", errno, Path(), ErrorPaths::kDestination);
      return Status();
    }
    root->created = true;
  }
  // fs.cp follows a symlink at dest only with dereference (cp() has checked
  // that it leads to a directory).
  dest_root_.Reset(OpenAtNoIntr(AT_FDCWD, dest_.c_str(), O_RDONLY | O_DIRECTORY | follow));
  if (dest_root_.get() < 0) {
    RecordSystem("opendir", errno, Path(), ErrorPaths::kDestination);
    return Status();
  }
  struct stat dest_st;
  if (fstat(dest_root_.get(), &dest_st) != 0) {
    RecordSystem("fstat", errno, Path(), ErrorPaths::kDestination);
    return Status();
  }
  dest_dev_ = dest_st.st_dev;
  // Every directory the walk makes below a plain one is plain: it inherits
  // nothing. A directory that was there already is not known to be.
  const unsigned long dest_fs_type = FilesystemType(dest_root_.get());
  root->plain = ModesAsAsked(dest_root_.get(), dest_fs_type, dest_st, &umask_);
  dirs_++;
  root_ = root.release();
  queue_.push_back(Task{root_, true, {}});

  unsigned workers = opts_.concurrency > 0 ? std::min(opts_.concurrency, kMaxWorkers) : DefaultWorkers(dest_fs_type);
  // No more than the descriptors left allow (EMFILE under a low ulimit -n).
  workers = std::min(workers, WorkersForDescriptors());
  std::vector<Thread> threads(workers);
  unsigned started = 0;
  // As many as the OS lets this process have (RLIMIT_NPROC, a cgroup's pids.max).
  while (started < workers && threads[started].Start([this] { Worker(); }) == 0) started++;
  oldest_first_ = OldestFirst(dest_fs_type, std::max(1u, started));
  if (started == 0) {
    // Not one more thread: the walk runs here, without progress reports.
    Worker();
  }

  // This thread reports progress and watches for cancellation.
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (!finished_) {
      done_cv_.wait_for(lock, kProgressEvery);
      if (finished_) break;
      if (cancel_ && cancel_->load() && result_->ok()) {
        result_->kind = TreeErrorKind::kCancelled;
        stop_ = true;
        work_cv_.notify_all();
      }
      if (hooks_) {
        lock.unlock();
        hooks_->Progress(files_.load(), bytes_.load());
        lock.lock();
      }
    }
  }
  for (Thread& t : threads) t.Join();
  delete root_;
  root_ = nullptr;
  if (cancel_ && cancel_->load() && result_->ok()) result_->kind = TreeErrorKind::kCancelled;

  result_->files = files_;
  result_->directories = dirs_;
  result_->symlinks = symlinks_;
  result_->bytes = bytes_;
  result_->skipped = skipped_;
  for (int i = 0; i < 5; i++) result_->by_strategy[i] = by_strategy_[i];
  return Status();
}

}  // namespace

const bool kNativeTree = true;

Status CopyTree(const Path& src, const Path& dest, const TreeOptions& opts, TreeHooks* hooks,
                const std::atomic<bool>* cancel, TreeResult* result) {
  TreeOptions with_cancel = opts;
  with_cancel.file.cancel = cancel;
  Walk walk(src, dest, with_cancel, hooks, cancel, result);
  return walk.Run();
}

}  // namespace cowcopy
