// A minimal C copy of a tree, as a yardstick for cowcopy's cp(): every
// directory made with mkdir, then for every file open the source, fstat it,
// create the destination, FICLONE (copy_file_range once the filesystem has
// said it cannot clone), close both; each directory's files opened by name
// from that directory, opened once. Threads take whole directories. No modes,
// no timestamps, no directory reading, no checks beyond failing.
//
//   floor <list> <src> <dest> <threads>
//
// <list>: one entry per line, "d <relative dir>" or "f <relative file>",
// every directory before what it holds, a directory's files together.
// Prints the microseconds the copy took (reading the list is not timed).
// Built and run by bench/floor.mjs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char** dirs;
static size_t ndirs;
static char** files;
static size_t nfiles;
static size_t* runs;  // index of the first file of each directory's run, then nfiles
static size_t nruns;
static atomic_size_t next_run;
static int src_root, dest_root;

static void die(const char* what, const char* path) {
  fprintf(stderr, "floor: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

static void* checked(void* p) {
  if (p == NULL) {
    errno = ENOMEM;
    die("malloc", "");
  }
  return p;
}

static atomic_int no_clone;  // the filesystem said it cannot clone

static void copy_file(int sdir, int ddir, const char* rel) {
  const char* slash = strrchr(rel, '/');
  const char* name = slash ? slash + 1 : rel;
  int s = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (s < 0) die("open", rel);
  struct stat st;
  if (fstat(s, &st) != 0) die("fstat", rel);
  int d = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
  if (d < 0) die("create", rel);
  if (atomic_load(&no_clone) || ioctl(d, FICLONE, s) != 0) {
    if (!atomic_load(&no_clone)) {
      if (errno != EOPNOTSUPP && errno != EXDEV && errno != EINVAL && errno != ENOTTY) die("FICLONE", rel);
      atomic_store(&no_clone, 1);
    }
    for (off_t left = st.st_size; left > 0;) {
      ssize_t n = copy_file_range(s, NULL, d, NULL, (size_t)left, 0);
      if (n < 0) die("copy_file_range", rel);
      if (n == 0) {
        errno = ENODATA;  // the source shrank meanwhile
        die("copy_file_range", rel);
      }
      left -= n;
    }
  }
  close(s);
  close(d);
}

// The directory `rel` is in, relative too ("" for the root's entries).
static char* parent_of(const char* rel) {
  const char* slash = strrchr(rel, '/');
  return checked(strndup(rel, slash ? (size_t)(slash - rel) : 0));
}

// The directory of a run's files, opened from `root`; the root itself for "".
static int open_parent(int root, const char* rel) {
  char* parent = parent_of(rel);
  if (parent[0] == '\0') {
    free(parent);
    return root;
  }
  int fd = openat(root, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) die("open", parent);
  free(parent);
  return fd;
}

static void* worker(void* unused) {
  (void)unused;
  for (size_t r; (r = atomic_fetch_add(&next_run, 1)) < nruns;) {
    int sdir = open_parent(src_root, files[runs[r]]);
    int ddir = open_parent(dest_root, files[runs[r]]);
    for (size_t i = runs[r]; i < runs[r + 1]; i++) copy_file(sdir, ddir, files[i]);
    if (sdir != src_root) close(sdir);
    if (ddir != dest_root) close(ddir);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: floor <list> <src> <dest> <threads>\n");
    return 2;
  }
  FILE* list = fopen(argv[1], "r");
  if (list == NULL) die("open", argv[1]);
  size_t cap = 1024;
  dirs = checked(malloc(cap * sizeof *dirs));
  files = checked(malloc(cap * sizeof *files));
  runs = checked(malloc((cap + 1) * sizeof *runs));
  char* line = NULL;
  size_t len = 0;
  char* last_parent = NULL;
  for (ssize_t n; (n = getline(&line, &len, list)) > 0;) {
    if (line[n - 1] == '\n') line[--n] = '\0';
    if (n < 3) continue;
    if (ndirs == cap || nfiles == cap) {
      cap *= 2;
      dirs = checked(realloc(dirs, cap * sizeof *dirs));
      files = checked(realloc(files, cap * sizeof *files));
      runs = checked(realloc(runs, (cap + 1) * sizeof *runs));
    }
    if (line[0] == 'd') {
      dirs[ndirs++] = checked(strdup(line + 2));
    } else {
      char* parent = parent_of(line + 2);
      if (last_parent == NULL || strcmp(parent, last_parent) != 0) runs[nruns++] = nfiles;
      free(last_parent);
      last_parent = parent;
      files[nfiles++] = checked(strdup(line + 2));
    }
  }
  runs[nruns] = nfiles;
  free(line);
  free(last_parent);
  fclose(list);
  int threads = atoi(argv[4]);
  if (threads < 1) threads = 1;

  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  src_root = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src_root < 0) die("open", argv[2]);
  if (mkdir(argv[3], 0755) != 0) die("mkdir", argv[3]);
  dest_root = open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dest_root < 0) die("open", argv[3]);
  for (size_t i = 0; i < ndirs; i++) {
    if (mkdirat(dest_root, dirs[i], 0755) != 0) die("mkdir", dirs[i]);
  }
  pthread_t pool[64];
  if (threads > 64) threads = 64;
  for (int t = 1; t < threads; t++) {
    errno = pthread_create(&pool[t], NULL, worker, NULL);
    if (errno != 0) die("pthread_create", "");
  }
  worker(NULL);
  for (int t = 1; t < threads; t++) pthread_join(pool[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &end);
  printf("%.0f\n", (end.tv_sec - start.tv_sec) * 1e6 + (end.tv_nsec - start.tv_nsec) / 1e3);
  return 0;
}
