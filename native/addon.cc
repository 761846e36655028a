// Node-API glue only: argument unpacking, async work, the walk's thread,
// module init. Everything that talks to the OS is behind copy.h. Results
// cross as plain objects, by name ({ errno, syscall } on failure); lib/
// builds the Error from them.
//
// What runs while an environment may be going away (a worker terminated: the
// completions of async work, the thread-safe functions' calls) uses the C
// API and gives up quietly when a call fails; node-addon-api's wrappers
// would abort the process there (they build an Error from the failure).
#include <napi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "copy.h"
#include "thread.h"

namespace cowcopy {
namespace {

// Bumped whenever the shape below changes; lib/binding.ts checks it.
constexpr int kAbi = 6;

// npm run test:asan checks that the sanitized build is the one it tests.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

template <typename Enum, size_t N>
const char* NameOf(const char* const (&names)[N], Enum value) {
  const size_t i = static_cast<size_t>(value);
  return i < N ? names[i] : "unknown";
}

template <typename Enum, size_t N>
bool FromName(const char* const (&names)[N], const std::string& name, Enum* out) {
  for (size_t i = 0; i < N; i++) {
    if (name == names[i]) {
      *out = static_cast<Enum>(i);
      return true;
    }
  }
  return false;
}

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

// Throws a TypeError; false, what the argument parsers then return.
bool ThrowType(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

napi_value FunctionOrNull(const Napi::Value& v) { return v.IsFunction() ? napi_value(v) : nullptr; }

bool GetBool(const Napi::Object& o, const char* key) { return o.Get(key).ToBoolean().Value(); }

// ---- plain objects through the C API (safe while an environment ends) ----

// A path as a Buffer of its bytes (names need not be UTF-8).
bool BytesOf(napi_env env, const Path& value, napi_value* out) {
  void* data = nullptr;
  return napi_create_buffer_copy(env, value.size(), value.data(), &data, out) == napi_ok;
}

// fn(files, bytes), its answer in *answer: false when it could not be called.
bool CallWithCounts(napi_env env, napi_value fn, uint64_t files, uint64_t bytes, napi_value* answer) {
  napi_value argv[2], undefined;
  return napi_create_double(env, static_cast<double>(files), &argv[0]) == napi_ok &&
         napi_create_double(env, static_cast<double>(bytes), &argv[1]) == napi_ok &&
         napi_get_undefined(env, &undefined) == napi_ok &&
         napi_call_function(env, undefined, fn, 2, argv, answer) == napi_ok;
}

class Builder {
 public:
  explicit Builder(napi_env env) : env_(env) { ok_ = napi_create_object(env, &obj_) == napi_ok; }
  Builder& Number(const char* key, double value) {
    napi_value v;
    return Put(key, ok_ && napi_create_double(env_, value, &v) == napi_ok ? v : nullptr);
  }
  Builder& Bool(const char* key, bool value) {
    napi_value v;
    return Put(key, ok_ && napi_get_boolean(env_, value, &v) == napi_ok ? v : nullptr);
  }
  Builder& String(const char* key, const char* value) {
    napi_value v;
    return Put(key, ok_ && napi_create_string_utf8(env_, value, NAPI_AUTO_LENGTH, &v) == napi_ok ? v : nullptr);
  }
  Builder& Bytes(const char* key, const Path& value) {
    napi_value v;
    return Put(key, ok_ && BytesOf(env_, value, &v) ? v : nullptr);
  }
  Builder& Value(const char* key, napi_value value) { return Put(key, value); }
  // The object, or nullptr when a call failed.
  napi_value Done() const { return ok_ ? obj_ : nullptr; }

 private:
  Builder& Put(const char* key, napi_value value) {
    ok_ = ok_ && value != nullptr && napi_set_named_property(env_, obj_, key, value) == napi_ok;
    return *this;
  }
  napi_env env_;
  napi_value obj_ = nullptr;
  bool ok_ = false;
};

void SetStatus(Builder* b, const Status& status) {
  b->Number("errno", status.code);
  if (status.ok()) return;
  b->String("syscall", status.syscall ? status.syscall : "copyfile");
  if (status.same_file) b->Bool("sameFile", true);
}

napi_value TreeResultToJs(napi_env env, const TreeResult& r) {
  Builder b(env);
  SetStatus(&b, r.status);
  b.String("kind", NameOf(kTreeErrorNames, r.kind));
  if (!r.ok()) {
    b.Bytes("rel", r.rel).String("paths", NameOf(kErrorPathsNames, r.paths));
    if (!r.link_src.empty()) b.Bytes("linkSrc", r.link_src);
    if (!r.link_dest.empty()) b.Bytes("linkDest", r.link_dest);
  }
  b.Number("files", static_cast<double>(r.files))
      .Number("directories", static_cast<double>(r.directories))
      .Number("symlinks", static_cast<double>(r.symlinks))
      .Number("bytes", static_cast<double>(r.bytes))
      .Number("skipped", static_cast<double>(r.skipped))
      .Number("specials", static_cast<double>(r.specials));
  Builder strategies(env);
  for (size_t i = 1; i < sizeof kStrategyNames / sizeof kStrategyNames[0]; i++)
    strategies.Number(kStrategyNames[i], static_cast<double>(r.by_strategy[i]));
  b.Value("strategies", strategies.Done());
  return b.Done();
}

// ---- copyFile and probe: async work, completed through the C API ----

// preserve's names (kPreserveNames) as Preserve bits: false with a TypeError pending for another name.
bool ParsePreserve(Napi::Env env, const Napi::Array& names, unsigned* bits) {
  for (uint32_t i = 0; i < names.Length(); i++) {
    unsigned bit;
    if (!FromName(kPreserveNames, names.Get(i).ToString().Utf8Value(), &bit)) return ThrowType(env, "unknown preserve");
    *bits |= 1u << bit;
  }
  return true;
}

// Resolves `deferred` with what `answer()` builds, in a handle scope of its
// own; nothing when a call fails (the environment is going away).
template <typename Answer>
void Resolve(napi_env env, napi_deferred deferred, Answer answer) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value value = answer();
  if (value != nullptr) napi_resolve_deferred(env, deferred, value);
  napi_close_handle_scope(env, scope);
}

// One call on libuv's pool; `Work` runs there, `ToJs` builds the answer.
template <typename Job>
class AsyncCall {
 public:
  static napi_value Queue(napi_env env, const char* name, std::unique_ptr<Job> job) {
    auto* call = new AsyncCall(std::move(job));
    napi_value promise = nullptr, resource_name = nullptr;
    if (napi_create_promise(env, &call->deferred_, &promise) != napi_ok ||
        napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
        napi_create_async_work(env, nullptr, resource_name, Execute, Complete, call, &call->work_) != napi_ok ||
        napi_queue_async_work(env, call->work_) != napi_ok) {
      if (call->work_ != nullptr) napi_delete_async_work(env, call->work_);
      delete call;  // a deferred left unresolved is collected with its promise
      return nullptr;
    }
    return promise;
  }

