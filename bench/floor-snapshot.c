// The least a btrfs workspace asks of the kernel, as a yardstick for
// cowcopy's snapshot(): open the template (a subvolume's root), open the
// directory the workspace goes in, one BTRFS_IOC_SNAP_CREATE_V2. No checks,
// no inspection of the template, no nested subvolumes.
//
//   floor-snapshot <src> <dest>
//
// Prints the microseconds those three calls took (exec and exit not timed).
// Built and run by bench/floor.mjs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int die(const char* what, const char* path) {
  fprintf(stderr, "floor-snapshot: %s %s: %s\n", what, path, strerror(errno));
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: floor-snapshot <src> <dest>\n");
    return 2;
  }
  // dest's parent and last name, split before the clock starts.
  char parent[4096];
  const char* slash = strrchr(argv[2], '/');
  if (slash == NULL || (size_t)(slash - argv[2]) >= sizeof parent || strlen(slash + 1) > BTRFS_SUBVOL_NAME_MAX) {
    fprintf(stderr, "floor-snapshot: dest must be an absolute path with a short last name\n");
    return 2;
  }
  memcpy(parent, argv[2], (size_t)(slash - argv[2]));
  parent[slash - argv[2]] = '\0';
  struct btrfs_ioctl_vol_args_v2 args;
  memset(&args, 0, sizeof args);
  strcpy(args.name, slash + 1);

  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int src = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src < 0) return die("open", argv[1]);
  int dir = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return die("open", parent);
  args.fd = src;
  if (ioctl(dir, BTRFS_IOC_SNAP_CREATE_V2, &args) != 0) return die("BTRFS_IOC_SNAP_CREATE_V2", argv[2]);
  clock_gettime(CLOCK_MONOTONIC, &end);
  close(src);
  close(dir);
  printf("%.0f\n", (end.tv_sec - start.tv_sec) * 1e6 + (end.tv_nsec - start.tv_nsec) / 1e3);
  return 0;
}
