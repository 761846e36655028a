// The least a file-by-file copy of a tree asks of the kernel, as a yardstick
// for cowcopy's cp(): every directory made with mkdir, then for every file
// open the source, fstat it, create the destination, FICLONE (or
// copy_file_range where the filesystem cannot clone), close both. No modes,
// no timestamps, no checks beyond failing: a floor, not a copier.
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

static void copy_file(const char* rel) {
  int s = openat(src_root, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (s < 0) die("open", rel);
  struct stat st;
  if (fstat(s, &st) != 0) die("fstat", rel);
  int d = openat(dest_root, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
  if (d < 0) die("create", rel);
  if (ioctl(d, FICLONE, s) != 0) {
    if (errno != EOPNOTSUPP && errno != EXDEV && errno != EINVAL && errno != ENOTTY) die("FICLONE", rel);
    for (off_t left = st.st_size; left > 0;) {
      ssize_t n = copy_file_range(s, NULL, d, NULL, (size_t)left, 0);
      if (n <= 0) die("copy_file_range", rel);
      left -= n;
    }
  }
  close(s);
  close(d);
}

static void* worker(void* unused) {
  (void)unused;
  for (size_t r; (r = atomic_fetch_add(&next_run, 1)) < nruns;) {
    for (size_t i = runs[r]; i < runs[r + 1]; i++) copy_file(files[i]);
  }
  return NULL;
}

static char* parent_of(const char* rel) {
  const char* slash = strrchr(rel, '/');
  return strndup(rel, slash ? (size_t)(slash - rel) : 0);
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: floor <list> <src> <dest> <threads>\n");
    return 2;
  }
  FILE* list = fopen(argv[1], "r");
  if (list == NULL) die("open", argv[1]);
  size_t cap = 1024;
  dirs = malloc(cap * sizeof *dirs);
  files = malloc(cap * sizeof *files);
  runs = malloc((cap + 1) * sizeof *runs);
  char* line = NULL;
  size_t len = 0;
  char* last_parent = NULL;
  for (ssize_t n; (n = getline(&line, &len, list)) > 0;) {
    if (line[n - 1] == '\n') line[--n] = '\0';
    if (n < 3) continue;
    if (ndirs == cap || nfiles == cap) {
      cap *= 2;
      dirs = realloc(dirs, cap * sizeof *dirs);
      files = realloc(files, cap * sizeof *files);
      runs = realloc(runs, (cap + 1) * sizeof *runs);
    }
    if (line[0] == 'd') {
      dirs[ndirs++] = strdup(line + 2);
    } else {
      char* parent = parent_of(line + 2);
      if (last_parent == NULL || strcmp(parent, last_parent) != 0) runs[nruns++] = nfiles;
      free(last_parent);
      last_parent = parent;
      files[nfiles++] = strdup(line + 2);
    }
  }
  runs[nruns] = nfiles;
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
  for (int t = 1; t < threads; t++) pthread_create(&pool[t], NULL, worker, NULL);
  worker(NULL);
  for (int t = 1; t < threads; t++) pthread_join(pool[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &end);
  printf("%.0f\n", (end.tv_sec - start.tv_sec) * 1e6 + (end.tv_nsec - start.tv_nsec) / 1e3);
  return 0;
}