 private:
  explicit AsyncCall(std::unique_ptr<Job> job) : job_(std::move(job)) {}

  static void Execute(napi_env, void* data) { static_cast<AsyncCall*>(data)->job_->Work(); }

  static void Complete(napi_env env, napi_status status, void* data) {
    std::unique_ptr<AsyncCall> call(static_cast<AsyncCall*>(data));
    if (status == napi_ok) Resolve(env, call->deferred_, [&] { return call->job_->ToJs(env); });
    napi_delete_async_work(env, call->work_);
  }

  std::unique_ptr<Job> job_;
  napi_deferred deferred_ = nullptr;
  napi_async_work work_ = nullptr;
};

// Parse: false with a TypeError pending; `sync` says which function was called.
struct CopyJob {
  static constexpr const char* kName = "cowcopy:copyFile";
  Path src, dest;
  CopyOptions opts;
  Status status;
  CopyResult result;
  // (src, dest, request, flags), for copyFile and copyFileSync alike.
  bool Parse(const Napi::CallbackInfo& info, bool) {
    if (info.Length() < 4 || !ToPath(info[0], &src) || !ToPath(info[1], &dest) || !info[2].IsString() ||
        !info[3].IsObject())
      return ThrowType(info.Env(), "copyFile(src, dest, request, flags): paths are strings or Buffers");
    if (!FromName(kRequestNames, info[2].As<Napi::String>().Utf8Value(), &opts.request))
      return ThrowType(info.Env(), "copyFile: unknown request");
    Napi::Object flags = info[3].As<Napi::Object>();
    opts.overwrite = GetBool(flags, "overwrite");
    opts.preserve_timestamps = GetBool(flags, "preserveTimestamps");
    opts.same_file_ok = GetBool(flags, "sameFileOk");
    opts.replace = GetBool(flags, "replace");
    opts.preserve_ownership = GetBool(flags, "preserveOwnership");
    opts.preserve_xattr = GetBool(flags, "preserveXattr");
    opts.no_kernel_copy = GetBool(flags, "noKernelCopy");
    opts.no_own_clone = GetBool(flags, "noOwnClone");
    return true;
  }
  void Work() { status = CopyOneFile(src, dest, opts, &result); }
  napi_value ToJs(napi_env env) const {
    Builder b(env);
    SetStatus(&b, status);
    if (status.ok()) {
      b.String("strategy", NameOf(kStrategyNames, result.strategy));
      b.Number("bytes", static_cast<double>(result.bytes));
    }
    return b.Done();
  }
};

// (src, dest, follow, preserve names): a special file made again.
struct SpecialJob {
  static constexpr const char* kName = "cowcopy:makeSpecial";
  Path src, dest;
  bool follow = false;
  unsigned preserve = 0;
  Status status;
  bool Parse(const Napi::CallbackInfo& info, bool) {
    if (info.Length() < 4 || !ToPath(info[0], &src) || !ToPath(info[1], &dest) || !info[3].IsArray())
      return ThrowType(info.Env(), "makeSpecial(src, dest, follow, preserve)");
    follow = info[2].ToBoolean().Value();
    return ParsePreserve(info.Env(), info[3].As<Napi::Array>(), &preserve);
  }
  void Work() { status = MakeSpecialFile(src, dest, follow, preserve); }
  napi_value ToJs(napi_env env) const {
    Builder b(env);
    SetStatus(&b, status);
    return b.Done();
  }
};

struct ProbeJob {
  static constexpr const char* kName = "cowcopy:probe";
  Path path;
  Status status;
  VolumeInfo info;
  bool Parse(const Napi::CallbackInfo& args, bool sync) {
    if (args.Length() >= 1 && ToPath(args[0], &path)) return true;
    return ThrowType(args.Env(),
                     sync ? "probeSync(path): path is a string or Buffer" : "probe(path): path is a string or Buffer");
  }
  void Work() { status = ProbeVolume(path, &info); }
  napi_value ToJs(napi_env env) const {
    Builder b(env);
    SetStatus(&b, status);
    if (status.ok()) {
      b.Number("fsType", static_cast<double>(info.fs_type))
          .String("fsName", info.fs_name.c_str())
          .Bool("reflink", info.reflink)
          .Bool("hardlink", info.hardlink)
          .Bool("kernelCopy", info.kernel_copy)
          .Bool("writable", info.writable);
    }
    return b.Done();
  }
};

// inspectTree(path): what the volume can do with the directory as a whole;
// cloneTree(src, dest, readOnly): the same of src, and the whole directory
// cloned as dest where it can be (`whole` says how; '' when nothing was
// tried). Either fails as { errno, syscall } with what was found so far.
template <bool kClone>
struct TreeVolumeJob {
  static constexpr const char* kName = kClone ? "cowcopy:cloneTree" : "cowcopy:inspectTree";
  Path path, dest;
  bool read_only = false;
  Status status;
  TreeVolume volume;
  bool Parse(const Napi::CallbackInfo& info, bool) {
    if (!kClone && info.Length() >= 1 && ToPath(info[0], &path)) return true;
    if (kClone && info.Length() >= 3 && ToPath(info[0], &path) && ToPath(info[1], &dest)) {
      read_only = info[2].ToBoolean().Value();
      return true;
    }
    return ThrowType(info.Env(), kClone ? "cloneTree(src, dest, readOnly)" : "inspectTree(path)");
  }
  void Work() { status = kClone ? CloneTree(path, dest, read_only, &volume) : InspectTree(path, &volume); }
  napi_value ToJs(napi_env env) const {
    Builder b(env);
    SetStatus(&b, status);
    napi_value nested = nullptr;
    bool ok = napi_create_array_with_length(env, volume.nested.size(), &nested) == napi_ok;
    for (uint32_t i = 0; ok && i < volume.nested.size(); i++) {
      napi_value name;
      ok = BytesOf(env, volume.nested[i], &name) && napi_set_element(env, nested, i, name) == napi_ok;
    }
    b.Number("fsType", static_cast<double>(volume.fs_type))
        .String("fsName", volume.fs_name.c_str())
        .String("whole", volume.whole ? volume.whole : "")
        .Bool("subvolume", volume.subvolume)
        .Bool("readOnly", volume.read_only)
        .Value("nested", ok ? nested : nullptr);
    return b.Done();
  }
};

// One call on one or two paths that only succeeds or fails: (op, a[, b][, flag]).
struct VolumeJob {
  static constexpr const char* kName = "cowcopy:volume";
  enum class Op { kCreateSubvolume, kDestroySubvolume, kSetReadOnly, kExchange };
  static constexpr const char* kOps[] = {"createSubvolume", "destroySubvolume", "setReadOnly", "exchange"};
  Op op = Op::kCreateSubvolume;
  Path a, b;
  bool flag = false;
  Status status;
  bool Parse(const Napi::CallbackInfo& info, bool) {
    if (info.Length() < 2 || !info[0].IsString() || !FromName(kOps, info[0].As<Napi::String>().Utf8Value(), &op) ||
        !ToPath(info[1], &a) || (info.Length() >= 3 && !info[2].IsUndefined() && !ToPath(info[2], &b)))
      return ThrowType(info.Env(), "volume(op, path[, path][, flag])");
    flag = info.Length() >= 4 && info[3].ToBoolean().Value();
    return true;
  }
  void Work() {
    switch (op) {
      case Op::kCreateSubvolume: status = CreateSubvolume(a); break;
      case Op::kDestroySubvolume: status = DestroySubvolume(a); break;
      case Op::kSetReadOnly: status = SetSubvolumeReadOnly(a, flag); break;
      case Op::kExchange: status = ExchangePaths(a, b); break;
    }
  }
  napi_value ToJs(napi_env env) const {
    Builder result(env);
    SetStatus(&result, status);
    return result.Done();
  }
};

template <typename Job>
Napi::Value RunAsync(const Napi::CallbackInfo& info) {
  auto job = std::make_unique<Job>();
  if (!job->Parse(info, false)) return info.Env().Undefined();
  napi_value promise = AsyncCall<Job>::Queue(info.Env(), Job::kName, std::move(job));
  return promise != nullptr ? Napi::Value(info.Env(), promise) : info.Env().Undefined();
}

template <typename Job>
Napi::Value RunSync(const Napi::CallbackInfo& info) {
  Job job;
  if (!job.Parse(info, true)) return info.Env().Undefined();
  job.Work();
  return Napi::Value(info.Env(), job.ToJs(info.Env()));
}

// The entries' names in one Buffer, each ended by a NUL (no name holds one):
// one allocation however many entries.
bool NamesOf(napi_env env, const std::vector<FilterEntry>& entries, napi_value* out) {
  size_t size = 0;
  for (const FilterEntry& e : entries) size += e.name.size() + 1;
  void* data = nullptr;
  if (napi_create_buffer(env, size, &data, out) != napi_ok) return false;
  char* at = static_cast<char*>(data);
  for (const FilterEntry& e : entries) {
    std::memcpy(at, e.name.data(), e.name.size());
    at += e.name.size();
    *at++ = '\0';
  }
  return true;
}

// The filter's answer, one boolean per entry, into *keep (sized to the
// entries); false when it is not that, or a call fails (a getter's
// JavaScript may end the environment).
bool ReadKeep(napi_env env, napi_value answer, std::vector<bool>* keep) {
  bool is_array = false;
  uint32_t given = 0;
  if (napi_is_array(env, answer, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, answer, &given) != napi_ok || given != keep->size())
    return false;
  for (uint32_t i = 0; i < given; i++) {
    napi_value element;
    bool value = false;
    if (napi_get_element(env, answer, i, &element) != napi_ok || napi_get_value_bool(env, element, &value) != napi_ok)
      return false;
    (*keep)[i] = value;
  }
  return true;
}

// ---- copyTree(src, dest, options, filter, progress) -> { promise, cancel } or a failure ----

// A thread-safe function (one thread, no queue limit) that has `call` call fn
// (may be null) with `context`.
bool MakeTsfn(napi_env env, napi_value fn, const char* name, void* context, napi_threadsafe_function_call_js call,
              napi_threadsafe_function* out) {
  napi_value resource_name;
  return napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) == napi_ok &&
         napi_create_threadsafe_function(env, fn, nullptr, resource_name, 0, 1, nullptr, nullptr, context, call,
                                         out) == napi_ok;
}

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
  // Main thread; null where not a function. False (nothing made, an
  // exception pending) when a thread-safe function cannot be.
  bool Init(napi_env env, napi_value filter, napi_value progress) {
    if (filter != nullptr && !MakeTsfn(env, filter, "cowcopy:filter", nullptr, CallFilter, &filter_)) return false;
    if (progress != nullptr && !MakeTsfn(env, progress, "cowcopy:progress", nullptr, CallProgress, &progress_)) {
      Release();
      return false;
    }
    return true;
  }

