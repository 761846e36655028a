// The tree walk: fs.cp's semantics for every entry, on worker threads, the
// same on every platform. What the OS does is behind tree.h's Fs.
//
// - Work items are a directory to list or a batch of its files; they sit in a
//   bounded queue, taken newest first by one worker, oldest first by several
//   where the platform says so. A worker that finds the queue full keeps the
//   item for itself, to run after it closed what it has open: the number of
//   open directories stays at about four per worker whatever the tree, and
//   memory does not grow with the tree's size.
// - A queued item holds no open directory: directories are opened again
//   from the root by their path (by the platform, refusing symlinks on the
//   way where it can), so a directory swapped for a symlink meanwhile
//   cannot lead a write outside the destination.
// - A directory gets its mode (and timestamps when asked) when everything in
//   it is done: a read-only source directory stays writable while filled.
//   Where the platform says modes come out exactly as asked, a directory is
//   made with its final mode when nobody else could write into it meanwhile.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "copy.h"
#include "thread.h"
#include "tree.h"

namespace cowcopy {
namespace {

using tree::Dir;
using tree::Entry;
using tree::Fs;
using tree::Kind;
using tree::SourceFile;
using tree::Stat;

constexpr size_t kBatch = 64;            // files per work item
constexpr size_t kQueueCapacity = 1024;  // work items waiting for a worker
constexpr unsigned kMaxWorkers = 64;
constexpr auto kProgressEvery = std::chrono::milliseconds(100);

Path Join(const Path& dir, const Path& name) { return dir.empty() ? name : dir + "/" + name; }

struct DirNode {
  DirNode* parent = nullptr;
  Path rel;                     // "" for the root
  std::atomic<int> pending{1};  // its listing, plus every queued item of its own
  bool created = false;         // made by this walk: gets mode and times at the end
  bool mode_set = false;        // made with its final mode already
  bool exact = false;           // its destination makes entries with the exact mode asked
  Stat st;                      // the source directory
};

struct Task {
  DirNode* node = nullptr;
  bool list = true;  // list `node`; else copy `files` of `node`
  std::vector<Entry> files;
};

// preserve 'links': the source files met with more than one link, by
// identity, and where the first of each went. The first to join a group
// copies it; the others wait for that copy to end, then link to it (or,
// when it was not copied, copy on their own). A first copy waits for
// nothing, so no worker waits on another in a cycle.
class LinkGroups {
  enum class State { kCopying, kCopied, kNotCopied };

 public:
  struct First {
    Path dir, name;  // its destination: its directory (rel) and its name
    bool copied = false;
  };

  struct Group {
    First first;
    State state = State::kCopying;
  };

  // Held by the first of a group while it copies it: settles the group, as
  // copied (Copied()) or, when let go before, as not.
  class Claim {
   public:
    Claim() = default;
    Claim(LinkGroups* groups, Group* group) : groups_(groups), group_(group) {}
    Claim(Claim&& o) noexcept : groups_(o.groups_), group_(o.group_) { o.group_ = nullptr; }
    Claim& operator=(Claim&& o) noexcept {
      Settle(false);
      groups_ = o.groups_;
      group_ = o.group_;
      o.group_ = nullptr;
      return *this;
    }
    ~Claim() { Settle(false); }
    bool owner() const { return group_ != nullptr; }
    void Copied() { Settle(true); }

   private:
    void Settle(bool copied) {
      if (group_ != nullptr) groups_->Settle(group_, copied);
      group_ = nullptr;
    }
    LinkGroups* groups_ = nullptr;
    Group* group_ = nullptr;
  };

  // The file `st` at `name` in `dir`: the claim of its group's first, or
  // (waiting for that copy to end) an empty claim and the first in *first.
  Claim Join(const Stat& st, const Path& dir, const Path& name, First* first) {
    std::unique_lock<std::mutex> lock(mu_);
    auto inserted = groups_.try_emplace(std::make_tuple(st.dev, st.ino, st.ino_high));
    Group& group = inserted.first->second;
    if (inserted.second) {
      group.first.dir = dir;
      group.first.name = name;
      return Claim(this, &group);
    }
    cv_.wait(lock, [&group] { return group.state != State::kCopying; });
    *first = group.first;
    return Claim();
  }

