// Platforms without a platform file yet: the addon loads, says so through
// kPlatform and kNativeTree, and the TypeScript facade falls back to node:fs.
#include "copy.h"

#include <cerrno>

#include "thread.h"

namespace cowcopy {

const char* const kPlatform = nullptr;
const bool kNativeTree = false;

int NodeErrorCode(int os_error) { return -os_error; }

struct Thread::Impl {};
int Thread::Start(std::function<void()>) { return ENOSYS; }
void Thread::Join() {}

Status CopyOneFile(const Path&, const Path&, const CopyOptions&, CopyResult*) { return Status{-ENOSYS, "copyfile"}; }

Status ProbeVolume(const Path&, VolumeInfo*) { return Status{-ENOSYS, "probe"}; }

Status MakeSpecialFile(const Path&, const Path&, bool, unsigned) { return Status{-ENOSYS, "mknod"}; }

Status InspectTree(const Path&, TreeVolume*) { return Status(); }  // no whole-tree clone known here
Status CloneTree(const Path&, const Path&, bool, TreeVolume*) { return Status(); }  // nothing tried: the facade walks
Status CreateSubvolume(const Path&) { return Status{-ENOSYS, "subvolume"}; }
Status DestroySubvolume(const Path&) { return Status{-ENOSYS, "subvolume"}; }
Status SetSubvolumeReadOnly(const Path&, bool) { return Status{-ENOSYS, "ioctl"}; }
Status ExchangePaths(const Path&, const Path&) { return Status{-ENOSYS, "rename"}; }

void CopyTree(const Path&, const Path&, const TreeOptions&, TreeHooks*, const std::atomic<bool>*, TreeResult* result) {
  result->status = Status{-ENOSYS, "cp"};
}

}  // namespace cowcopy
