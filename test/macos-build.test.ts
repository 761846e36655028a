// copy_darwin.cc cannot run here, but its logic can: it is compiled for
// Linux against stand-ins for the Apple calls it makes (fclonefileat is
// FICLONE into a new file, refused where Linux cannot clone; fcopyfile is a
// read/write loop that never clones; getattrlist and statfs report the
// volume; F_GETPATH reads /proc), then the contract and cp suites run on it,
// and the macOS-only paths (a clone renamed over an existing file) are
// checked on xfs, where the stand-in really clones.
//
// What this cannot show: Apple's own behaviour (error order, what fcopyfile
// and clonefile copy). The macOS CI job runs the suites on APFS for that;
// scripts/emulate/build-mac.mjs checks that the real Mach-O build compiles and links.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, type Api } from '../lib/api.js';
import type { NativeBinding } from '../lib/binding.js';
import { createNativeBackend } from '../lib/native.js';
import { CHILD_HANG, failure, randomFile, sha256, tempDir } from './helpers/files.js';
import { fullyShared, runsOn, scratchOn, titleOn } from './helpers/filesystems.js';
import { diffTrees } from './helpers/trees.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const root = path.resolve(__dirname, '..');
const work = tempDir('darwin-emulated');
const scratches: string[] = [work];
afterAll(() => {
  for (const dir of scratches) fs.rmSync(dir, { recursive: true, force: true });
});

// The Apple declarations copy_darwin.cc needs, with Apple's constant values.
const SHIM_HEADER = String.raw`// Apple's calls as copy_darwin.cc uses them, emulated on Linux.
#ifndef COWCOPY_DARWIN_SHIM_H_
#define COWCOPY_DARWIN_SHIM_H_
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define st_atimespec st_atim
#define st_mtimespec st_mtim

#define F_GETPATH 50
#define fcntl cowcopy_shim_fcntl
extern "C" int cowcopy_shim_fcntl(int fd, int cmd, char* path);

// A chown on macOS keeps the xattrs (Linux drops security.capability).
#include <unistd.h>
#define fchownat cowcopy_shim_fchownat
extern "C" int cowcopy_shim_fchownat(int dir, const char* name, uid_t uid, gid_t gid, int flags);

#define CLONE_NOFOLLOW 0x0001
#define CLONE_NOOWNERCOPY 0x0002
extern "C" int fclonefileat(int srcfd, int dst_dirfd, const char* dst, uint32_t flags);
extern "C" int clonefile(const char* src, const char* dst, uint32_t flags);

typedef uint32_t copyfile_flags_t;
typedef struct _copyfile_state* copyfile_state_t;
#define COPYFILE_DATA (1 << 3)
#define COPYFILE_CLONE (1 << 24)
#define COPYFILE_CLONE_FORCE (1 << 25)
#define COPYFILE_DATA_SPARSE (1 << 27)
extern "C" int fcopyfile(int from, int to, copyfile_state_t state, copyfile_flags_t flags);

typedef uint32_t attrgroup_t;
struct attrlist {
  unsigned short bitmapcount;
  uint16_t reserved;
  attrgroup_t commonattr, volattr, dirattr, fileattr, forkattr;
};
#define ATTR_BIT_MAP_COUNT 5
#define ATTR_VOL_INFO 0x80000000
#define ATTR_VOL_CAPABILITIES 0x00020000
typedef uint32_t vol_capabilities_set_t[4];
#define VOL_CAPABILITIES_INTERFACES 1
typedef struct vol_capabilities_attr {
  vol_capabilities_set_t capabilities;
  vol_capabilities_set_t valid;
} vol_capabilities_attr_t;
#define VOL_CAP_INT_CLONE 0x00010000
extern "C" int getattrlist(const char* path, void* list, void* buf, size_t size, unsigned int options);

#define MFSTYPENAMELEN 16
#define statfs cowcopy_shim_statfs
struct cowcopy_shim_statfs {
  char f_fstypename[MFSTYPENAMELEN];
  char f_mntonname[1024];
};
extern "C" int cowcopy_shim_statfs(const char* path, struct cowcopy_shim_statfs* out);
#endif
`;