  std::atomic<bool> cancel{false};

  bool has_filter() const override { return filter_ != nullptr; }

  bool Filter(const Path& rel, std::vector<FilterEntry>* entries) override {
    auto request = std::make_shared<FilterRequest>();
    request->rel = rel;
    request->entries = *entries;
    auto* held = new std::shared_ptr<FilterRequest>(request);
    if (napi_call_threadsafe_function(filter_, held, napi_tsfn_blocking) != napi_ok) {
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
    if (progress_ == nullptr) return;
    auto* update = new ProgressUpdate{files, bytes};
    if (napi_call_threadsafe_function(progress_, update, napi_tsfn_nonblocking) != napi_ok) delete update;
  }

  // When the walk is over: JavaScript is not called again.
  void Release() {
    if (filter_ != nullptr) napi_release_threadsafe_function(filter_, napi_tsfn_release);
    if (progress_ != nullptr) napi_release_threadsafe_function(progress_, napi_tsfn_release);
    filter_ = progress_ = nullptr;
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

  // done(ok, keep[]), called by JavaScript: reads the answer into a copy
  // first (getters run JavaScript, which may call done() again); only this
  // thread sets `answered`, and the worker leaves the entries alone until then.
  static napi_value Done(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    void* data = nullptr;
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok || data == nullptr) return nullptr;
    const std::shared_ptr<FilterRequest>& request = *static_cast<std::shared_ptr<FilterRequest>*>(data);
    bool said = false;
    std::vector<bool> keep(request->entries.size());
    const bool ok = argc >= 2 && napi_get_value_bool(env, argv[0], &said) == napi_ok && said &&
                    ReadKeep(env, argv[1], &keep);
    std::lock_guard<std::mutex> lock(request->mu);
    if (request->answered) return nullptr;
    for (size_t i = 0; ok && i < keep.size(); i++) request->entries[i].keep = keep[i];
    Settle(request.get(), ok);
    return nullptr;
  }

  // filter(rel, names, done) on the main thread: the directory and its
  // entries' names as bytes.
  static bool CallFilterJs(napi_env env, napi_value fn, const std::shared_ptr<FilterRequest>& request) {
    napi_value argv[3], undefined;
    if (!BytesOf(env, request->rel, &argv[0]) || !NamesOf(env, request->entries, &argv[1])) return false;
    auto* held = new std::shared_ptr<FilterRequest>(request);
    if (napi_create_function(env, "done", NAPI_AUTO_LENGTH, Done, held, &argv[2]) != napi_ok ||
        napi_add_finalizer(
            env, argv[2], held,
            [](napi_env, void* data, void*) { delete static_cast<std::shared_ptr<FilterRequest>*>(data); }, nullptr,
            nullptr) != napi_ok) {
      delete held;
      return false;
    }
    if (napi_get_undefined(env, &undefined) != napi_ok) return false;
    napi_value ignored;
    if (napi_call_function(env, undefined, fn, 3, argv, &ignored) != napi_ok) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      return false;
    }
    return true;
  }

