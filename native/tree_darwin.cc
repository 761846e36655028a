// The macOS side of the tree walk (posix.h's hooks): readdir, a component
// walk beneath a root, modes always asked back (ACL inheritance is not
// foreseeable), one worker per core.
#include <algorithm>
#include <thread>

#include "posix.h"

namespace cowcopy {

bool ListEntries(int dir, std::vector<tree::Entry>* entries) { return ListWithReaddir(dir, entries); }

int OpenBeneath(int root, const Path& rel) {
  if (rel.empty()) return fcntl(root, F_DUPFD_CLOEXEC, 0);
  return OpenBeneathByComponents(root, rel);
}

bool ExactModes(int, const struct stat&, mode_t*) { return false; }

tree::WorkerPolicy WalkPolicy(int) {
  tree::WorkerPolicy policy;
  policy.workers = std::min(64u, std::max(2u, std::thread::hardware_concurrency()));
  policy.oldest_first = true;
  return policy;
}

}  // namespace cowcopy
