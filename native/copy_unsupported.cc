// Platforms without a platform file yet: the addon loads, says so through
// kPlatform, and the TypeScript facade falls back to node:fs.
#include "copy.h"

#include <cerrno>

namespace cowcopy {

const char* const kPlatform = nullptr;

int NodeErrorCode(int os_error) { return -os_error; }

Status CopyOneFile(const Path&, const Path&, const CopyOptions&, CopyResult*) {
  Status s;
  s.code = -ENOSYS;
  s.syscall = "copyfile";
  return s;
}

Status ProbeVolume(const Path&, VolumeInfo*) {
  Status s;
  s.code = -ENOSYS;
  s.syscall = "probe";
  return s;
}

}  // namespace cowcopy
