// Node-API glue only: argument unpacking, async workers, module init.
// Everything that talks to the OS is behind copy.h. Results cross as plain
// objects ({ errno, syscall } on failure); lib/ builds the Error from them.
#include <napi.h>

#include <utility>

#include "copy.h"

namespace cowcopy {
namespace {

// Bumped whenever the shape below changes; lib/binding.ts checks it.
constexpr int kAbi = 1;

// Bits of the flags argument (lib/native.ts).
enum Flags : uint32_t {
  kFlagNoOverwrite = 1,
  kFlagPreserveTimestamps = 2,
  kFlagSameFileOk = 4,
  kFlagNoKernelCopy = 8,
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Number::New(env, kAbi));
  exports.Set("platform", kPlatform ? Napi::Value(Napi::String::New(env, kPlatform)) : env.Null());
  exports.Set("copyFile", Napi::Function::New(env, CopyFileAsync, "copyFile"));
  exports.Set("copyFileSync", Napi::Function::New(env, CopyFileSync, "copyFileSync"));
  exports.Set("probe", Napi::Function::New(env, ProbeAsync, "probe"));
  exports.Set("probeSync", Napi::Function::New(env, ProbeSync, "probeSync"));
  return exports;
}

}  // namespace
}  // namespace cowcopy

static Napi::Object InitCowcopy(Napi::Env env, Napi::Object exports) {
  return cowcopy::Init(env, exports);
}

NODE_API_MODULE(cowcopy, InitCowcopy)