// Their Linux stand-ins.
const SHIM_SOURCE = String.raw`// Linux stand-ins for clonefile, fcopyfile, getattrlist, statfs,
// F_GETPATH and fchownat, close enough to Apple's for copy_darwin.cc's logic to run.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

namespace {
constexpr uint32_t kCloneNofollow = 1, kCloneNoOwnerCopy = 2;
constexpr uint32_t kData = 1u << 3, kClone = 1u << 24, kCloneForce = 1u << 25, kSparse = 1u << 27;

const char* FsName(long magic) {
  switch (magic) {
    case 0xef53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683e: return "btrfs";
    default: return "other";
  }
}
bool Clones(long magic) { return magic == 0x58465342 || magic == 0x9123683e; }

int Fail(int err) {
  errno = err;
  return -1;
}
}  // namespace

extern "C" int cowcopy_shim_fchownat(int dir, const char* name, uid_t uid, gid_t gid, int flags) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", dir);
  const std::string path = dir == AT_FDCWD ? std::string(name) : std::string(proc) + "/" + name;
  char cap[256];
  const ssize_t kept = lgetxattr(path.c_str(), "security.capability", cap, sizeof cap);
  if (fchownat(dir, name, uid, gid, flags) != 0) return -1;
  return kept > 0 ? lsetxattr(path.c_str(), "security.capability", cap, kept, 0) : 0;
}

extern "C" int cowcopy_shim_fcntl(int fd, int cmd, char* path) {
  if (cmd != 50) return Fail(EINVAL);
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(proc, path, 1023);
  if (n < 0) return -1;
  path[n] = '\0';
  return 0;
}

// clonefile of a whole directory: a clone of every entry below it, as one
// call, where the volume clones (ENOTSUP elsewhere, or with
// COWCOPY_SHIM_NO_CLONE; nothing made): files by FICLONE, directories,
// symlinks, and FIFOs and sockets made again (what APFS does with those is
// not documented: the stand-in copies them, the case cowcopy must guard
// against). As clonefile(2) says: "as if each item was cloned individually"
// (hard links become files of their own), each with its own copy of the
// attributes and extended attributes (here user xattrs, modes, times),
// except that setuid/setgid are turned off for regular files, and ownership
// is as if created by open/mkdir/symlink unless root cloned without
// CLONE_NOOWNERCOPY (then the source's). src is followed unless
// CLONE_NOFOLLOW. Each call is logged to COWCOPY_SHIM_CLONEFILE_LOG.
namespace {
void RemoveAll(const char* path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    chmod(path, 0700);
    if (DIR* dir = opendir(path)) {
      while (struct dirent* d = readdir(dir)) {
        if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
          RemoveAll((std::string(path) + "/" + d->d_name).c_str());
      }
      closedir(dir);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

int CloneTree(const char* src, const char* dst, bool follow, bool owners) {
  struct stat st;
  if ((follow ? stat(src, &st) : lstat(src, &st)) != 0) return -1;
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(dst, 0700) != 0) return -1;
    DIR* dir = opendir(src);
    if (dir == nullptr) return -1;
    int result = 0;
    while (struct dirent* d = readdir(dir)) {
      if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
      std::string from = std::string(src) + "/" + d->d_name, to = std::string(dst) + "/" + d->d_name;
      if (CloneTree(from.c_str(), to.c_str(), false, owners) != 0) {
        result = -1;
        break;
      }
    }
    closedir(dir);
    if (result != 0) return -1;
  } else if (S_ISREG(st.st_mode)) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int result = out < 0 ? -1 : ioctl(out, FICLONE, in);
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (result != 0) return -1;
  } else if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = readlink(src, target, sizeof target - 1);
    if (n < 0) return -1;
    target[n] = '\0';
    if (symlink(target, dst) != 0) return -1;
    if (owners && lchown(dst, st.st_uid, st.st_gid) != 0) return -1;
    return utimensat(AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW);
  } else if (mknod(dst, st.st_mode, st.st_rdev) != 0) {
    return -1;
  }
  char names[4096];
  ssize_t length = llistxattr(src, names, sizeof names);
  for (ssize_t at = 0; length > 0 && at < length; at += strlen(names + at) + 1) {
    if (strncmp(names + at, "user.", 5) != 0) continue;
    char value[4096];
    ssize_t size = lgetxattr(src, names + at, value, sizeof value);
    if (size < 0 || lsetxattr(dst, names + at, value, size, 0) != 0) return -1;
  }
  if (owners && lchown(dst, st.st_uid, st.st_gid) != 0) return -1;
  const mode_t mode = S_ISREG(st.st_mode) ? st.st_mode & 07777 & ~06000 : st.st_mode & 07777;
  if (chmod(dst, mode) != 0) return -1;
  return utimensat(AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW);
}
}  // namespace

extern "C" int clonefile(const char* src, const char* dst, uint32_t flags) {
  if ((flags & ~(kCloneNofollow | kCloneNoOwnerCopy)) != 0) return Fail(EINVAL);
  const bool follow = (flags & kCloneNofollow) == 0;
  struct stat st, parent;
  if ((follow ? stat(src, &st) : lstat(src, &st)) != 0) return -1;
  if (lstat(dst, &parent) == 0) return Fail(EEXIST);
  std::string dir = dst;
  dir = dir.find('/') == std::string::npos ? "." : dir.substr(0, dir.rfind('/'));
  struct statfs sfs;
  if (stat(dir.c_str(), &parent) != 0 || statfs(dir.c_str(), &sfs) != 0) return -1;
  if (parent.st_dev != st.st_dev) return Fail(EXDEV);
  const char* off = getenv("COWCOPY_SHIM_NO_CLONE");
  if (!Clones(sfs.f_type) || (off && *off)) return Fail(ENOTSUP);
  if (const char* log = getenv("COWCOPY_SHIM_CLONEFILE_LOG")) {
    if (FILE* f = fopen(log, "a")) {
      fprintf(f, "%s\n", src);
      fclose(f);
    }
  }
  const bool owners = geteuid() == 0 && (flags & kCloneNoOwnerCopy) == 0;
  if (CloneTree(src, dst, follow, owners) == 0) return 0;
  int err = errno;
  RemoveAll(dst);  // a failed clone leaves nothing
  return Fail(err);
}

// clonefile: a new name only (EEXIST, never followed), one volume (EXDEV),
// ENOTSUP where the volume cannot; the clone has the source's mode without
// setuid/setgid, its times and its xattrs; owner as for open() with
// CLONE_NOOWNERCOPY, else the source's when root.
extern "C" int fclonefileat(int srcfd, int dirfd, const char* dst, uint32_t flags) {
  if ((flags & ~(kCloneNofollow | kCloneNoOwnerCopy)) != 0) return Fail(EINVAL);
  struct stat st;
  if (fstat(srcfd, &st) != 0) return -1;
  int fd = openat(dirfd, dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  auto undo = [&](int err) {
    close(fd);
    unlinkat(dirfd, dst, 0);
    return Fail(err);
  };
  struct stat made;
  if (fstat(fd, &made) != 0) return undo(errno);
  if (made.st_dev != st.st_dev) return undo(EXDEV);
  struct statfs sfs;
  if (fstatfs(fd, &sfs) != 0) return undo(errno);
  const char* off = getenv("COWCOPY_SHIM_NO_CLONE");
  if (!Clones(sfs.f_type) || (off && *off)) return undo(ENOTSUP);
  if (ioctl(fd, FICLONE, srcfd) != 0) return undo(errno);
  // clonefile(2): the clone has its own copy of the source's xattrs and ACLs
  // (here every xattr this user may set: Linux keeps ACLs as xattrs).
  char names[4096];
  ssize_t length = flistxattr(srcfd, names, sizeof names);
  for (ssize_t at = 0; length > 0 && at < length; at += strlen(names + at) + 1) {
    char value[4096];
    ssize_t size = fgetxattr(srcfd, names + at, value, sizeof value);
    if (size < 0) return undo(errno);
    if (fsetxattr(fd, names + at, value, size, 0) != 0 && !(errno == EPERM && geteuid() != 0)) return undo(errno);
  }
  if ((flags & kCloneNoOwnerCopy) == 0 && geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) != 0)
    return undo(errno);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (fchmod(fd, st.st_mode & 0777 & ~06000) != 0 || futimens(fd, times) != 0) return undo(errno);
  close(fd);
  return 0;
}

// fcopyfile(COPYFILE_DATA[|COPYFILE_DATA_SPARSE]): read/write from the
// current offsets, never a clone (no copy_file_range: it may reflink).
extern "C" int fcopyfile(int from, int to, void*, uint32_t flags) {
  if ((flags & kData) == 0 || (flags & (kClone | kCloneForce)) != 0) abort();  // not how we call it
  struct stat st;
  if (fstat(from, &st) != 0) return -1;
  off_t in = lseek(from, 0, SEEK_CUR), out = lseek(to, 0, SEEK_CUR);
  if (in < 0 || out < 0) return -1;
  const off_t delta = out - in;
  const bool sparse = (flags & kSparse) != 0 && static_cast<off_t>(st.st_blocks) * 512 < st.st_size;
  static thread_local char buf[1 << 16];
  off_t pos = in;
  for (;;) {
    off_t end = -1;
    if (sparse) {
      off_t data = lseek(from, pos, SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) break;
        return -1;
      }
      end = lseek(from, data, SEEK_HOLE);
      pos = data;
    }
    ssize_t n = 0;
    while ((end < 0 || pos < end) &&
           (n = pread(from, buf, end < 0 ? sizeof buf : std::min<off_t>(sizeof buf, end - pos), pos)) > 0) {
      for (ssize_t done = 0; done < n;) {
        ssize_t w = pwrite(to, buf + done, n - done, pos + delta + done);
        if (w < 0) return -1;
        done += w;
      }
      pos += n;
    }
    if (n < 0) return -1;
    if (!sparse || n == 0) break;
  }
  if (sparse && ftruncate(to, st.st_size - in + out) != 0) return -1;
  return 0;
}

extern "C" int getattrlist(const char* path, void* list, void* buf, size_t size, unsigned int options) {
  const uint32_t* words = static_cast<const uint32_t*>(list);
  // { bitmapcount(16) reserved(16) } commonattr volattr ...: volume info only.
  if ((words[0] & 0xffff) != 5 || words[1] != 0 || words[2] != (0x80000000u | 0x00020000u) || options != 0)
    return Fail(EINVAL);
  if (size < 36) return Fail(ERANGE);
  struct statfs sfs;
  if (statfs(path, &sfs) != 0) return -1;
  uint32_t reply[9] = {36};
  reply[1 + 1] = Clones(sfs.f_type) ? 0x00010000 : 0;  // capabilities[INTERFACES]
  reply[5 + 1] = 0x00010000;                           // valid[INTERFACES]
  memcpy(buf, reply, sizeof reply);
  return 0;
}

struct cowcopy_shim_statfs {
  char f_fstypename[16];
  char f_mntonname[1024];
};
extern "C" int cowcopy_shim_statfs(const char* path, struct cowcopy_shim_statfs* out) {
  struct statfs sfs;
  if (statfs(path, &sfs) != 0) return -1;
  memset(out, 0, sizeof *out);
  // COWCOPY_SHIM_APFS: a volume where the stand-ins clone is named as APFS is.
  const char* apfs = getenv("COWCOPY_SHIM_APFS");
  const bool as_apfs = apfs && *apfs && Clones(sfs.f_type);
  snprintf(out->f_fstypename, sizeof out->f_fstypename, "%s", as_apfs ? "apfs" : FsName(sfs.f_type));
  snprintf(out->f_mntonname, sizeof out->f_mntonname, "%s", path);
  return 0;
}
`;

