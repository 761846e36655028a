// For a platform that has a single-file backend but no native tree walk yet
// (Windows: tree_posix.cc is built on the openat family). The walk reports
// ENOSYS, so that cp() of a directory fails clearly instead of half-working;
// single files (and cp() of a file) go through CopyOneFile as usual.
#include "copy.h"

#ifdef _WIN32
#include "win_errors.h"
#else
#include <cerrno>
#endif

namespace cowcopy {

Status CopyTree(const Path&, const Path&, const TreeOptions&, TreeHooks*, const std::atomic<bool>*,
                TreeResult*) {
  Status s;
#ifdef _WIN32
  s.code = uvwin::kENOSYS;  // Node's number for ENOSYS on Windows
#else
  s.code = -ENOSYS;
#endif
  s.syscall = "cp";
  return s;
}

}  // namespace cowcopy