  static void CallFilter(napi_env env, napi_value fn, void*, void* data) {
    auto* held = static_cast<std::shared_ptr<FilterRequest>*>(data);
    std::shared_ptr<FilterRequest> request = std::move(*held);
    delete held;
    napi_handle_scope scope;
    const bool opened = env != nullptr && napi_open_handle_scope(env, &scope) == napi_ok;
    if (!opened || !CallFilterJs(env, fn, request)) Answer(request, false);
    if (opened) napi_close_handle_scope(env, scope);
  }

  static void CallProgress(napi_env env, napi_value fn, void*, void* data) {
    std::unique_ptr<ProgressUpdate> update(static_cast<ProgressUpdate*>(data));
    napi_handle_scope scope;
    if (env == nullptr || napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value ignored;
    if (!CallWithCounts(env, fn, update->files, update->bytes, &ignored)) {
      napi_value exception;  // lib/cp.ts catches what onProgress throws; nothing reaches here
      napi_get_and_clear_last_exception(env, &exception);
    }
    napi_close_handle_scope(env, scope);
  }

  napi_threadsafe_function filter_ = nullptr;
  napi_threadsafe_function progress_ = nullptr;
};

// copyTree's and copyTreeSync's (src, dest, options).
struct TreeArgs {
  Path src, dest;
  TreeOptions opts;

