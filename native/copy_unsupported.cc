// Platforms without a platform file yet: the addon loads, says so through
// kPlatform, and the TypeScript facade falls back to node:fs.
#include "copy.h"

#include <cerrno>

#include "thread.h"

namespace cowcopy {

const char* const kPlatform = nullptr;

int NodeErrorCode(int os_error) { return -os_error; }

struct Thread::Impl {};
Thread::Thread() = default;
Thread::Thread(Thread&&) noexcept = default;
Thread& Thread::operator=(Thread&&) noexcept = default;
Thread::~Thread() = default;
int Thread::Start(std::function<void()>) { return ENOSYS; }
void Thread::Join() {}

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
