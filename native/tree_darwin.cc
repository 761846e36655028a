// The macOS side of the tree walk (posix.h's hooks): readdir, a component
// walk beneath a root, modes always asked back (ACL inheritance is not
// foreseeable), one worker per core.
#include "posix.h"

namespace cowcopy {

bool ListEntries(int dir, std::vector<tree::Entry>* entries) { return ListWithReaddir(dir, entries); }

int OpenBeneath(int root, const Path& rel) { return OpenBeneathByComponents(root, rel); }

bool ExactModes(int, const struct stat&, mode_t*) { return false; }

bool SingleWorker(int) { return false; }

}  // namespace cowcopy
