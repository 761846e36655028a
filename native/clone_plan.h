// How one file is block-cloned on Windows: which FSCTL calls, in which
// order, and what their failures mean. Plain integers, no <windows.h>:
// unit-tested on any OS (test/native/), and copy_win.cc follows exactly this.
//
// ReFS clones whole clusters only, and less than 4 GiB per call. The
// destination is made sparse first, so that giving it the source's length
// allocates nothing (a volume need not have room for a second copy to clone
// one); it gets the source's integrity-stream setting while still empty (a
// clone is refused unless they match, and it cannot change once blocks are
// shared); then its length; then the body is cloned in cluster-aligned
// chunks, and the last, partial cluster (the tail) as one more whole-cluster
// range, which ends past the end of file by less than a cluster (the
// source's allocation covers it). Should a volume refuse that range, the
// caller writes the tail's bytes instead. Last, a destination whose source
// is not sparse is made not sparse again, as a copy would be.
//
// Sources: [MS-FSCC] 2.3.8 and [MS-FSA] 2.1.5.10.4 (the errors and the sparse
// rule), Microsoft's Block Cloning page (integrity, alignment, 4 GiB), and
// the order microsoft/CopyOnWrite and the reflink-copy crate use.
#ifndef COWCOPY_CLONE_PLAN_H_
#define COWCOPY_CLONE_PLAN_H_

#include <cstdint>
#include <vector>

#include "win_errors.h"

namespace cowcopy {

// A clone range must be shorter than this.
constexpr uint64_t kCloneRangeLimit = uint64_t{1} << 32;
// File offsets are signed 64-bit numbers on Windows (LARGE_INTEGER).
constexpr uint64_t kMaxFileOffset = (uint64_t{1} << 63) - 1;

struct CloneRange {
  uint64_t offset = 0;  // the same in source and destination
  uint64_t length = 0;  // a multiple of the cluster size, below 4 GiB
};

struct ClonePlan {
  std::vector<CloneRange> ranges;  // in file order, covering whole clusters
  uint64_t tail_offset = 0;        // where the last partial cluster starts
  uint64_t tail_bytes = 0;         // file bytes in it; 0 when the size is aligned
};

// The longest range a single call may clone: the largest multiple of the
// cluster size below 4 GiB. 0 for a cluster size no volume has.
constexpr uint64_t MaxCloneChunk(uint64_t cluster) {
  return cluster == 0 || cluster >= kCloneRangeLimit ? 0
                                                     : (kCloneRangeLimit - 1) / cluster * cluster;
}

// Fills `plan` for a file of `size` bytes on a volume with `cluster`-byte
// clusters. False when no plan exists (a cluster size of 0 or >= 4 GiB, a
// size whose last cluster would end past the largest file offset).
inline bool PlanClone(uint64_t size, uint64_t cluster, ClonePlan* plan) {
  *plan = ClonePlan();
  const uint64_t chunk = MaxCloneChunk(cluster);
  if (chunk == 0 || size > kMaxFileOffset) return false;
  const uint64_t body = size / cluster * cluster;
  const uint64_t tail = size - body;
  if (tail != 0 && body > kMaxFileOffset - cluster) return false;
  for (uint64_t offset = 0; offset < body; offset += chunk)
    plan->ranges.push_back({offset, body - offset < chunk ? body - offset : chunk});
  plan->tail_offset = body;
  plan->tail_bytes = tail;
  if (tail != 0) plan->ranges.push_back({body, cluster});
  return true;
}

// ---- the calls on the destination, in order ----

enum class CloneStep {
  kMakeSparse,    // FSCTL_SET_SPARSE
  kSetIntegrity,  // FSCTL_SET_INTEGRITY_INFORMATION, only when it differs
  kSetLength,     // FileEndOfFileInfo
  kCloneRanges,   // FSCTL_DUPLICATE_EXTENTS_TO_FILE per planned range
  kClearSparse,   // FSCTL_SET_SPARSE(FALSE): the source was not sparse
};

struct IntegrityInfo {
  uint16_t checksum_algorithm = 0;
  uint32_t flags = 0;
  bool operator==(const IntegrityInfo& o) const {
    return checksum_algorithm == o.checksum_algorithm && flags == o.flags;
  }
};

struct CloneRecipe {
  CloneStep steps[5];
  int count = 0;
  void Add(CloneStep step) { steps[count++] = step; }
};

// The calls for an empty destination. `dest_sparse`: it is sparse already.
// Integrity: both sides' settings, when the volume has integrity streams.
inline CloneRecipe RecipeFor(bool src_sparse, bool dest_sparse, const IntegrityInfo* src_integrity,
                             const IntegrityInfo* dest_integrity) {
  CloneRecipe recipe;
  if (!dest_sparse) recipe.Add(CloneStep::kMakeSparse);
  if (src_integrity != nullptr && (dest_integrity == nullptr || !(*src_integrity == *dest_integrity)))
    recipe.Add(CloneStep::kSetIntegrity);
  recipe.Add(CloneStep::kSetLength);
  recipe.Add(CloneStep::kCloneRanges);
  if (!src_sparse) recipe.Add(CloneStep::kClearSparse);
  return recipe;
}

// ---- what a failed call means ----

namespace win {

// FSCTL_DUPLICATE_EXTENTS_TO_FILE errors that mean "no clone here": fall
// back to a copy. INVALID_FUNCTION: the filesystem has no block cloning;
// NOT_SUPPORTED: a sparse source into a non-sparse target, a range past the
// source's size; INVALID_PARAMETER: alignment, or a source on another
// volume; BLOCK_TOO_MANY_REFERENCES: a cluster is shared too often already.
constexpr bool CloneUnsupported(uint32_t error) {
  return error == kErrorInvalidFunction || error == kErrorNotSupported ||
         error == kErrorInvalidParameter || error == kErrorNotSameDevice ||
         error == kErrorBlockTooManyReferences;
}

// The subset that holds for every file on the pair of volumes, and may be
// remembered: the filesystem cannot clone at all, or two volumes. Every
// other answer is about one file ([MS-FSCC] 2.3.8 gives NOT_SUPPORTED for a
// file that changed size while it was cloned): the next file tries again.
constexpr bool CloneNeverWorks(uint32_t error) {
  return error == kErrorInvalidFunction || error == kErrorNotSameDevice;
}

// The tail cluster's range ends past the end of file. A volume that reads
// [MS-FSA]'s "source size less than offset + count" strictly refuses it
// (NOT_SUPPORTED; INVALID_PARAMETER on some): then its bytes are written.
constexpr bool TailMayBeWritten(uint32_t error) {
  return error == kErrorNotSupported || error == kErrorInvalidParameter;
}

// What a forced clone reports for an answer CloneUnsupported() calls "no
// clone here": EXDEV across volumes, ENOTSUP when the filesystem cannot
// clone this file, as COPYFILE_FICLONE_FORCE does on Linux.
constexpr int ForcedCloneError(uint32_t error) {
  return error == kErrorNotSameDevice ? uvwin::kEXDEV : uvwin::kENOTSUP;
}

}  // namespace win
}  // namespace cowcopy

#endif  // COWCOPY_CLONE_PLAN_H_
