// Platforms without a native walk (Windows): CopyTree says so, and the
// TypeScript facade walks the tree itself, copying each file natively.
#include <cerrno>

#include "copy.h"

namespace cowcopy {

const bool kNativeTree = false;

Status CopyTree(const Path&, const Path&, const TreeOptions&, TreeHooks*, const std::atomic<bool>*,
                TreeResult*) {
  Status s;
  s.code = -ENOSYS;
  s.syscall = "cp";
  return s;
}

}  // namespace cowcopy