  // False with an exception pending when they are not what lib/native.ts passes.
  bool Parse(const Napi::CallbackInfo& info, const char* name) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !ToPath(info[0], &src) || !ToPath(info[1], &dest) || !info[2].IsObject())
      return ThrowType(env, name);
    Napi::Object o = info[2].As<Napi::Object>();
    if (!ToPath(o.Get("srcAbsolute"), &opts.src_absolute) || !ToPath(o.Get("destAbsolute"), &opts.dest_absolute))
      return ThrowType(env, "copyTree: options.srcAbsolute, options.destAbsolute");
    if (!FromName(kRequestNames, o.Get("request").ToString().Utf8Value(), &opts.file.request))
      return ThrowType(env, "copyTree: unknown request");
    opts.file.preserve_timestamps = GetBool(o, "preserveTimestamps");
    opts.file.no_kernel_copy = GetBool(o, "noKernelCopy");
    opts.force = GetBool(o, "force");
    opts.error_on_exist = GetBool(o, "errorOnExist");
    opts.error_on_existing_dir = GetBool(o, "errorOnExistingDir");
    if (!FromName(kUpdateNames, o.Get("update").ToString().Utf8Value(), &opts.update))
      return ThrowType(env, "copyTree: unknown update");
    if (!FromName(kSpecialNames, o.Get("special").ToString().Utf8Value(), &opts.special))
      return ThrowType(env, "copyTree: unknown special");
    Napi::Value preserve = o.Get("preserve");
    if (!preserve.IsArray()) return ThrowType(env, "copyTree: options.preserve");
    if (!ParsePreserve(env, preserve.As<Napi::Array>(), &opts.preserve)) return false;
    opts.dereference = GetBool(o, "dereference");
    opts.verbatim_symlinks = GetBool(o, "verbatimSymlinks");
    opts.dest_exists = GetBool(o, "destExists");
    opts.concurrency = o.Get("concurrency").ToNumber().Uint32Value();
    opts.whole_clone = GetBool(o, "wholeClone");
    return true;
  }
};