/** Builds <work>/pkg/build/Release/cowcopy.node: binding.gyp's macOS sources, copy_darwin.cc on the stand-ins. */
async function buildEmulated(): Promise<string> {
  const include = path.join(work, 'include');
  fs.mkdirSync(path.join(include, 'sys'), { recursive: true });
  fs.writeFileSync(path.join(include, 'cowcopy_darwin_shim.h'), SHIM_HEADER);
  for (const name of ['copyfile.h', 'sys/attr.h', 'sys/clonefile.h', 'sys/mount.h'])
    fs.writeFileSync(path.join(include, name), '#include <cowcopy_darwin_shim.h>\n');
  fs.writeFileSync(path.join(work, 'shim.cc'), SHIM_SOURCE);
  const common = ['-std=c++17', '-fPIC', '-O1', '-fno-exceptions', '-Wall', '-Wextra', '-Werror'];
  // What binding.gyp compiles for OS=='mac', each with the flags it needs here.
  const { nativeSources } = await import('../scripts/sources.mjs');
  const posix = ['-D_GNU_SOURCE', '-D_FILE_OFFSET_BITS=64'];
  const units: [string, string[]][] = nativeSources('mac').map((source: string) => {
    const file = path.join(root, source);
    if (source.endsWith('copy_darwin.cc')) return [file, [`-I${include}`]]; // Apple's calls: the stand-ins
    if (source.endsWith('addon.cc'))
      return [
        file,
        [
          `-I${path.resolve(require('node-addon-api').include_dir as string)}`,
          `-I${path.join(path.dirname(process.execPath), '..', 'include', 'node')}`,
          '-DNAPI_VERSION=8',
          '-DNAPI_DISABLE_CPP_EXCEPTIONS',
          '-DNODE_ADDON_API_DISABLE_DEPRECATED',
        ],
      ];
    return [file, posix];
  });
  units.push([path.join(work, 'shim.cc'), []]);
  const objects = await Promise.all(
    units.map(async ([src, flags]) => {
      const obj = path.join(work, `${path.basename(src, '.cc')}.o`);
      await run('g++', [...common, ...flags, `-I${path.join(root, 'native')}`, '-c', src, '-o', obj]);
      return obj;
    }),
  );
  const out = path.join(work, 'pkg', 'build', 'Release', 'cowcopy.node');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  await run('g++', ['-shared', '-o', out, ...objects]);
  return out;
}

