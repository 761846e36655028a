// How one file's block clone is cut into FSCTL_DUPLICATE_EXTENTS_TO_FILE
// calls. Plain integers, no <windows.h>: unit-tested on any OS (test/native/).
//
// ReFS clones whole clusters only, and less than 4 GiB per call. The
// destination is first sized to the source's length; the body is cloned in
// cluster-aligned chunks, and the last, partial cluster (the tail) as one
// more whole-cluster range, which ends past the end of file by less than a
// cluster (the source's allocation covers it). Should a volume refuse that
// range, the caller writes the tail's bytes instead.
#ifndef COWCOPY_CLONE_PLAN_H_
#define COWCOPY_CLONE_PLAN_H_

#include <cstdint>
#include <vector>

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
  for (uint64_t offset = 0; offset < body; offset += chunk) {
    CloneRange range;
    range.offset = offset;
    range.length = body - offset < chunk ? body - offset : chunk;
    plan->ranges.push_back(range);
  }
  plan->tail_offset = body;
  plan->tail_bytes = tail;
  if (tail != 0) {
    CloneRange range;
    range.offset = body;
    range.length = cluster;
    plan->ranges.push_back(range);
  }
  return true;
}

}  // namespace cowcopy

#endif  // COWCOPY_CLONE_PLAN_H_