// One cp() walk. It runs on a thread of its own, not on libuv's pool: its
// workers may wait for the JavaScript filter, and a filter that awaits
// fs.promises needs the pool (walks holding pool threads could take all of
// it, and every other fs call of the process would wait for them too). Its
// end reaches JavaScript through a thread-safe function; the thread is
// joined there, or when the environment goes away (after cancelling).
class TreeCall {
 public:
  TreeCall(TreeArgs args, std::shared_ptr<TreeJob> job) : args_(std::move(args)), job_(std::move(job)) {}

  // Main thread: the promise, or nullptr with *err set (nothing started;
  // the caller deletes this). err is an errno where the OS refused a thread.
  napi_value Start(napi_env env, int* err) {
    napi_value promise = nullptr;
    *err = 0;
    if (napi_create_promise(env, &deferred_, &promise) != napi_ok ||
        !MakeTsfn(env, nullptr, "cowcopy:copyTree", this, Finish, &done_))
      return nullptr;
    *err = thread_.Start([this] { Run(); });
    if (*err != 0) {
      napi_release_threadsafe_function(done_, napi_tsfn_abort);
      return nullptr;
    }
    napi_add_env_cleanup_hook(env, Teardown, this);
    return promise;
  }

 private:
  void Run() {
    CopyTree(args_.src, args_.dest, args_.opts, job_.get(), &job_->cancel, &result_);
    job_->Release();
    napi_threadsafe_function done = done_;
    // Teardown joins this thread before the environment closes the
    // thread-safe function, so the call is queued; Finish then runs with or
    // without an environment, and deletes this.
    napi_call_threadsafe_function(done, nullptr, napi_tsfn_blocking);
    napi_release_threadsafe_function(done, napi_tsfn_release);
  }

  // Main thread, once the walk is over (env is null when the environment is
  // being torn down: nobody is left to tell).
  static void Finish(napi_env env, napi_value, void* context, void*) {
    auto* call = static_cast<TreeCall*>(context);
    call->thread_.Join();
    if (env != nullptr) {
      napi_remove_env_cleanup_hook(env, Teardown, call);
      Resolve(env, call->deferred_, [&] { return TreeResultToJs(env, call->result_); });
    }
    delete call;
  }

  // A worker thread that ends (or a process that exits) stops its walks.
  static void Teardown(void* arg) {
    auto* call = static_cast<TreeCall*>(arg);
    call->job_->cancel = true;
    call->thread_.Join();
  }

  TreeArgs args_;
  std::shared_ptr<TreeJob> job_;
  TreeResult result_;
  napi_deferred deferred_ = nullptr;
  napi_threadsafe_function done_ = nullptr;
  Thread thread_;
};

