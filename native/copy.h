// The one internal interface every platform file implements.
//
// Platform files (copy_linux.cc, ...) talk to the OS and return data: a
// libuv-style error code (negative, as in Node's err.errno) plus the name of
// the call that failed. They never include napi.h; addon.cc never includes
// an OS header. TypeScript turns a Status into a Node-shaped Error.
#ifndef COWCOPY_COPY_H_
#define COWCOPY_COPY_H_

#include <cstdint>
#include <string>

namespace cowcopy {

// Bytes as the OS takes them: UTF-8 from a JavaScript string, raw bytes from a
// Buffer (so names that are not valid UTF-8 survive).
using Path = std::string;

// What actually happened. The numbers cross into TypeScript (lib/native.ts).
enum class Strategy : int {
  kNone = 0,       // nothing was copied (same file, copyFile semantics)
  kReflink = 1,    // copy-on-write clone: FICLONE, clonefile, block cloning
  kHardlink = 2,   // a new name for the same inode
  kKernel = 3,     // the kernel moved the bytes: copy_file_range, sendfile
  kUserspace = 4,  // read()/write() through a buffer
};

// What the caller asked for. Anything but kAuto is forced: it fails rather
// than doing something else.
enum class Request : int {
  kAuto = 0,
  kReflink = 1,
  kHardlink = 2,
  kCopy = 3,
};

struct CopyOptions {
  Request request = Request::kAuto;
  bool overwrite = true;             // false: COPYFILE_EXCL
  bool preserve_timestamps = false;  // atime and mtime, nanoseconds
  bool same_file_ok = false;         // copyFile: a no-op; clone: an error
  bool no_kernel_copy = false;       // tests: exercise the read/write loop
};

struct Status {
  int code = 0;                   // 0 or a negative libuv-style error code
  const char* syscall = nullptr;  // the call that failed, for err.syscall
  bool same_file = false;         // src and dest are one file (code is set)

  bool ok() const { return code == 0; }
};

struct CopyResult {
  Strategy strategy = Strategy::kNone;
  uint64_t bytes = 0;  // size of the destination's data
};

// Which platform file is compiled in ("linux", ...), or nullptr where no
// platform file exists yet: the facade then uses its node:fs fallback.
extern const char* const kPlatform;

// Copies one regular file (following symlinks, as fs.copyFile does).
// On failure the destination is removed unless it existed before and was
// left untouched; the source is never modified.
Status CopyOneFile(const Path& src, const Path& dest, const CopyOptions& opts,
                   CopyResult* result);

struct VolumeInfo {
  uint64_t fs_type = 0;    // statfs f_type (Linux); 0 where names are used
  std::string fs_name;     // filesystem name where the OS reports one
  bool reflink = false;    // a clone of a scratch file really succeeded
  bool hardlink = false;   // a link of a scratch file really succeeded
  bool kernel_copy = false;  // copy_file_range (or the OS equivalent) works
  bool writable = false;   // scratch files could be created at all
};

// Probes the volume holding `path` (a directory, or a file's directory) by
// really trying each operation on scratch files; cached per device.
Status ProbeVolume(const Path& path, VolumeInfo* info);

}  // namespace cowcopy

#endif  // COWCOPY_COPY_H_
