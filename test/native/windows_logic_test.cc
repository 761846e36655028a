// The Windows backend's pure logic, run on Linux: clone range planning and
// Win32 error translation (native/clone_plan.h, native/win_errors.h).
//
// Prints "ok <check>" or "FAIL <check>: <why>" per check, then one
// "map <win32> <uv>" line for every Win32 code from 1 to 69999 that translates to
// something other than UV_UNKNOWN; test/windows-logic.test.ts compares those
// with the table measured from node.exe. Exits 1 when a check failed.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "clone_plan.h"
#include "win_errors.h"

namespace {

using cowcopy::ClonePlan;
using cowcopy::kCloneRangeLimit;
using cowcopy::MaxCloneChunk;
using cowcopy::PlanClone;

int failures = 0;

void Check(bool ok, const std::string& name, const std::string& why = "") {
  if (ok) {
    std::printf("ok %s\n", name.c_str());
  } else {
    failures++;
    std::printf("FAIL %s: %s\n", name.c_str(), why.c_str());
  }
}

std::string Num(uint64_t n) {
  char text[32];
  std::snprintf(text, sizeof text, "%" PRIu64, n);
  return text;
}

// Every property a plan must have, whatever the size: ranges in order from
// 0, whole clusters, each below 4 GiB, covering the file rounded up to a
// cluster, and the partial last cluster (if any) a range of its own.
std::string PlanProblem(uint64_t size, uint64_t cluster, const ClonePlan& plan) {
  uint64_t expect_offset = 0;
  for (size_t i = 0; i < plan.ranges.size(); i++) {
    const auto& r = plan.ranges[i];
    std::string at = "range " + Num(i) + " [" + Num(r.offset) + "+" + Num(r.length) + "]";
    if (r.offset != expect_offset) return at + " does not start where the previous ended";
    if (r.length == 0) return at + " is empty";
    if (r.offset % cluster != 0 || r.length % cluster != 0) return at + " is not cluster-aligned";
    if (r.length >= kCloneRangeLimit) return at + " is not below 4 GiB";
    expect_offset = r.offset + r.length;
  }
  const uint64_t rounded = (size + cluster - 1) / cluster * cluster;
  if (expect_offset != rounded) return "ranges end at " + Num(expect_offset) + ", not " + Num(rounded);
  if (plan.tail_offset + plan.tail_bytes != size) return "tail does not end at the file size";
  if (plan.tail_offset % cluster != 0) return "tail does not start on a cluster";
  if (plan.tail_bytes >= cluster) return "tail is a whole cluster or more";
  if (plan.tail_bytes != 0) {
    const auto& last = plan.ranges.back();
    if (last.offset != plan.tail_offset || last.length != cluster)
      return "the tail is not a one-cluster range of its own";
  }
  return "";
}

void CheckPlan(uint64_t size, uint64_t cluster, size_t expect_ranges) {
  ClonePlan plan;
  std::string name = "plan size=" + Num(size) + " cluster=" + Num(cluster);
  if (!PlanClone(size, cluster, &plan)) {
    Check(false, name, "no plan");
    return;
  }
  std::string problem = PlanProblem(size, cluster, plan);
  if (problem.empty() && plan.ranges.size() != expect_ranges)
    problem = Num(plan.ranges.size()) + " ranges, expected " + Num(expect_ranges);
  Check(problem.empty(), name, problem);
}

void CheckNoPlan(uint64_t size, uint64_t cluster) {
  ClonePlan plan;
  plan.tail_bytes = 7;
  bool planned = PlanClone(size, cluster, &plan);
  Check(!planned && plan.ranges.empty() && plan.tail_bytes == 0,
        "no plan for size=" + Num(size) + " cluster=" + Num(cluster),
        planned ? "a plan was made" : "the plan was not cleared");
}

void PlanTests() {
  constexpr uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;

  Check(MaxCloneChunk(4 * kKiB) == 4 * kGiB - 4 * kKiB, "max chunk 4 KiB clusters",
        Num(MaxCloneChunk(4 * kKiB)));
  Check(MaxCloneChunk(64 * kKiB) == 4 * kGiB - 64 * kKiB, "max chunk 64 KiB clusters",
        Num(MaxCloneChunk(64 * kKiB)));
  Check(MaxCloneChunk(3000) == 4294965000u, "max chunk, a cluster size that is no power of two",
        Num(MaxCloneChunk(3000)));
  Check(MaxCloneChunk(0) == 0 && MaxCloneChunk(4 * kGiB) == 0, "no chunk for impossible clusters");

  // Zero size: nothing to clone, no tail.
  {
    ClonePlan plan;
    bool ok = PlanClone(0, 4 * kKiB, &plan);
    Check(ok && plan.ranges.empty() && plan.tail_offset == 0 && plan.tail_bytes == 0, "plan size=0");
  }
  // Smaller than a cluster: the whole file is the tail.
  {
    ClonePlan plan;
    bool ok = PlanClone(1, 4 * kKiB, &plan);
    Check(ok && plan.ranges.size() == 1 && plan.ranges[0].offset == 0 &&
              plan.ranges[0].length == 4 * kKiB && plan.tail_offset == 0 && plan.tail_bytes == 1,
          "plan size=1: one cluster, all tail");
  }
  // Exact multiples: no tail range.
  CheckPlan(4 * kKiB, 4 * kKiB, 1);
  CheckPlan(64 * kKiB, 4 * kKiB, 1);
  CheckPlan(4 * kGiB - 4 * kKiB, 4 * kKiB, 1);  // exactly one maximal chunk
  CheckPlan(4 * kGiB, 4 * kKiB, 2);             // one cluster more than a chunk
  CheckPlan(10 * kGiB, 4 * kKiB, 3);
  CheckPlan(10 * kGiB, 64 * kKiB, 3);
  // Unaligned: body chunks plus one tail cluster.
  CheckPlan(4 * kKiB + 1, 4 * kKiB, 2);
  CheckPlan(300000, 4 * kKiB, 2);
  CheckPlan(4 * kGiB + 123, 4 * kKiB, 3);
  CheckPlan(5 * kGiB + 123, 64 * kKiB, 3);
  CheckPlan(64 * kKiB - 1, 64 * kKiB, 1);
  // Large files: many chunks, none reaching 4 GiB.
  CheckPlan(1024 * kGiB + 4095, 4 * kKiB, 258);

  {
    ClonePlan plan;
    PlanClone(10 * kGiB + 5, 4 * kKiB, &plan);
    bool ok = plan.ranges.size() == 4 && plan.ranges[0].length == 4 * kGiB - 4 * kKiB &&
              plan.ranges[1].length == 4 * kGiB - 4 * kKiB &&
              plan.ranges[2].length == 2 * kGiB + 8 * kKiB && plan.ranges[3].offset == 10 * kGiB &&
              plan.ranges[3].length == 4 * kKiB && plan.tail_offset == 10 * kGiB &&
              plan.tail_bytes == 5;
    Check(ok, "plan 10 GiB + 5: two maximal chunks, the rest, the tail");
  }

  CheckNoPlan(100, 0);
  CheckNoPlan(100, 4 * kGiB);
  CheckNoPlan(uint64_t{1} << 63, 4 * kKiB);
  // The last cluster of the largest file would end past the largest offset.
  CheckNoPlan((uint64_t{1} << 63) - 1, 4 * kKiB);
}

void TranslationTests() {
  namespace w = cowcopy::win;
  namespace uv = cowcopy::uvwin;
  struct Case {
    uint32_t win32;
    int uv;
    const char* what;
  };
  // The mappings the copy paths meet, spelled out.
  const Case cases[] = {
      {0, 0, "success"},
      {w::kErrorFileNotFound, uv::kENOENT, "ERROR_FILE_NOT_FOUND -> ENOENT"},
      {w::kErrorPathNotFound, uv::kENOENT, "ERROR_PATH_NOT_FOUND -> ENOENT"},
      {w::kErrorInvalidName, uv::kENOENT, "ERROR_INVALID_NAME -> ENOENT"},
      {w::kErrorDirectory, uv::kENOENT, "ERROR_DIRECTORY -> ENOENT"},
      {w::kErrorAccessDenied, uv::kEPERM, "ERROR_ACCESS_DENIED -> EPERM (libuv 1.x)"},
      {w::kErrorPrivilegeNotHeld, uv::kEPERM, "ERROR_PRIVILEGE_NOT_HELD -> EPERM"},
      {w::kErrorCantAccessFile, uv::kEACCES, "ERROR_CANT_ACCESS_FILE -> EACCES"},
      {w::kErrorSharingViolation, uv::kEBUSY, "ERROR_SHARING_VIOLATION -> EBUSY"},
      {w::kErrorLockViolation, uv::kEBUSY, "ERROR_LOCK_VIOLATION -> EBUSY"},
      {w::kErrorNotSameDevice, uv::kEXDEV, "ERROR_NOT_SAME_DEVICE -> EXDEV"},
      {w::kErrorFileExists, uv::kEEXIST, "ERROR_FILE_EXISTS -> EEXIST"},
      {w::kErrorAlreadyExists, uv::kEEXIST, "ERROR_ALREADY_EXISTS -> EEXIST"},
      {w::kErrorNotSupported, uv::kENOTSUP, "ERROR_NOT_SUPPORTED -> ENOTSUP"},
      {w::kErrorInvalidFunction, uv::kEISDIR, "ERROR_INVALID_FUNCTION -> EISDIR"},
      {w::kErrorInvalidParameter, uv::kEINVAL, "ERROR_INVALID_PARAMETER -> EINVAL"},
      {w::kErrorDiskFull, uv::kENOSPC, "ERROR_DISK_FULL -> ENOSPC"},
      {w::kErrorHandleDiskFull, uv::kENOSPC, "ERROR_HANDLE_DISK_FULL -> ENOSPC"},
      {w::kErrorFilenameExcedRange, uv::kENAMETOOLONG, "ERROR_FILENAME_EXCED_RANGE -> ENAMETOOLONG"},
      {w::kErrorWriteProtect, uv::kEROFS, "ERROR_WRITE_PROTECT -> EROFS"},
      {w::kErrorDirNotEmpty, uv::kENOTEMPTY, "ERROR_DIR_NOT_EMPTY -> ENOTEMPTY"},
      {w::kErrorNoUnicodeTranslation, uv::kECHARSET, "ERROR_NO_UNICODE_TRANSLATION -> ECHARSET"},
      {w::kErrorTooManyOpenFiles, uv::kEMFILE, "ERROR_TOO_MANY_OPEN_FILES -> EMFILE"},
      {w::kErrorCantResolveFilename, uv::kELOOP, "ERROR_CANT_RESOLVE_FILENAME -> ELOOP"},
      {w::kErrorBlockTooManyReferences, uv::kUNKNOWN, "ERROR_BLOCK_TOO_MANY_REFERENCES: not in libuv's table"},
      {12345, uv::kUNKNOWN, "an unmapped code -> UNKNOWN"},
  };
  for (const Case& c : cases) {
    int got = w::TranslateError(c.win32);
    Check(got == c.uv, std::string("translate ") + c.what, "got " + std::to_string(got));
  }


  const uint32_t unsupported[] = {w::kErrorInvalidFunction, w::kErrorNotSupported,
                                  w::kErrorInvalidParameter, w::kErrorNotSameDevice,
                                  w::kErrorBlockTooManyReferences};
  for (uint32_t e : unsupported) {
    Check(w::CloneUnsupported(e), "clone falls back on " + Num(e));
    int forced = w::ForcedCloneError(e);
    int expect = e == w::kErrorNotSameDevice ? uv::kEXDEV : uv::kENOTSUP;
    Check(forced == expect, "forced clone reports " + Num(e) + " as ENOTSUP/EXDEV",
          "got " + std::to_string(forced));
  }
  const uint32_t real_failures[] = {w::kErrorDiskFull, w::kErrorAccessDenied,
                                    w::kErrorSharingViolation, w::kErrorWriteProtect};
  for (uint32_t e : real_failures) {
    Check(!w::CloneUnsupported(e), "clone fails (no fallback) on " + Num(e));
  }
  Check(w::CloneNeverWorks(w::kErrorInvalidFunction) && w::CloneNeverWorks(w::kErrorNotSameDevice),
        "never-works answers are remembered: no block cloning on the volume, two volumes");
  // [MS-FSCC] 2.3.8: NOT_SUPPORTED for a range past the source's size (a file
  // cut while it is cloned) or a sparse mismatch, which are about one file.
  Check(!w::CloneNeverWorks(w::kErrorNotSupported) && !w::CloneNeverWorks(w::kErrorInvalidParameter) &&
            !w::CloneNeverWorks(w::kErrorBlockTooManyReferences),
        "per-file clone failures never disable cloning for the volume");
  Check(w::TailMayBeWritten(w::kErrorNotSupported) && w::TailMayBeWritten(w::kErrorInvalidParameter),
        "a tail range refused as past the source's size (NOT_SUPPORTED, INVALID_PARAMETER) is written instead");
  Check(!w::TailMayBeWritten(w::kErrorDiskFull) && !w::TailMayBeWritten(w::kErrorAccessDenied),
        "other tail failures fail the clone");
}

std::string Steps(const cowcopy::CloneRecipe& recipe) {
  static const char* names[] = {"sparse", "integrity", "length", "clone", "unsparse"};
  std::string out;
  for (int i = 0; i < recipe.count; i++) out += std::string(i ? " " : "") + names[static_cast<int>(recipe.steps[i])];
  return out;
}

void RecipeTests() {
  using cowcopy::IntegrityInfo;
  using cowcopy::RecipeFor;
  const IntegrityInfo none{0, 0};
  const IntegrityInfo crc64{2, 0};
  struct Case {
    bool src_sparse, dest_sparse;
    const IntegrityInfo *src, *dest;
    const char* expect;
    const char* what;
  };
  const Case cases[] = {
      {false, false, nullptr, nullptr, "sparse length clone unsparse",
       "the destination is sparse before it gets its length (no room needed for a second copy), not sparse after"},
      {true, false, nullptr, nullptr, "sparse length clone", "a sparse source keeps a sparse destination"},
      {false, true, nullptr, nullptr, "length clone unsparse", "a destination sparse already is not made so again"},
      {false, false, &none, &none, "sparse length clone unsparse",
       "integrity streams equal (a Dev Drive's default): nothing set"},
      {false, false, &crc64, &none, "sparse integrity length clone unsparse",
       "integrity streams differ: set while the destination is empty, before its length"},
      {false, false, &crc64, nullptr, "sparse integrity length clone unsparse",
       "the destination's integrity unknown: set"},
  };
  for (const Case& c : cases) {
    std::string got = Steps(RecipeFor(c.src_sparse, c.dest_sparse, c.src, c.dest));
    Check(got == c.expect, std::string("recipe: ") + c.what, "got '" + got + "'");
  }
}

}  // namespace

int main() {
  PlanTests();
  TranslationTests();
  RecipeTests();
  for (uint32_t code = 1; code < 70000; code++) {
    int uv = cowcopy::win::TranslateError(code);
    if (uv != cowcopy::uvwin::kUNKNOWN) std::printf("map %u %d\n", code, uv);
  }
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