// No thread for a walk (RLIMIT_NPROC, pids.max): said as a failure; the
// facade walks in JavaScript instead.
Napi::Value NoThread(Napi::Env env, int err) {
  Builder failure(env);
  SetStatus(&failure, Status{NodeErrorCode(err), "pthread_create"});
  return Napi::Value(env, failure.Done());
}

Napi::Value CopyTreeAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TreeArgs args;
  if (!args.Parse(info, "copyTree(src, dest, options, filter, progress)")) return env.Undefined();
  auto job = std::make_shared<TreeJob>();
  if (!job->Init(env, FunctionOrNull(info[3]), FunctionOrNull(info[4]))) return env.Undefined();
  auto* call = new TreeCall(std::move(args), job);
  int err = 0;
  napi_value promise = call->Start(env, &err);
  if (promise == nullptr) {
    job->Release();
    delete call;
    if (err == 0) return env.Undefined();  // a Node-API failure: its exception is pending
    return NoThread(env, err);
  }
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("errno", Napi::Number::New(env, 0));
  handle.Set("promise", Napi::Value(env, promise));
  handle.Set("cancel", Napi::Function::New(env, [job](const Napi::CallbackInfo&) { job->cancel = true; }));
  return handle;
}

// ---- copyTreeSync(src, dest, options, filter, progress) -> result or a failure ----

// cpSync's walk: the same walk, on a thread of its own, while the calling
// JavaScript thread waits, answering the filter's questions and passing
// progress on in between (nothing else runs on it meanwhile, as with any
// *Sync call). filter(rel, names) returns what to keep, or null to stop the
// walk; progress(files, bytes) returns true to stop it.
class SyncTreeHooks : public TreeHooks {
 public:
  explicit SyncTreeHooks(bool filter) : has_filter_(filter) {}

  std::atomic<bool> cancel{false};

  bool has_filter() const override { return has_filter_; }

  // Worker threads: asks the JavaScript thread, and waits for it.
  bool Filter(const Path& rel, std::vector<FilterEntry>* entries) override {
    Question question{&rel, entries};
    std::unique_lock<std::mutex> lock(mu_);
    questions_.push_back(&question);
    cv_.notify_all();
    cv_.wait(lock, [&] { return question.answered; });
    return question.ok;
  }

  void Progress(uint64_t files, uint64_t bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    files_ = files;
    bytes_ = bytes;
  }

  // The walk's thread, at its end.
  void Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

  // The JavaScript thread, until Finish(): answers every question, and
  // passes progress on every 100 ms. A call into JavaScript that fails (the
  // environment is going away) stops the walk; its questions get "stop".
  void Serve(napi_env env, napi_value filter, napi_value progress) {
    uint64_t reported_files = UINT64_MAX;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return done_ || !questions_.empty(); });
      while (!questions_.empty()) {
        Question* question = questions_.front();
        questions_.erase(questions_.begin());
        lock.unlock();
        Answer answer = cancel.load() ? Answer::kFailed : Ask(env, filter, question);
        if (answer == Answer::kFailed) cancel = true;  // JavaScript cannot be called: stop everything
        lock.lock();
        question->ok = answer == Answer::kKeep;
        question->answered = true;
        cv_.notify_all();
      }
      if (progress != nullptr && files_ != reported_files && !cancel.load()) {
        uint64_t files = files_, bytes = bytes_;
        reported_files = files;
        lock.unlock();
        if (Tell(env, progress, files, bytes)) cancel = true;
        lock.lock();
      }
      if (done_ && questions_.empty()) return;
    }
  }

 private:
  enum class Answer { kKeep, kStop, kFailed };

  struct Question {
    const Path* rel;
    std::vector<FilterEntry>* entries;
    bool answered = false;
    bool ok = false;
  };

  // filter(rel, names): the names NUL-ended in one Buffer. kStop: it said
  // null (it threw, or an abort); kFailed: it could not be called.
  static Answer Ask(napi_env env, napi_value filter, Question* question) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return Answer::kFailed;
    std::vector<FilterEntry>& entries = *question->entries;
    napi_value argv[2], undefined, answer;
    bool called = BytesOf(env, *question->rel, &argv[0]) && NamesOf(env, entries, &argv[1]);
    if (called) {
      called = napi_get_undefined(env, &undefined) == napi_ok &&
               napi_call_function(env, undefined, filter, 2, argv, &answer) == napi_ok;
    }
    std::vector<bool> keep(entries.size());
    const bool ok = called && ReadKeep(env, answer, &keep);
    for (size_t i = 0; ok && i < keep.size(); i++) entries[i].keep = keep[i];
    napi_close_handle_scope(env, scope);
    return ok ? Answer::kKeep : called ? Answer::kStop : Answer::kFailed;
  }

  // progress(files, bytes): true when it says stop (or cannot be called).
  static bool Tell(napi_env env, napi_value progress, uint64_t files, uint64_t bytes) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return true;
    napi_value answer;
    bool said = false;
    bool stop = !CallWithCounts(env, progress, files, bytes, &answer) ||
                (napi_get_value_bool(env, answer, &said) == napi_ok && said);
    napi_close_handle_scope(env, scope);
    return stop;
  }

  const bool has_filter_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Question*> questions_;
  bool done_ = false;
  uint64_t files_ = 0, bytes_ = 0;
};

