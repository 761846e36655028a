// Node-API glue only: argument unpacking, async workers, module init.
// Everything that talks to the OS is behind copy.h. Results cross as plain
// objects ({ errno, syscall } on failure); lib/ builds the Error from them.
#include <napi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "copy.h"

namespace cowcopy {
namespace {

// Bumped whenever the shape below changes; lib/binding.ts checks it.
constexpr int kAbi = 2;

// npm run test:asan checks that the sanitized build is the one it tests.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Bits of the flags argument (lib/native.ts).
enum Flags : uint32_t {
  kFlagNoOverwrite = 1,
  kFlagPreserveTimestamps = 2,
  kFlagSameFileOk = 4,
  kFlagNoKernelCopy = 8,
  kFlagReplace = 16,
  kFlagNoOwnClone = 32,
};

bool ToPath(const Napi::Value& value, Path* out) {
  if (value.IsString()) {
    *out = value.As<Napi::String>().Utf8Value();
    return true;
  }
  if (value.IsTypedArray()) {
    Napi::TypedArray array = value.As<Napi::TypedArray>();
    if (array.TypedArrayType() != napi_uint8_array) return false;
    Napi::Uint8Array bytes = array.As<Napi::Uint8Array>();
    out->assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ElementLength());
    return true;
  }
  return false;
}

Napi::Value ThrowType(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Fills the object with { errno, syscall[, sameFile] } when status failed.
void SetStatus(Napi::Object obj, const Status& status) {
  Napi::Env env = obj.Env();
  obj.Set("errno", Napi::Number::New(env, status.code));
  if (status.ok()) return;
  obj.Set("syscall", Napi::String::New(env, status.syscall ? status.syscall : "copyfile"));
  if (status.same_file) obj.Set("sameFile", Napi::Boolean::New(env, true));
}

Napi::Object CopyResultToJs(Napi::Env env, const Status& status, const CopyResult& result) {
  Napi::Object obj = Napi::Object::New(env);
  SetStatus(obj, status);
  if (status.ok()) {
    obj.Set("strategy", Napi::Number::New(env, static_cast<int>(result.strategy)));
    obj.Set("bytes", Napi::Number::New(env, static_cast<double>(result.bytes)));
  }
  return obj;
}

Napi::Object VolumeToJs(Napi::Env env, const Status& status, const VolumeInfo& info) {
  Napi::Object obj = Napi::Object::New(env);
  SetStatus(obj, status);
  if (status.ok()) {
    obj.Set("fsType", Napi::Number::New(env, static_cast<double>(info.fs_type)));
    obj.Set("fsName", Napi::String::New(env, info.fs_name));
    obj.Set("reflink", Napi::Boolean::New(env, info.reflink));
    obj.Set("hardlink", Napi::Boolean::New(env, info.hardlink));
    obj.Set("kernelCopy", Napi::Boolean::New(env, info.kernel_copy));
    obj.Set("writable", Napi::Boolean::New(env, info.writable));
  }
  return obj;
}

// (src, dest, request, flags): the arguments of copyFile and copyFileSync.
bool ParseCopyArgs(const Napi::CallbackInfo& info, Path* src, Path* dest, CopyOptions* opts) {
  if (info.Length() < 4 || !ToPath(info[0], src) || !ToPath(info[1], dest) ||
      !info[2].IsNumber() || !info[3].IsNumber()) {
    ThrowType(info.Env(), "copyFile(src, dest, request, flags): paths are strings or Buffers");
    return false;
  }
  int request = info[2].As<Napi::Number>().Int32Value();
  uint32_t flags = info[3].As<Napi::Number>().Uint32Value();
  if (request < 0 || request > static_cast<int>(Request::kCopy)) {
    ThrowType(info.Env(), "copyFile: unknown request");
    return false;
  }
  opts->request = static_cast<Request>(request);
  opts->overwrite = (flags & kFlagNoOverwrite) == 0;
  opts->preserve_timestamps = (flags & kFlagPreserveTimestamps) != 0;
  opts->same_file_ok = (flags & kFlagSameFileOk) != 0;
  opts->no_kernel_copy = (flags & kFlagNoKernelCopy) != 0;
  opts->replace = (flags & kFlagReplace) != 0;
  opts->no_own_clone = (flags & kFlagNoOwnClone) != 0;
  return true;
}

class CopyWorker : public Napi::AsyncWorker {
 public:
  CopyWorker(Napi::Env env, Path src, Path dest, CopyOptions opts)
      : Napi::AsyncWorker(env, "cowcopy:copyFile"),
        deferred_(Napi::Promise::Deferred::New(env)),
        src_(std::move(src)),
        dest_(std::move(dest)),
        opts_(opts) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override { status_ = CopyOneFile(src_, dest_, opts_, &result_); }
  void OnOK() override { deferred_.Resolve(CopyResultToJs(Env(), status_, result_)); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Path src_, dest_;
  CopyOptions opts_;
  Status status_;
  CopyResult result_;
};

class ProbeWorker : public Napi::AsyncWorker {
 public:
  ProbeWorker(Napi::Env env, Path path)
      : Napi::AsyncWorker(env, "cowcopy:probe"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override { status_ = ProbeVolume(path_, &info_); }
  void OnOK() override { deferred_.Resolve(VolumeToJs(Env(), status_, info_)); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Path path_;
  Status status_;
  VolumeInfo info_;
};

Napi::Value CopyFileAsync(const Napi::CallbackInfo& info) {
  Path src, dest;
  CopyOptions opts;
  if (!ParseCopyArgs(info, &src, &dest, &opts)) return info.Env().Undefined();
  auto* worker = new CopyWorker(info.Env(), std::move(src), std::move(dest), opts);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value CopyFileSync(const Napi::CallbackInfo& info) {
  Path src, dest;
  CopyOptions opts;
  if (!ParseCopyArgs(info, &src, &dest, &opts)) return info.Env().Undefined();
  CopyResult result;
  Status status = CopyOneFile(src, dest, opts, &result);
  return CopyResultToJs(info.Env(), status, result);
}

Napi::Value ProbeAsync(const Napi::CallbackInfo& info) {
  Path path;
  if (info.Length() < 1 || !ToPath(info[0], &path))
    return ThrowType(info.Env(), "probe(path): path is a string or Buffer");
  auto* worker = new ProbeWorker(info.Env(), std::move(path));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value ProbeSync(const Napi::CallbackInfo& info) {
  Path path;
  if (info.Length() < 1 || !ToPath(info[0], &path))
    return ThrowType(info.Env(), "probeSync(path): path is a string or Buffer");
  VolumeInfo volume;
  Status status = ProbeVolume(path, &volume);
  return VolumeToJs(info.Env(), status, volume);
}

// ---- copyTree(src, dest, options, filter, progress) -> { promise, cancel } ----

// One answer from the JavaScript filter, waited for by a worker thread. It
// owns its entries: a walk that is cancelled stops waiting and goes on, while
// JavaScript may still read them and answer into them later.
struct FilterRequest {
  Path rel;
  std::vector<FilterEntry> entries;
  std::mutex mu;
  std::condition_variable cv;
  bool answered = false;
  bool ok = false;
};

struct ProgressUpdate {
  uint64_t files;
  uint64_t bytes;
};

// What a walk shares with JavaScript: the cancel flag (set by cancel(), or
// when the environment goes away) and the two thread-safe functions.
class TreeJob : public TreeHooks {
 public:
  TreeJob(Napi::Env env, Napi::Value filter, Napi::Value progress) {
    if (filter.IsFunction()) {
      filter_ = Napi::ThreadSafeFunction::New(env, filter.As<Napi::Function>(), "cowcopy:filter", 0, 1);
      has_filter_ = true;
    }
    if (progress.IsFunction()) {
      progress_ = Napi::ThreadSafeFunction::New(env, progress.As<Napi::Function>(), "cowcopy:progress", 0, 1);
      has_progress_ = true;
    }
  }

  std::atomic<bool> cancel{false};

  bool has_filter() const override { return has_filter_; }

  bool Filter(const Path& rel, std::vector<FilterEntry>* entries) override {
    auto request = std::make_shared<FilterRequest>();
    request->rel = rel;
    request->entries = *entries;
    auto* held = new std::shared_ptr<FilterRequest>(request);
    if (filter_.BlockingCall(held, CallFilter) != napi_ok) {
      delete held;  // the environment is going away
      return false;
    }
    std::unique_lock<std::mutex> lock(request->mu);
    while (!request->answered) {
      // JavaScript may never answer once cancelled: look up now and then.
      if (request->cv.wait_for(lock, std::chrono::milliseconds(50)) == std::cv_status::timeout && cancel.load())
        return false;
    }
    if (request->ok) *entries = std::move(request->entries);
    return request->ok;
  }

  void Progress(uint64_t files, uint64_t bytes) override {
    if (!has_progress_) return;
    auto* update = new ProgressUpdate{files, bytes};
    if (progress_.NonBlockingCall(update, CallProgress) != napi_ok) delete update;
  }

  // Called on the walk's thread when it is over: JavaScript is not called again.
  void Release() {
    if (has_filter_) filter_.Release();
    if (has_progress_) progress_.Release();
  }

 private:
  // With request->mu held.
  static void Settle(FilterRequest* request, bool ok) {
    request->ok = ok;
    request->answered = true;
    request->cv.notify_all();
  }

  static void Answer(const std::shared_ptr<FilterRequest>& request, bool ok) {
    std::lock_guard<std::mutex> lock(request->mu);
    if (!request->answered) Settle(request.get(), ok);
  }

  // Main thread: filter(rel, names, isDir, done); done(ok, keep[]) answers.
  static void CallFilter(Napi::Env env, Napi::Function fn, std::shared_ptr<FilterRequest>* held) {
    std::shared_ptr<FilterRequest> request = std::move(*held);
    delete held;
    if (env == nullptr) {
      Answer(request, false);
      return;
    }
    const std::vector<FilterEntry>& entries = request->entries;
    Napi::Array names = Napi::Array::New(env, entries.size());
    Napi::Array dirs = Napi::Array::New(env, entries.size());
    for (uint32_t i = 0; i < entries.size(); i++) {
      names.Set(i, Napi::String::New(env, entries[i].name));
      dirs.Set(i, Napi::Boolean::New(env, entries[i].is_dir));
    }
    Napi::Function done = Napi::Function::New(env, [request](const Napi::CallbackInfo& info) {
      bool ok = info.Length() >= 2 && info[0].ToBoolean().Value() && info[1].IsArray();
      // Read into a copy first: JavaScript runs here (getters) and may call
      // done() again. Only this thread sets `answered`, and the worker leaves
      // the entries alone until it is set.
      std::vector<bool> keep;
      if (ok) {
        Napi::Array given = info[1].As<Napi::Array>();
        keep.assign(request->entries.size(), true);
        for (uint32_t i = 0; i < keep.size() && i < given.Length(); i++) keep[i] = given.Get(i).ToBoolean().Value();
      }
      std::lock_guard<std::mutex> lock(request->mu);
      if (request->answered) return;
      for (size_t i = 0; i < keep.size(); i++) request->entries[i].keep = keep[i];
      Settle(request.get(), ok);
    });
    fn.Call({Napi::String::New(env, request->rel), names, dirs, done});
    if (env.IsExceptionPending()) {
      env.GetAndClearPendingException();
      Answer(request, false);
    }
  }

  static void CallProgress(Napi::Env env, Napi::Function fn, ProgressUpdate* update) {
    if (env != nullptr) {
      fn.Call({Napi::Number::New(env, static_cast<double>(update->files)),
               Napi::Number::New(env, static_cast<double>(update->bytes))});
      if (env.IsExceptionPending()) env.GetAndClearPendingException();
    }
    delete update;
  }

  Napi::ThreadSafeFunction filter_, progress_;
  bool has_filter_ = false;
  bool has_progress_ = false;
};

Napi::Object TreeResultToJs(Napi::Env env, const TreeResult& r) {
  Napi::Object obj = Napi::Object::New(env);
  SetStatus(obj, r.status);
  obj.Set("kind", Napi::Number::New(env, static_cast<int>(r.kind)));
  if (!r.ok()) {
    obj.Set("rel", Napi::String::New(env, r.rel));
    obj.Set("withDest", Napi::Boolean::New(env, r.with_dest));
    if (!r.link_src.empty()) obj.Set("linkSrc", Napi::String::New(env, r.link_src));
    if (!r.link_dest.empty()) obj.Set("linkDest", Napi::String::New(env, r.link_dest));
  }
  obj.Set("files", Napi::Number::New(env, static_cast<double>(r.files)));
  obj.Set("directories", Napi::Number::New(env, static_cast<double>(r.directories)));
  obj.Set("symlinks", Napi::Number::New(env, static_cast<double>(r.symlinks)));
  obj.Set("bytes", Napi::Number::New(env, static_cast<double>(r.bytes)));
  obj.Set("skipped", Napi::Number::New(env, static_cast<double>(r.skipped)));
  Napi::Array strategies = Napi::Array::New(env, 5);
  for (uint32_t i = 0; i < 5; i++) strategies.Set(i, Napi::Number::New(env, static_cast<double>(r.by_strategy[i])));
  obj.Set("strategies", strategies);
  return obj;
}

// One cp() walk. It runs on a thread of its own, not on libuv's pool: its
// workers may wait for the JavaScript filter, and a filter that awaits
// fs.promises needs the pool (walks holding pool threads could take all of
// it, and every other fs call of the process would wait for them too). Its
// end reaches JavaScript through a thread-safe function; the thread is
// joined there, or when the environment goes away (after cancelling).
class TreeCall {
 public:
  TreeCall(Napi::Env env, Path src, Path dest, TreeOptions opts, std::shared_ptr<TreeJob> job)
      : deferred_(Napi::Promise::Deferred::New(env)),
        src_(std::move(src)),
        dest_(std::move(dest)),
        opts_(std::move(opts)),
        job_(std::move(job)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  // Main thread. On failure nothing was started and the caller deletes it.
  bool Start(Napi::Env env) {
    if (napi_create_threadsafe_function(env, nullptr, nullptr, Napi::String::New(env, "cowcopy:copyTree"), 0, 1,
                                        nullptr, nullptr, this, Finish, &done_) != napi_ok)
      return false;
    napi_add_env_cleanup_hook(env, Teardown, this);
    thread_ = std::thread([this] { Run(); });
    return true;
  }

 private:
  void Run() {
    status_ = CopyTree(src_, dest_, opts_, job_.get(), &job_->cancel, &result_);
    job_->Release();
    napi_threadsafe_function done = done_;
    // Teardown joins this thread before the environment closes the
    // thread-safe function, so the call is queued; Finish then runs with or
    // without an environment, and deletes this.
    napi_call_threadsafe_function(done, nullptr, napi_tsfn_blocking);
    napi_release_threadsafe_function(done, napi_tsfn_release);
  }

  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // Main thread, once the walk is over (env is null when the environment is
  // being torn down: nobody is left to tell).
  static void Finish(napi_env env, napi_value, void* context, void*) {
    auto* call = static_cast<TreeCall*>(context);
    call->Join();
    if (env != nullptr) {
      napi_remove_env_cleanup_hook(env, Teardown, call);
      Napi::HandleScope scope(env);
      if (!call->status_.ok()) call->result_.status = call->status_;
      call->deferred_.Resolve(TreeResultToJs(Napi::Env(env), call->result_));
    }
    delete call;
  }

  // A worker thread that ends (or a process that exits) stops its walks.
  static void Teardown(void* arg) {
    auto* call = static_cast<TreeCall*>(arg);
    call->job_->cancel = true;
    call->Join();
  }

  Napi::Promise::Deferred deferred_;
  Path src_, dest_;
  TreeOptions opts_;
  std::shared_ptr<TreeJob> job_;
  Status status_;
  TreeResult result_;
  napi_threadsafe_function done_ = nullptr;
  std::thread thread_;
};

bool GetBool(const Napi::Object& o, const char* key) { return o.Get(key).ToBoolean().Value(); }

Napi::Value CopyTreeAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Path src, dest, src_absolute;
  if (info.Length() < 5 || !ToPath(info[0], &src) || !ToPath(info[1], &dest) || !info[2].IsObject())
    return ThrowType(env, "copyTree(src, dest, options, filter, progress)");
  Napi::Object o = info[2].As<Napi::Object>();
  if (!ToPath(o.Get("srcAbsolute"), &src_absolute)) return ThrowType(env, "copyTree: options.srcAbsolute");
  TreeOptions opts;
  int request = o.Get("request").ToNumber().Int32Value();
  if (request < 0 || request > static_cast<int>(Request::kCopy)) return ThrowType(env, "copyTree: unknown request");
  opts.file.request = static_cast<Request>(request);
  uint32_t flags = o.Get("flags").ToNumber().Uint32Value();
  opts.file.preserve_timestamps = (flags & kFlagPreserveTimestamps) != 0;
  opts.file.no_kernel_copy = (flags & kFlagNoKernelCopy) != 0;
  opts.force = GetBool(o, "force");
  opts.error_on_exist = GetBool(o, "errorOnExist");
  opts.dereference = GetBool(o, "dereference");
  opts.verbatim_symlinks = GetBool(o, "verbatimSymlinks");
  opts.dest_exists = GetBool(o, "destExists");
  opts.concurrency = o.Get("concurrency").ToNumber().Uint32Value();
  opts.whole_clone = GetBool(o, "wholeClone");
  opts.src_absolute = std::move(src_absolute);

  auto job = std::make_shared<TreeJob>(env, info[3], info[4]);
  auto* call = new TreeCall(env, std::move(src), std::move(dest), std::move(opts), job);
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", call->Promise());
  handle.Set("cancel", Napi::Function::New(env, [job](const Napi::CallbackInfo&) { job->cancel = true; }));
  if (!call->Start(env)) {
    job->Release();
    delete call;
    Napi::Error::New(env, "copyTree: cannot start the walk").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return handle;
}

// nodeErrorCode(osError): what Node reports for an OS error number (tests).
Napi::Value NodeErrorCodeJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(info.Env(), "nodeErrorCode(osError)");
  return Napi::Number::New(info.Env(), NodeErrorCode(info[0].As<Napi::Number>().Int32Value()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Number::New(env, kAbi));
  exports.Set("sanitized", Napi::Boolean::New(env, kSanitized));
  exports.Set("platform", kPlatform ? Napi::Value(Napi::String::New(env, kPlatform)) : env.Null());
  exports.Set("copyFile", Napi::Function::New(env, CopyFileAsync, "copyFile"));
  exports.Set("copyFileSync", Napi::Function::New(env, CopyFileSync, "copyFileSync"));
  exports.Set("probe", Napi::Function::New(env, ProbeAsync, "probe"));
  exports.Set("probeSync", Napi::Function::New(env, ProbeSync, "probeSync"));
  exports.Set("copyTree", Napi::Function::New(env, CopyTreeAsync, "copyTree"));
  exports.Set("nativeTree", Napi::Boolean::New(env, kNativeTree));
  exports.Set("nodeErrorCode", Napi::Function::New(env, NodeErrorCodeJs, "nodeErrorCode"));
  return exports;
}

}  // namespace
}  // namespace cowcopy

static Napi::Object InitCowcopy(Napi::Env env, Napi::Object exports) {
  return cowcopy::Init(env, exports);
}

NODE_API_MODULE(cowcopy, InitCowcopy)