let addon = '';
let api: Api;
beforeAll(async () => {
  // The child runs below and the nobody test read it.
  fs.chmodSync(work, 0o755);
  addon = await buildEmulated();
  const binding = require(addon) as NativeBinding;
  expect(binding.platform).toBe('darwin');
  api = createApi(createNativeBackend(binding));
});

const leftovers = (dir: string) => fs.readdirSync(dir).filter((n) => n.includes('.cowcopy-'));

describe('copy_darwin.cc on emulated Apple calls', () => {
  it('passes the contract, cp and preserve suites', () => {
    // node-gyp-build loads <COWCOPY_PREBUILD>/build/Release/cowcopy.node. The
    // tiny filesystem is left out: the suites running beside this one fill it.
    const env = { ...process.env, COWCOPY_PREBUILD: path.join(work, 'pkg'), COWCOPY_TEST_SMALL: path.join(work, 'absent'), COWCOPY_REQUIRE_FS: '' };
    const loaded = spawnSync(
      process.execPath,
      ['-p', `require(${JSON.stringify(path.join(root, 'dist/binding.js'))}).loadBinding(process.env).binding.platform`],
      { encoding: 'utf8', env },
    );
    expect(loaded.stdout.trim(), loaded.stderr).toBe('darwin');
    const child = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/contract.test.ts', 'test/cp.test.ts', 'test/preserve.test.ts'],
      {
        cwd: root,
        encoding: 'utf8',
        env,
        // The three suites take about 3 minutes alone, over 7 on a loaded machine.
        timeout: CHILD_HANG,
      },
    );
    const output = `${child.stdout}\n${child.stderr}`;
    expect(child.status, output.slice(-6000)).toBe(0);
    expect(output).toMatch(/Test Files\s.*3 passed/);
  });

  describe.runIf(runsOn('xfs'))(titleOn('xfs', 'a whole directory in one clonefile, where the stand-in clones'), () => {
    let dir: string;
    let log: string;
    beforeAll(() => {
      dir = scratchOn('xfs', 'darwin-tree');
      scratches.push(dir);
      log = path.join(dir, 'clonefile.log');
      process.env.COWCOPY_SHIM_CLONEFILE_LOG = log;
    });
    afterAll(() => {
      delete process.env.COWCOPY_SHIM_CLONEFILE_LOG;
    });
    const cloned = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);

    function tree(root: string): string {
      fs.mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
      randomFile(path.join(root, 'a.bin'), 200_000);
      fs.writeFileSync(path.join(root, 'sub', 'b.txt'), 'b');
      fs.writeFileSync(path.join(root, 'sub', 'deeper', 'c.txt'), 'c');
      fs.symlinkSync('../a.bin', path.join(root, 'sub', 'link'));
      fs.chmodSync(path.join(root, 'a.bin'), 0o640);
      fs.chmodSync(path.join(root, 'sub', 'deeper'), 0o550);
      execFileSync('setfattr', ['-n', 'user.cowcopy', '-v', 'kept', path.join(root, 'a.bin')]);
      for (const rel of ['a.bin', 'sub/b.txt', 'sub/deeper/c.txt', 'sub/deeper', 'sub', '']) {
        execFileSync('touch', ['-h', '-d', '2003-04-05T06:07:08.123456789Z', path.join(root, rel)]);
      }
      execFileSync('touch', ['-h', '-d', '2004-05-06T07:08:09.987654321Z', path.join(root, 'sub', 'link')]);
      return root;
    }
    const stat = (file: string) => fs.lstatSync(file, { bigint: true });

    it('with preserveTimestamps: one call; modes, times (directories and links too) and xattrs as the source', async () => {
      const src = tree(path.join(dir, 'src'));
      const dest = path.join(dir, 'dest');
      const result = await api.cp(src, dest, { recursive: true, preserveTimestamps: true });
      expect(cloned()).toEqual([src]);
      expect(result).toMatchObject({ files: 3, directories: 3, symlinks: 1, strategies: { reflink: 3 } });
      expect(fullyShared(path.join(dest, 'a.bin'))).toBe(true);
      for (const rel of ['a.bin', 'sub/b.txt', 'sub/deeper/c.txt', 'sub/deeper', 'sub', 'sub/link']) {
        expect(stat(path.join(dest, rel)).mtimeNs, rel).toBe(stat(path.join(src, rel)).mtimeNs);
        expect(stat(path.join(dest, rel)).mode, rel).toBe(stat(path.join(src, rel)).mode);
      }
      expect(fs.readlinkSync(path.join(dest, 'sub', 'link'))).toBe('../a.bin');
      expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.cowcopy', path.join(dest, 'a.bin')], { encoding: 'utf8' })).toBe('kept');
    });

    it('a FIFO or a socket in the tree: the clone is undone, and cp() refuses it as fs.cp does, as the walk would', async () => {
      const server = net.createServer();
      try {
        for (const [kind, code] of [
          ['fifo', 'ERR_FS_CP_FIFO_PIPE'],
          ['socket', 'ERR_FS_CP_SOCKET'],
        ] as const) {
          const src = tree(path.join(dir, `src-${kind}`));
          const special = path.join(src, 'sub', 'deeper', 'special');
          if (kind === 'fifo') execFileSync('mkfifo', [special]);
          else await new Promise<void>((resolve) => server.listen(special, resolve));
          fs.rmSync(log, { force: true });
          const whole = path.join(dir, `whole-${kind}`);
          // One worker: the walk's order, and so what it copies before it stops, is the same twice.
          const err = await failure(() => api.cp(src, whole, { recursive: true, preserveTimestamps: true, concurrency: 1 }));
          expect(cloned()).toEqual([src]);
          expect(err.code).toBe(code);
          // What the walk alone does (no clonefile without preserveTimestamps).
          const walked = path.join(dir, `walked-${kind}`);
          const walkErr = await failure(() => api.cp(src, walked, { recursive: true, concurrency: 1 }));
          expect(walkErr.code).toBe(code);
          const names = (root: string) => fs.readdirSync(root, { recursive: true }).map(String).sort();
          expect(names(whole)).toEqual(names(walked));
          expect(names(whole)).not.toContain(path.join('sub', 'deeper', 'special'));
          if (kind === 'socket') await new Promise((resolve) => server.close(resolve));
        }
      } finally {
        server.close();
      }
    });
  });

  describe.runIf(runsOn('xfs'))(titleOn('xfs', 'over existing files, where the stand-in clones'), () => {
    let dir: string;
    let src: string;
    beforeAll(() => {
      dir = scratchOn('xfs', 'darwin');
      scratches.push(dir);
      fs.chmodSync(dir, 0o755); // the nobody test below walks through it
      src = randomFile(path.join(dir, 'src'), 3 * 1024 * 1024 + 5);
      fs.chmodSync(src, 0o4751);
      fs.utimesSync(src, new Date('2001-02-03T04:05:06Z'), new Date('2002-03-04T05:06:07Z'));
    });

    it('a new name is cloned straight to it: mode with setuid, fresh times unless asked', async () => {
      const fresh = path.join(dir, 'fresh');
      expect(await api.clone(src, fresh)).toEqual({ strategy: 'reflink', bytes: 3 * 1024 * 1024 + 5 });
      expect(fullyShared(fresh)).toBe(true);
      // The stand-in, like clonefile, clears setuid and keeps the source's times.
      expect(fs.statSync(fresh).mode & 0o7777).toBe(0o4751);
      expect(fs.statSync(fresh).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
      const kept = path.join(dir, 'kept');
      await api.clone(src, kept, { preserveTimestamps: true });
      expect(fs.statSync(kept, { bigint: true }).mtimeNs).toBe(fs.statSync(src, { bigint: true }).mtimeNs);
      expect(leftovers(dir)).toEqual([]);
    });

    it('an existing file is replaced by a finished clone renamed over it', async () => {
      const dest = path.join(dir, 'existing');
      fs.writeFileSync(dest, 'old content');
      const ino = fs.statSync(dest).ino;
      expect((await api.clone(src, dest)).strategy).toBe('reflink');
      expect(fs.statSync(dest).ino).not.toBe(ino);
      expect(sha256(dest)).toBe(sha256(src));
      expect(fullyShared(dest)).toBe(true);
      expect(fs.statSync(dest).mode & 0o7777).toBe(0o4751);
      expect(leftovers(dir)).toEqual([]);
    });

    it.runIf(process.getuid?.() === 0)('the replacing clone keeps the owner and group it replaces', async () => {
      const dest = path.join(dir, 'owned');
      fs.writeFileSync(dest, 'theirs');
      fs.chownSync(dest, 65534, 65534);
      expect((await api.clone(src, dest)).strategy).toBe('reflink');
      expect(fs.statSync(dest)).toMatchObject({ uid: 65534, gid: 65534 });
    });

    it('a file with other hard links is written into by auto, replaced only by a forced clone', async () => {
      const dest = path.join(dir, 'linked');
      const other = path.join(dir, 'linked-other');
      fs.writeFileSync(dest, 'shared old content');
      fs.linkSync(dest, other);
      expect((await api.clone(src, dest)).strategy).toBe('kernel');
      expect(sha256(other)).toBe(sha256(src));
      expect(fs.statSync(dest).ino).toBe(fs.statSync(other).ino);

      fs.writeFileSync(dest, 'shared again');
      expect((await api.clone(src, dest, { strategy: 'reflink' })).strategy).toBe('reflink');
      expect(fs.readFileSync(other, 'utf8')).toBe('shared again');
      expect(sha256(dest)).toBe(sha256(src));
    });

    it('through a symlink the file it leads to is replaced and the link stays, dangling or not', async () => {
      fs.writeFileSync(path.join(dir, 'target'), 'old');
      fs.symlinkSync('target', path.join(dir, 'link'));
      await api.copyFile(src, path.join(dir, 'link'));
      expect(fs.lstatSync(path.join(dir, 'link')).isSymbolicLink()).toBe(true);
      expect(sha256(path.join(dir, 'target'))).toBe(sha256(src));
      expect(fullyShared(path.join(dir, 'target'))).toBe(true);

      fs.symlinkSync('made', path.join(dir, 'dangling'));
      expect((await api.clone(src, path.join(dir, 'dangling'))).strategy).toBe('reflink');
      expect(fs.lstatSync(path.join(dir, 'dangling')).isSymbolicLink()).toBe(true);
      expect(fullyShared(path.join(dir, 'made'))).toBe(true);
      expect(leftovers(dir)).toEqual([]);
    });

    it('a forced copy has blocks of its own', async () => {
      const copy = path.join(dir, 'copy');
      expect((await api.clone(src, copy, { strategy: 'copy' })).strategy).toBe('kernel');
      expect(fullyShared(copy)).toBe(false);
      expect(sha256(copy)).toBe(sha256(src));
    });

    it('probe: the volume says it clones and a scratch clone succeeds', async () => {
      expect(await api.probe(dir)).toMatchObject({ filesystem: 'xfs', reflink: true, hardlink: true, copyFileRange: true });
      expect(fs.readdirSync(dir).filter((n) => n.includes('probe'))).toEqual([]);
    });

    it.runIf(process.getuid?.() === 0)(
      'in a directory nobody may write to, auto writes into the file and a forced clone fails with EACCES',
      () => {
        const ro = path.join(dir, 'read-only');
        fs.mkdirSync(ro);
        const dest = path.join(ro, 'dest');
        fs.writeFileSync(dest, 'writable file');
        const from = path.join(ro, 'from');
        fs.copyFileSync(src, from);
        fs.chmodSync(from, 0o644);
        fs.chownSync(dest, 65534, 65534);
        fs.chmodSync(ro, 0o555);
        const script = `
          const { createApi } = require(${JSON.stringify(path.join(root, 'dist/api.js'))});
          const { createNativeBackend } = require(${JSON.stringify(path.join(root, 'dist/native.js'))});
          const api = createApi(createNativeBackend(require(${JSON.stringify(addon)})));
          const out = [api.cloneSync(${JSON.stringify(from)}, ${JSON.stringify(dest)}).strategy];
          try { api.cloneSync(${JSON.stringify(from)}, ${JSON.stringify(dest)}, { strategy: 'reflink' }); out.push('cloned'); }
          catch (e) { out.push(e.code + ' ' + e.syscall); }
          console.log(JSON.stringify(out));`;
        const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', uid: 65534, gid: 65534 });
        fs.chmodSync(ro, 0o755);
        expect(child.stderr).toBe('');
        expect(JSON.parse(child.stdout)).toEqual(['kernel', 'EACCES fclonefileat']);
        expect(sha256(dest)).toBe(sha256(src));
        expect(leftovers(ro)).toEqual([]);
      },
    );
  });

  // snapshot() on the macOS code: CloneTree's one clonefile of the
  // directory, where the stand-ins clone and statfs names the volume "apfs"
  // (COWCOPY_SHIM_APFS), as APFS does on a Mac.
  describe.runIf(runsOn('xfs'))(titleOn('xfs', 'workspaces: snapshot() as one clonefile of the directory'), () => {
    let dir: string;
    let log: string;
    let template: string;
    beforeAll(() => {
      dir = scratchOn('xfs', 'darwin-workspace');
      scratches.push(dir);
      log = path.join(dir, 'clonefile.log');
      process.env.COWCOPY_SHIM_CLONEFILE_LOG = log;
      process.env.COWCOPY_SHIM_APFS = '1';
      template = path.join(dir, 'template');
      fs.mkdirSync(path.join(template, 'src', 'deeper'), { recursive: true });
      fs.mkdirSync(path.join(template, 'empty'));
      randomFile(path.join(template, 'data.bin'), 300_000);
      fs.writeFileSync(path.join(template, 'src', 'main.c'), 'int main(void) { return 0; }\n');
      fs.writeFileSync(path.join(template, 'src', 'deeper', 'theirs.txt'), 'owned by nobody');
      fs.symlinkSync('../../data.bin', path.join(template, 'src', 'deeper', 'link'));
      fs.chmodSync(path.join(template, 'src', 'main.c'), 0o750);
      // A directory's setgid bit stays (clonefile turns it off on regular files only).
      fs.chmodSync(path.join(template, 'src'), 0o2775);
      fs.chownSync(path.join(template, 'src', 'deeper', 'theirs.txt'), 65534, 65534);
      execFileSync('setfattr', ['-n', 'user.cowcopy', '-v', 'kept', path.join(template, 'data.bin')]);
      for (const rel of ['data.bin', 'src/main.c', 'src/deeper/theirs.txt', 'src/deeper', 'src', 'empty', '']) {
        execFileSync('touch', ['-h', '-d', '2003-04-05T06:07:08.123456789Z', path.join(template, rel)]);
      }
    });
    afterAll(() => {
      delete process.env.COWCOPY_SHIM_CLONEFILE_LOG;
      delete process.env.COWCOPY_SHIM_APFS;
      delete process.env.COWCOPY_SHIM_NO_CLONE;
    });
    const cloned = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
    const whole = { strategy: 'clonefile', reason: null, readOnly: false, nestedSubvolumes: [] };

    it("snapshot(): strategy 'clonefile' in one call; the workspace equals the template, owners and xattrs too, and is its own", async () => {
      fs.rmSync(log, { force: true });
      const dest = path.join(dir, 'ws');
      expect(await api.snapshot(template, dest)).toEqual(whole);
      expect(cloned()).toEqual([template]);
      expect(diffTrees(template, dest, { timestamps: 'ns' })).toEqual([]);
      expect(fullyShared(path.join(dest, 'data.bin'))).toBe(true);
      expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.cowcopy', path.join(dest, 'data.bin')], { encoding: 'utf8' })).toBe('kept');
      if (process.getuid?.() === 0) expect(fs.statSync(path.join(dest, 'src', 'deeper', 'theirs.txt'))).toMatchObject({ uid: 65534, gid: 65534 });
      // Copy-on-write both ways (the template's file written, then put back).
      fs.writeFileSync(path.join(dest, 'src', 'main.c'), 'changed in the workspace');
      expect(fs.readFileSync(path.join(template, 'src', 'main.c'), 'utf8')).toBe('int main(void) { return 0; }\n');
      const data = sha256(path.join(dest, 'data.bin'));
      fs.writeFileSync(path.join(template, 'data.bin'), 'changed in the template');
      expect(sha256(path.join(dest, 'data.bin'))).toBe(data);
      fs.copyFileSync(path.join(dest, 'data.bin'), path.join(template, 'data.bin'));
      execFileSync('touch', ['-h', '-d', '2003-04-05T06:07:08.123456789Z', path.join(template, 'data.bin')]);
    });

    it('snapshotSync() the same; src through a symlink and a missing parent of dest are cloned too', () => {
      fs.rmSync(log, { force: true });
      const alias = path.join(dir, 'template-link');
      fs.symlinkSync(template, alias);
      const dest = path.join(dir, 'made', 'below', 'ws');
      expect(api.snapshotSync(alias, dest)).toEqual(whole);
      expect(cloned()).toEqual([template]); // the retry, by its real path, once the parent was made
      expect(diffTrees(template, dest, { timestamps: 'ns' })).toEqual([]);
    });

    it('readOnly: true on APFS: a writable clone all the same, and result.readOnly false', async () => {
      fs.rmSync(log, { force: true });
      const dest = path.join(dir, 'ws-read-only');
      expect(await api.snapshot(template, dest, { readOnly: true })).toEqual(whole);
      expect(cloned()).toEqual([template]);
      fs.writeFileSync(path.join(dest, 'src', 'new.txt'), 'writable');
    });

    it('an existing dest is EEXIST, and nothing is cloned into it', async () => {
      for (const existing of [path.join(dir, 'existing-dir'), path.join(dir, 'existing-file')]) {
        if (existing.endsWith('dir')) fs.mkdirSync(existing);
        else fs.writeFileSync(existing, 'there');
        const err = await failure(() => api.snapshot(template, existing));
        expect(err).toMatchObject({ code: 'EEXIST', syscall: 'snapshot' });
      }
      expect(fs.readdirSync(path.join(dir, 'existing-dir'))).toEqual([]);
      expect(fs.readFileSync(path.join(dir, 'existing-file'), 'utf8')).toBe('there');
    });

    it('dest inside src, by name or through a symlink to one of its directories: refused, no clone tried, nothing made', async () => {
      fs.rmSync(log, { force: true });
      const named = await failure(() => api.snapshot(template, path.join(template, 'src', 'ws')));
      expect(named.code).toBe('EINVAL');
      // Not inside by name: only CloneTree's realpath check sees it.
      const into = path.join(dir, 'into-src');
      fs.symlinkSync(path.join(template, 'src'), into);
      const linked = await failure(() => api.snapshot(template, path.join(into, 'ws')));
      expect(linked.code).toBe('EINVAL');
      expect(cloned()).toEqual([]);
      expect(fs.existsSync(path.join(template, 'src', 'ws'))).toBe(false);
    });

    it("prepareTemplate(): nothing to make, snapshot() clones it; removeTree() removes a clone", async () => {
      expect(await api.prepareTemplate(template)).toEqual({ made: 'none', strategy: 'clonefile', reason: null, copied: null, kept: null });
      expect(api.prepareTemplateSync(template)).toEqual({ made: 'none', strategy: 'clonefile', reason: null, copied: null, kept: null });
      const dest = path.join(dir, 'ws-removed');
      await api.snapshot(template, dest);
      fs.chmodSync(path.join(dest, 'src', 'deeper'), 0o500);
      expect(await api.removeTree(dest)).toEqual({ strategy: 'walk' });
      expect(fs.existsSync(dest)).toBe(false);
      await api.snapshot(template, dest);
      expect(api.removeTreeSync(dest)).toEqual({ strategy: 'walk' });
      expect(fs.existsSync(dest)).toBe(false);
      expect(fs.existsSync(path.join(template, 'src', 'deeper', 'theirs.txt'))).toBe(true);
    });

    it('where the volume refuses the clone (ENOTSUP) the walk copies the tree and says why', async () => {
      process.env.COWCOPY_SHIM_NO_CLONE = '1';
      try {
        const dest = path.join(dir, 'ws-refused');
        const result = await api.snapshot(template, dest);
        expect(result).toMatchObject({ strategy: 'walk', reason: 'clonefile is not supported here (ENOTSUP)', readOnly: false, files: 3, symlinks: 1 });
        expect(diffTrees(template, dest, { timestamps: 'ns' })).toEqual([]);
        const err = await failure(() => api.snapshot(template, path.join(dir, 'ws-no-walk'), { walk: false }));
        expect(err.code).toBe('ENOTSUP');
        expect(err.message).toContain('clonefile is not supported here (ENOTSUP)');
        expect(fs.existsSync(path.join(dir, 'ws-no-walk'))).toBe(false);
      } finally {
        delete process.env.COWCOPY_SHIM_NO_CLONE;
      }
    });

    it.runIf(runsOn('btrfs'))('dest on another volume (EXDEV): the walk, and the reason says so', async () => {
      const other = scratchOn('btrfs', 'darwin-workspace-into');
      scratches.push(other);
      const dest = path.join(other, 'ws');
      const result = await api.snapshot(template, dest);
      expect(result).toMatchObject({ strategy: 'walk', reason: 'dest is on another filesystem than src (EXDEV): a clone stays within one' });
      expect(diffTrees(template, dest, { timestamps: 'ns' })).toEqual([]);
    });

    it.runIf(runsOn('ext4'))('a volume that is not APFS: nothing tried, the walk, named by the volume', async () => {
      const plain = scratchOn('ext4', 'darwin-workspace-plain');
      scratches.push(plain);
      fs.mkdirSync(path.join(plain, 'template'));
      fs.writeFileSync(path.join(plain, 'template', 'a.txt'), 'a');
      fs.rmSync(log, { force: true });
      const result = await api.snapshot(path.join(plain, 'template'), path.join(plain, 'ws'));
      expect(result).toMatchObject({ strategy: 'walk', reason: 'ext4 has no whole-tree clone (btrfs snapshots and APFS directory clones are the ones)', files: 1 });
      expect(cloned()).toEqual([]);
      expect(await api.prepareTemplate(path.join(plain, 'template'))).toMatchObject({ made: 'none', strategy: 'walk' });
    });
  });

  describe.runIf(runsOn('xfs') && runsOn('btrfs'))(titleOn('xfs', titleOn('btrfs', 'across volumes')), () => {
    it('a forced clone fails with EXDEV and writes nothing; auto copies', async () => {
      const from = randomFile(path.join(scratchOn('xfs', 'darwin-from'), 'src'), 100_000);
      const into = scratchOn('btrfs', 'darwin-into');
      scratches.push(path.dirname(from), into);
      const err = await api.clone(from, path.join(into, 'forced'), { strategy: 'reflink' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EXDEV' });
      expect(fs.readdirSync(into)).toEqual([]);
      expect((await api.clone(from, path.join(into, 'auto'))).strategy).toBe('kernel');
    });
  });
});