Napi::Value CopyTreeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TreeArgs args;
  if (!args.Parse(info, "copyTreeSync(src, dest, options, filter, progress)")) return env.Undefined();
  napi_value filter = FunctionOrNull(info[3]);
  napi_value progress = FunctionOrNull(info[4]);
  SyncTreeHooks hooks(filter != nullptr);
  TreeResult result;
  Thread walk;
  int err = walk.Start([&] {
    CopyTree(args.src, args.dest, args.opts, &hooks, &hooks.cancel, &result);
    hooks.Finish();
  });
  if (err != 0) return NoThread(env, err);
  hooks.Serve(env, filter, progress);
  walk.Join();
  napi_value answer = TreeResultToJs(env, result);
  return answer != nullptr ? Napi::Value(env, answer) : env.Undefined();
}

// nodeErrorCode(osError): what Node reports for an OS error number (tests).
Napi::Value NodeErrorCodeJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowType(info.Env(), "nodeErrorCode(osError)");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), NodeErrorCode(info[0].As<Napi::Number>().Int32Value()));
}

template <size_t N>
Napi::Array NameList(Napi::Env env, const char* const (&names)[N]) {
  Napi::Array list = Napi::Array::New(env, N);
  for (uint32_t i = 0; i < N; i++) list.Set(i, Napi::String::New(env, names[i]));
  return list;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Number::New(env, kAbi));
  exports.Set("sanitized", Napi::Boolean::New(env, kSanitized));
  exports.Set("platform", kPlatform ? Napi::Value(Napi::String::New(env, kPlatform)) : env.Null());
  Napi::Object names = Napi::Object::New(env);
  names.Set("strategies", NameList(env, kStrategyNames));
  names.Set("requests", NameList(env, kRequestNames));
  names.Set("updates", NameList(env, kUpdateNames));
  names.Set("preserve", NameList(env, kPreserveNames));
  names.Set("specials", NameList(env, kSpecialNames));
  names.Set("failures", NameList(env, kTreeErrorNames));
  names.Set("paths", NameList(env, kErrorPathsNames));
  exports.Set("names", names);
  exports.Set("nativeTree", Napi::Boolean::New(env, kNativeTree));
  const std::pair<const char*, Napi::Value (*)(const Napi::CallbackInfo&)> functions[] = {
      {"copyFile", RunAsync<CopyJob>}, {"copyFileSync", RunSync<CopyJob>},   {"probe", RunAsync<ProbeJob>},
      {"probeSync", RunSync<ProbeJob>}, {"copyTree", CopyTreeAsync},         {"copyTreeSync", CopyTreeSync},
      {"makeSpecial", RunAsync<SpecialJob>}, {"makeSpecialSync", RunSync<SpecialJob>},
      {"inspectTree", RunAsync<TreeVolumeJob<false>>}, {"inspectTreeSync", RunSync<TreeVolumeJob<false>>},
      {"cloneTree", RunAsync<TreeVolumeJob<true>>}, {"cloneTreeSync", RunSync<TreeVolumeJob<true>>},
      {"volume", RunAsync<VolumeJob>}, {"volumeSync", RunSync<VolumeJob>},
      {"nodeErrorCode", NodeErrorCodeJs}};
  for (const auto& [name, fn] : functions) exports.Set(name, Napi::Function::New(env, fn, name));
  return exports;
}

}  // namespace
}  // namespace cowcopy

static Napi::Object InitCowcopy(Napi::Env env, Napi::Object exports) {
  return cowcopy::Init(env, exports);
}

NODE_API_MODULE(cowcopy, InitCowcopy)