 private:
  void Settle(Group* group, bool copied) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      group->state = copied ? State::kCopied : State::kNotCopied;
      group->first.copied = copied;
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::tuple<uint64_t, uint64_t, uint64_t>, Group> groups_;  // by dev, ino, ino_high
};

class Walk {
 public:
  Walk(Fs* fs, const TreeOptions& opts, TreeHooks* hooks, const std::atomic<bool>* cancel, TreeResult* result)
      : fs_(fs), opts_(opts), hooks_(hooks), cancel_(cancel), result_(result) {}

  void Run() {
    if (opts_.whole_clone && !opts_.dest_exists) {
      TreeResult counted;
      bool refused = false;
      Status cloned = fs_->CloneWhole(&counted, &refused);
      // Made by someone else meanwhile: not ours to touch.
      if (cloned.code == fs_->Code(EEXIST)) return RecordSystem(cloned, Path(), ErrorPaths::kBoth);
      if (cloned.ok() && !refused) {
        *result_ = counted;
        return;
      }
      // The OS cannot clone this directory here, or the clone holds a FIFO, a
      // socket or a device, which fs.cp refuses: what it made goes, and the
      // walk copies file by file (and stops where fs.cp stops, with its error).
      Status removed = fs_->RemoveDestRoot();
      if (!removed.ok()) return RecordSystem(removed, Path(), ErrorPaths::kDestination);
    }
    auto root = std::make_unique<DirNode>();
    std::unique_ptr<Dir> src_root, dest_root;
    Status s = fs_->OpenSourceRoot(opts_.dereference, &src_root, &root->st);
    if (!s.ok()) return RecordSystem(s, Path(), ErrorPaths::kSource);
    if (!opts_.dest_exists) {
      if (!(s = fs_->MakeDestRoot()).ok()) return RecordSystem(s, Path(), ErrorPaths::kDestination);
      root->created = true;
    }
    // fs.cp follows a symlink at dest only with dereference (cp() has checked
    // that it leads to a directory).
    Stat dest_st;
    if (!(s = fs_->OpenDestRoot(opts_.dereference, &dest_root, &dest_st)).ok())
      return RecordSystem(s, Path(), ErrorPaths::kDestination);
    // Every directory the walk makes below an exact one is exact: it inherits
    // nothing. A directory that was there already is not known to be.
    root->exact = fs_->ExactModes(*dest_root, dest_st);
    const tree::WorkerPolicy policy = fs_->Policy(*dest_root);
    src_root.reset();
    dest_root.reset();
    dirs_++;
    queue_.push_back(Task{root.get(), true, {}});

    unsigned workers = opts_.concurrency > 0 ? opts_.concurrency : policy.workers;
    workers = std::max(1u, std::min({workers, policy.most, kMaxWorkers}));
    std::vector<Thread> threads(workers);
    unsigned started = 0;
    // As many as the OS lets this process have (RLIMIT_NPROC, a cgroup's pids.max).
    while (started < workers && threads[started].Start([this] { Worker(); }) == 0) started++;
    oldest_first_ = started > 1 && policy.oldest_first;
    // Not one more thread: the walk runs here, without progress reports.
    if (started == 0) Worker();

    // This thread reports progress and watches for cancellation.
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!finished_) {
        done_cv_.wait_for(lock, kProgressEvery);
        if (finished_) break;
        if (Cancelled() && result_->ok()) {
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
    if (Cancelled() && result_->ok()) result_->kind = TreeErrorKind::kCancelled;

    result_->files = files_;
    result_->directories = dirs_;
    result_->symlinks = symlinks_;
    result_->bytes = bytes_;
    result_->skipped = skipped_;
    result_->specials = specials_;
    for (int i = 0; i < 5; i++) result_->by_strategy[i] = by_strategy_[i];
  }

 private:
  bool Cancelled() const { return cancel_ != nullptr && cancel_->load(); }
  bool Stopped() const { return stop_.load(std::memory_order_relaxed) || Cancelled(); }
  // An OS error about one side of an entry, or both.
  void RecordSystem(const Status& status, const Path& rel, ErrorPaths paths) {
    Record(TreeErrorKind::kSystem, status, rel, paths);
  }
  // An fs.cp error (kind other than kSystem): it names the destination.
  void RecordCp(TreeErrorKind kind, const Path& rel, const Path& link_src = Path(), const Path& link_dest = Path()) {
    Record(kind, Status(), rel, ErrorPaths::kDestination, link_src, link_dest);
  }
  bool Exists(const Status& s) const { return s.code == fs_->Code(EEXIST); }

  void Record(TreeErrorKind kind, const Status& status, const Path& rel, ErrorPaths paths,
              const Path& link_src = Path(), const Path& link_dest = Path()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!result_->ok()) return;  // the first error is the one reported
      // A copy stopped by the abort (CopyOptions::cancel) is the abort.
      if (status.code == fs_->Code(ECANCELED) && Cancelled()) kind = TreeErrorKind::kCancelled;
      result_->kind = kind;
      result_->status = status;
      result_->rel = rel;
      result_->paths = paths;
      result_->link_src = link_src;
      result_->link_dest = link_dest;
    }
    stop_ = true;
  }

