// The macOS side of the tree walk (posix.h's hooks): readdir, a component
// walk beneath a root, modes always asked back (ACL inheritance is not
// foreseeable), one worker per core.
#include <errno.h>
#include <fcntl.h>
#include <sys/param.h>
#include <sys/stat.h>

#include "posix.h"

namespace cowcopy {

bool ListEntries(int dir, std::vector<tree::Entry>* entries) { return ListWithReaddir(dir, entries); }

int OpenBeneath(int root, const Path& rel) { return OpenBeneathByComponents(root, rel); }

bool ExactModes(int, const struct stat&, mode_t*) { return false; }

bool SingleWorker(int) { return false; }

int MakeNode(int dir, const char* name, mode_t mode, dev_t rdev) {
  // mknodat came with macOS 13: by the directory's path (a directory this
  // walk is filling, owner-only meanwhile).
  char at[MAXPATHLEN];
  if (fcntl(dir, F_GETPATH, at) != 0) return errno;
  const Path path = Path(at) + "/" + name;
  const int made = S_ISFIFO(mode) ? mkfifo(path.c_str(), mode & 07777) : mknod(path.c_str(), mode, rdev);
  return made == 0 ? 0 : errno;
}

}  // namespace cowcopy