  void Push(Task task, std::vector<Task>* own) {
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

  bool Pop(Task* task) {
    std::unique_lock<std::mutex> lock(mu_);
    work_cv_.wait(lock, [this] { return !queue_.empty() || finished_; });
    if (queue_.empty()) return false;
    *task = std::move(oldest_first_ ? queue_.front() : queue_.back());
    oldest_first_ ? queue_.pop_front() : queue_.pop_back();
    return true;
  }

  void Worker() {
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

  void Execute(Task& task, std::vector<Task>* own) {
    DirNode* node = task.node;
    // Stopped: still accounted for, so every node is completed and freed.
    if (Stopped()) return Done(node);
    if (task.list) return ListDir(node, own);
    std::unique_ptr<Dir> sdir, ddir;
    if (OpenPair(node, &sdir, &ddir)) CopyFiles(node, *sdir, *ddir, task.files);
    Done(node);
  }

  // Opens node's source and destination directories: false when either failed (recorded).
  bool OpenPair(DirNode* node, std::unique_ptr<Dir>* sdir, std::unique_ptr<Dir>* ddir) {
    Status s = fs_->OpenSource(node->rel, sdir);
    if (!s.ok()) {
      RecordSystem(s, node->rel, ErrorPaths::kSource);
    } else if (!(s = fs_->OpenDest(node->rel, ddir)).ok()) {
      RecordSystem(s, node->rel, ErrorPaths::kDestination);
    }
    return s.ok();
  }

  void ListDir(DirNode* node, std::vector<Task>* own) {
    std::unique_ptr<Dir> sdir, ddir;
    if (!OpenPair(node, &sdir, &ddir)) return Done(node);
    // A directory that was there: what a killed copy left in it goes.
    if (!node->created) RemoveLeftovers(*ddir);

    std::vector<Entry> entries;
    Status s = fs_->List(*sdir, &entries);
    if (!s.ok()) return Fail(node, s, node->rel);

    // The filter first: fs.cp asks it before it looks at the entry.
    if (hooks_ && hooks_->has_filter() && !entries.empty()) {
      std::vector<FilterEntry> asked;
      asked.reserve(entries.size());
      for (const Entry& e : entries) asked.push_back({e.name, e.kind == Kind::kDirectory, true});
      if (!hooks_->Filter(node->rel, &asked)) {
        RecordCp(Cancelled() ? TreeErrorKind::kCancelled : TreeErrorKind::kFilter, node->rel);
        return Done(node);
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

    // Kinds the listing did not give, or that dereference changes.
    for (Entry& e : entries) {
      if (e.kind != Kind::kUnknown && !(opts_.dereference && e.kind == Kind::kSymlink)) continue;
      Stat st;
      if (!(s = fs_->StatAt(*sdir, e.name, opts_.dereference, &st)).ok()) return Fail(node, s, Join(node->rel, e.name));
      e.kind = st.kind;
    }

    // Directories first, so idle workers get them while this one copies files.
    std::vector<Entry> batch;
    for (const Entry& e : entries) {
      if (Stopped()) break;
      if (e.kind == Kind::kDirectory) MakeChildDir(node, *sdir, *ddir, e, own);
    }
    for (Entry& e : entries) {
      if (Stopped()) break;
      switch (e.kind) {
        case Kind::kDirectory:
          break;
        case Kind::kFile:
          batch.push_back(std::move(e));
          if (batch.size() == kBatch) {
            node->pending++;
            Push(Task{node, false, std::move(batch)}, own);
            batch.clear();
          }
          break;
        case Kind::kSymlink:
          CopySymlink(node, *sdir, *ddir, e);
          break;
        default:
          if (opts_.special == Special::kSkip) {
            skipped_++;
          } else if (opts_.special == Special::kRecreate) {
            CopySpecial(node, *sdir, *ddir, e);
          } else {
            // Devices are unknownType too: reading one has no end (fs.cp would
            // copy /dev/zero forever).
            RecordCp(e.kind == Kind::kFifo     ? TreeErrorKind::kFifo
                     : e.kind == Kind::kSocket ? TreeErrorKind::kSocket
                                               : TreeErrorKind::kUnknownType,
                     Join(node->rel, e.name));
          }
          break;
      }
    }
    if (!Stopped()) CopyFiles(node, *sdir, *ddir, batch);
    // Often the last item of this directory: finish it with what is open.
    Done(node, ddir.get());
  }

  // The temporaries of a killed copy (IsLeftoverTemp) in a destination directory.
  void RemoveLeftovers(Dir& ddir) {
    std::vector<Entry> entries;
    if (!fs_->List(ddir, &entries).ok()) return;
    for (const Entry& e : entries) {
      if (e.kind != Kind::kDirectory && IsLeftoverTemp(e.name)) fs_->Remove(ddir, e.name);
    }
  }

  // ListDir gives up on node: a source-side error, then node's item is over.
  void Fail(DirNode* node, const Status& status, const Path& rel) {
    RecordSystem(status, rel, ErrorPaths::kSource);
    Done(node);
  }

  void MakeChildDir(DirNode* node, Dir& sdir, Dir& ddir, const Entry& e, std::vector<Task>* own) {
    Path rel = Join(node->rel, e.name);
    auto child = std::make_unique<DirNode>();
    child->parent = node;
    child->rel = rel;
    Status s = fs_->StatAt(sdir, e.name, opts_.dereference, &child->st);
    if (!s.ok()) return RecordSystem(s, rel, ErrorPaths::kSource);
    if (opts_.dereference) {
      // A symlink back to an ancestor would never end.
      for (const DirNode* up = node; up != nullptr; up = up->parent) {
        if (up->st.Same(child->st))
          return Record(TreeErrorKind::kLoop, {fs_->Code(ELOOP), "cp"}, rel, ErrorPaths::kBoth);
      }
    }
    // Made with its final mode where that comes out exact, lets the owner fill
    // it and nobody else write into it meanwhile; otherwise owner-only until
    // its contents are done, its own mode last.
    const uint32_t mode = child->st.mode & 07777;
    bool final = node->exact && (mode & ~01777u) == 0 && (mode & 0700) == 0700 && (mode & 0022) == 0;
    s = fs_->MakeDir(ddir, e.name, mode, &final);
    if (s.ok()) {
      child->created = true;
      child->mode_set = final;
      child->exact = node->exact;  // nothing it could have inherited
    } else if (Exists(s)) {
      Stat dst;
      if (!(s = fs_->StatAt(ddir, e.name, false, &dst)).ok()) return RecordSystem(s, rel, ErrorPaths::kDestination);
      if (child->st.Same(dst)) return RecordCp(TreeErrorKind::kSameFile, rel);
      // Never into a symlink planted at dest, nor over a file.
      if (dst.kind != Kind::kDirectory) return RecordCp(TreeErrorKind::kDirToNonDir, rel);
      if (opts_.error_on_existing_dir) return RecordCp(TreeErrorKind::kExists, rel);
    } else {
      return RecordSystem(s, rel, ErrorPaths::kDestination);
    }
    dirs_++;
    node->pending++;
    Push(Task{child.release(), true, {}}, own);
  }

  void CopyFiles(DirNode* node, Dir& sdir, Dir& ddir, const std::vector<Entry>& files) {
    for (const Entry& e : files) {
      if (Stopped()) return;
      opts_.file.request == Request::kHardlink ? LinkFile(node, sdir, ddir, e) : CopyFile(node, sdir, ddir, e);
    }
  }

  // An existing entry at dest (its stat in *dst): false when the caller must
  // not write it. `src`: the source, refused when dest is the same file;
  // `times`: the source whose mtime update 'older' compares, when not src.
  bool MayReplace(Dir& ddir, const Entry& e, const Path& rel, const Stat* src, Stat* dst, const Stat* times = nullptr) {
    Status s = fs_->StatAt(ddir, e.name, false, dst);
    if (!s.ok()) {
      RecordSystem(s, rel, ErrorPaths::kDestination);
    } else if (src != nullptr && src->Same(*dst)) {
      RecordCp(TreeErrorKind::kSameFile, rel);
    } else if (dst->kind == Kind::kDirectory) {
      RecordCp(TreeErrorKind::kNonDirToDir, rel);
    } else if (opts_.force) {
      if (Updates(times != nullptr ? times : src, *dst)) return true;
      skipped_++;
    } else if (opts_.error_on_exist) {
      RecordCp(TreeErrorKind::kExists, rel);
    } else {
      skipped_++;
    }
    return false;
  }

  // Whether opts_.update lets the source (its stat: src) replace dst: 'older'
  // when dst's mtime is more than 2 µs before src's (lib/walk.ts says why).
  bool Updates(const Stat* src, const Stat& dst) const {
    if (opts_.update != Update::kOlder) return opts_.update == Update::kAll;
    return (src->mtime_sec - dst.mtime_sec) * 1000000000 + (src->mtime_nsec - dst.mtime_nsec) > 2000;
  }

  // Makes the entry under a temporary name with `make`, then renames it over
  // the existing one: either the old entry or the new one is there, always.
  // `link_target`: the entry is a symlink to it (what a failure names).
  bool ReplaceAt(Dir& ddir, const Entry& e, const Path& rel, const std::function<Status(const Path&)>& make,
                 const Path& link_target = Path()) {
    Path temp;
    Status status{fs_->Code(EEXIST), "open"};
    for (int attempt = 0; attempt < 16 && Exists(status); attempt++) {
      temp = TempName("tree");
      status = make(temp);
    }
    if (!status.ok()) {
      Record(TreeErrorKind::kSystem, status, rel, link_target.empty() ? ErrorPaths::kBoth : ErrorPaths::kLinkTarget,
             link_target);
      return false;
    }
    Status renamed = fs_->Rename(ddir, temp, e.name);
    if (renamed.ok()) return true;
    fs_->Remove(ddir, temp);
    RecordSystem(renamed, rel, ErrorPaths::kBoth);
    return false;
  }

  // With update: a file at dest that stays is skipped on two stats, the
  // source never opened (what is not skipped here takes the usual path).
  bool KeepsExisting(Dir& sdir, Dir& ddir, const Entry& e) {
    Stat src, dst;
    if (opts_.update == Update::kAll || !opts_.force || !fs_->StatAt(ddir, e.name, false, &dst).ok() ||
        dst.kind == Kind::kDirectory || !fs_->StatAt(sdir, e.name, opts_.dereference, &src).ok() || src.Same(dst) ||
        Updates(&src, dst))
      return false;
    skipped_++;
    return true;
  }

  void CopyFile(DirNode* node, Dir& sdir, Dir& ddir, const Entry& e) {
    if (KeepsExisting(sdir, ddir, e)) return;
    Path rel = Join(node->rel, e.name);
    std::unique_ptr<SourceFile> file;
    Status status = fs_->OpenFile(sdir, e.name, opts_.dereference, &file);
    // fs.cp's errors for a file come from copyFile.
    if (!status.ok()) return RecordSystem({status.code, "copyfile"}, rel, ErrorPaths::kBoth);
    // preserve 'links': the first of a group is copied, the others linked to it.
    LinkGroups::Claim claim;
    if ((opts_.preserve & kLinks) != 0 && file->stat.nlink > 1) {
      LinkGroups::First first;
      claim = links_.Join(file->stat, node->rel, e.name, &first);
      if (!claim.owner() && first.copied) return LinkToFirst(ddir, e, rel, file->stat, first);
    }
    CopyResult copied;
    status = fs_->CopyInto(*file, ddir, e.name, node->exact, opts_.file, &copied);
    if (Exists(status)) {
      Stat dst;
      if (!MayReplace(ddir, e, rel, &file->stat, &dst)) return;
      // A clone of the source already there (a copy refreshed) stays, its
      // data untouched; else a new file is renamed over it.
      bool clones = opts_.file.request == Request::kAuto || opts_.file.request == Request::kReflink;
      bool replaced = (clones && fs_->RefreshClone(*file, ddir, e.name, opts_.file, &copied)) ||
                      ReplaceAt(ddir, e, rel, [&](const Path& temp) {
                        Status s = fs_->CopyInto(*file, ddir, temp, false, opts_.file, &copied);
                        return s.ok() || Exists(s) ? s : Status{s.code, "copyfile"};
                      });
      if (!replaced) return;
    } else if (!status.ok()) {
      return RecordSystem({status.code, "copyfile"}, rel, ErrorPaths::kBoth);
    }
    claim.Copied();
    files_++;
    bytes_ += copied.bytes;
    by_strategy_[static_cast<int>(copied.strategy)]++;
  }

  // A file of a link group whose first file was copied to `first`: a link to
  // that copy (one there already stays), counted with no bytes of its own.
  void LinkToFirst(Dir& ddir, const Entry& e, const Path& rel, const Stat& src, const LinkGroups::First& first) {
    std::unique_ptr<Dir> first_dir;
    Status s = fs_->OpenDest(first.dir, &first_dir);
    if (!s.ok()) return RecordSystem(s, rel, ErrorPaths::kDestination);
    s = fs_->LinkInto(*first_dir, first.name, false, ddir, e.name);
    if (Exists(s)) {
      Stat dst, copy;
      const bool linked = fs_->StatAt(ddir, e.name, false, &dst).ok() &&
                          fs_->StatAt(*first_dir, first.name, false, &copy).ok() && dst.Same(copy);
      if (!linked && !(MayReplace(ddir, e, rel, &src, &dst) && ReplaceAt(ddir, e, rel, [&](const Path& temp) {
                         return fs_->LinkInto(*first_dir, first.name, false, ddir, temp);
                       })))
        return;
    } else if (!s.ok()) {
      return RecordSystem(s, rel, ErrorPaths::kBoth);
    }
    files_++;
    by_strategy_[static_cast<int>(Strategy::kHardlink)]++;
  }

  // A FIFO, socket or device made again (special: 'recreate'), or what is
  // there replaced by one; then its owner and times as preserve asks.
  void CopySpecial(DirNode* node, Dir& sdir, Dir& ddir, const Entry& e) {
    Path rel = Join(node->rel, e.name);
    Stat src, dst;
    Status s = fs_->StatAt(sdir, e.name, opts_.dereference, &src);
    if (!s.ok()) return RecordSystem(s, rel, ErrorPaths::kSource);
    auto make = [&](const Path& name) {
      Status made = fs_->MakeSpecial(ddir, name, src);
      if (made.ok() && !(made = SetEntry(ddir, name, src)).ok()) fs_->Remove(ddir, name);
      return made;
    };
    s = make(e.name);
    if (Exists(s)) {
      if (!MayReplace(ddir, e, rel, &src, &dst) || !ReplaceAt(ddir, e, rel, make)) return;
    } else if (!s.ok()) {
      return RecordSystem(s, rel, ErrorPaths::kBoth);
    }
    specials_++;
  }

  // What preserve asks of an entry that is not opened (a symlink, a special file).
  Status SetEntry(Dir& dir, const Path& name, const Stat& src) {
    const bool times = (opts_.preserve & kTimestamps) != 0, owner = (opts_.preserve & kOwnership) != 0;
    return times || owner ? fs_->SetEntry(dir, name, src, times, owner) : Status();
  }

  void LinkFile(DirNode* node, Dir& sdir, Dir& ddir, const Entry& e) {
    Path rel = Join(node->rel, e.name);
    Stat src, dst;
    Status s = fs_->StatAt(sdir, e.name, opts_.dereference, &src);
    if (!s.ok()) return RecordSystem(s, rel, ErrorPaths::kSource);
    s = fs_->LinkInto(sdir, e.name, opts_.dereference, ddir, e.name);
    if (Exists(s)) {
      bool replaced = MayReplace(ddir, e, rel, &src, &dst) && ReplaceAt(ddir, e, rel, [&](const Path& temp) {
        return fs_->LinkInto(sdir, e.name, opts_.dereference, ddir, temp);
      });
      if (!replaced) return;
    } else if (!s.ok()) {
      return RecordSystem(s, rel, ErrorPaths::kBoth);
    }
    files_++;
    bytes_ += src.size;
    by_strategy_[static_cast<int>(Strategy::kHardlink)]++;
  }

  void CopySymlink(DirNode* node, Dir& sdir, Dir& ddir, const Entry& e) {
    Path rel = Join(node->rel, e.name);
    // The link itself, before readlink moves its atime: its times for update
    // 'older', its times and owner to keep.
    Stat dst, link;
    Status s;
    if ((opts_.update == Update::kOlder || (opts_.preserve & (kTimestamps | kOwnership)) != 0) &&
        !(s = fs_->StatAt(sdir, e.name, false, &link)).ok())
      return RecordSystem(s, rel, ErrorPaths::kSource);
    Path target;
    if (!(s = fs_->ReadLink(sdir, e.name, &target)).ok()) return RecordSystem(s, rel, ErrorPaths::kSource);
    // What fs.cp does without verbatimSymlinks: a relative target becomes
    // absolute, pointing into the source tree.
    const Path link_dir = fs_->Resolve(opts_.src_absolute, rel + "/..");
    if (!opts_.verbatim_symlinks && !fs_->IsAbsolute(target)) target = fs_->Resolve(link_dir, target);
    auto make = [&](const Path& name) {
      Status made = fs_->MakeSymlink(ddir, name, target);
      if (made.ok() && !(made = SetEntry(ddir, name, link)).ok()) fs_->Remove(ddir, name);
      return made;
    };
    s = make(e.name);
    if (s.ok()) {
      symlinks_++;
      return;
    }
    if (!Exists(s)) return Record(TreeErrorKind::kSystem, s, rel, ErrorPaths::kLinkTarget, target);
    // No same-file check here. fs.cp replaces symlinks even without force; an
    // explicit force: false means "overwrite nothing", links included.
    if (!MayReplace(ddir, e, rel, nullptr, &dst, &link)) return;
    // fs.cp: symlink() over an existing file, which is EEXIST.
    if (dst.kind != Kind::kSymlink)
      return Record(TreeErrorKind::kSystem, {fs_->Code(EEXIST), "symlink"}, rel, ErrorPaths::kLinkTarget, target);
    Path existing;
    if (!(s = fs_->ReadLink(ddir, e.name, &existing)).ok()) return RecordSystem(s, rel, ErrorPaths::kDestination);
    const Path dest_dir = fs_->Resolve(opts_.dest_absolute, rel + "/..");
    const Path resolved_src = fs_->Resolve(link_dir, target);
    const Path resolved_dest = fs_->Resolve(dest_dir, existing);
    // fs.cp refuses even a link identical to the one there (its target is
    // "inside itself"); replacing it with the same link harms nothing.
    if (resolved_src != resolved_dest && IsSubdir(resolved_src, resolved_dest))
      return RecordCp(TreeErrorKind::kLinkIntoSelf, rel, target, resolved_dest);
    Stat followed;
    if (fs_->StatAt(sdir, e.name, true, &followed).ok() && followed.kind == Kind::kDirectory &&
        IsSubdir(resolved_dest, resolved_src))
      return RecordCp(TreeErrorKind::kLinkOverSubdir, rel, target, resolved_dest);
    if (ReplaceAt(ddir, e, rel, make, target)) symlinks_++;
  }

  // fs.cp's isSrcSubdir, for paths Resolve gave: every component of `parent`
  // is the same in `child` (case too, as Node compares).
  bool IsSubdir(const Path& parent, const Path& child) const {
    const std::vector<Path> a = tree::Normalized(parent, fs_->Separators());
    const std::vector<Path> b = tree::Normalized(child, fs_->Separators());
    return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
  }

  // One item of node is over; `ddir`, when open, is node's destination.
  void Done(DirNode* node, Dir* ddir = nullptr) {
    if (node->pending.fetch_sub(1) == 1) Complete(node, ddir);
  }

  void Complete(DirNode* node, Dir* ddir) {
    // A directory made here gets its mode and, asked, its times; preserve asks
    // more, of one that was there too.
    tree::Finish what;
    what.mode = node->created ? !node->mode_set : (opts_.preserve & kMode) != 0;
    what.times = node->created ? opts_.file.preserve_timestamps : (opts_.preserve & kTimestamps) != 0;
    what.owner = (opts_.preserve & kOwnership) != 0;
    const bool xattrs = (opts_.preserve & kXattr) != 0;
    if ((what.mode || what.times || what.owner || xattrs) && !Stopped()) {
      std::unique_ptr<Dir> reopened, source;
      Status s;
      if (ddir == nullptr) {
        s = fs_->OpenDest(node->rel, &reopened);
        ddir = reopened.get();
      }
      if (s.ok() && xattrs && (s = fs_->OpenSource(node->rel, &source)).ok()) what.xattrs_from = source.get();
      if (s.ok()) s = fs_->FinishDir(*ddir, node->st, what);
      if (!s.ok()) RecordSystem(s, node->rel, ErrorPaths::kDestination);
    }
    DirNode* parent = node->parent;
    if (parent != nullptr) {
      delete node;
      return Done(parent);
    }
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    work_cv_.notify_all();
    done_cv_.notify_all();
  }

  Fs* fs_;
  const TreeOptions& opts_;
  TreeHooks* hooks_;
  const std::atomic<bool>* cancel_;
  TreeResult* result_;

  bool oldest_first_ = false;

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Task> queue_;
  bool finished_ = false;
  std::atomic<bool> stop_{false};

  std::atomic<uint64_t> files_{0}, dirs_{0}, symlinks_{0}, bytes_{0}, skipped_{0}, specials_{0};
  LinkGroups links_;
  std::atomic<uint64_t> by_strategy_[5] = {};
};

}  // namespace

// copy.h's temporary names: here, where every platform with a walk shares them.
Path TempName(const char* tag) {
  static std::atomic<unsigned> counter{0};
  return Path(".cowcopy-") + tag + "-" + std::to_string(ProcessId()) + "-" + std::to_string(counter.fetch_add(1));
}

bool IsLeftoverTemp(const Path& name) {
  // .cowcopy-<tag>-<pid>-<n>: tag in a-z, pid (10 digits at most) and n digits.
  static const char kPrefix[] = ".cowcopy-", kDigits[] = "0123456789";
  // Whether name[from, to) is one character or more, each from `set`.
  auto only = [&name](size_t from, size_t to, const char* set) {
    return from < to && name.find_first_not_of(set, from) >= to;
  };
  // Past the first and the second '-' after the prefix; 0 where one is missing (npos + 1).
  const size_t tag = strlen(kPrefix), pid_start = name.find('-', tag) + 1, n_start = name.find('-', pid_start) + 1;
  if (name.compare(0, tag, kPrefix) != 0 || pid_start == 0 || n_start == 0 ||
      !only(tag, pid_start - 1, "abcdefghijklmnopqrstuvwxyz") || !only(pid_start, n_start - 1, kDigits) ||
      n_start - pid_start > 11 || !only(n_start, name.size(), kDigits))
    return false;
  const uint64_t pid = std::stoull(name.substr(pid_start, n_start - 1 - pid_start));
  return pid != 0 && pid <= 0xFFFFFFFFull && pid != ProcessId() && ProcessEnded(pid);
}

std::vector<Path> tree::Normalized(const Path& p, const char* separators) {
  std::vector<Path> parts;
  for (size_t i = 0, j = 0; i <= p.size(); i = j + 1) {
    j = std::min(p.find_first_of(separators, i), p.size());
    Path part = p.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
  }
  return parts;
}

void CopyTree(const Path& src, const Path& dest, const TreeOptions& opts, TreeHooks* hooks,
              const std::atomic<bool>* cancel, TreeResult* result) {
  std::unique_ptr<tree::Fs> fs = tree::MakeFs(src, dest, opts.dereference);
  TreeOptions walk_opts = opts;
  walk_opts.file.cancel = cancel;
  // What preserve asks of each file, its copy gives it (FinishMetadata).
  walk_opts.file.preserve_ownership = (opts.preserve & kOwnership) != 0;
  walk_opts.file.preserve_xattr = (opts.preserve & kXattr) != 0;
  Walk walk(fs.get(), walk_opts, hooks, cancel, result);
  walk.Run();
}

}  // namespace cowcopy
