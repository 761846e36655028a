// Compile-only check: native/win_errors.h's libuv numbers are the ones
// Node's own uv/errno.h defines for Windows. Those are the branches taken
// under _WIN32, so define it here, after every system header is in.
#include "win_errors.h"

#define _WIN32 1
#include <uv/errno.h>

namespace uv = cowcopy::uvwin;

static_assert(uv::kEACCES == UV__EACCES, "EACCES");
static_assert(uv::kEBADF == UV__EBADF, "EBADF");
static_assert(uv::kEBUSY == UV__EBUSY, "EBUSY");
static_assert(uv::kECANCELED == UV__ECANCELED, "ECANCELED");
static_assert(uv::kECHARSET == UV__ECHARSET, "ECHARSET");
static_assert(uv::kEEXIST == UV__EEXIST, "EEXIST");
static_assert(uv::kEINVAL == UV__EINVAL, "EINVAL");
static_assert(uv::kEIO == UV__EIO, "EIO");
static_assert(uv::kEISDIR == UV__EISDIR, "EISDIR");
static_assert(uv::kELOOP == UV__ELOOP, "ELOOP");
static_assert(uv::kEMFILE == UV__EMFILE, "EMFILE");
static_assert(uv::kENAMETOOLONG == UV__ENAMETOOLONG, "ENAMETOOLONG");
static_assert(uv::kENOENT == UV__ENOENT, "ENOENT");
static_assert(uv::kENOMEM == UV__ENOMEM, "ENOMEM");
static_assert(uv::kENOSPC == UV__ENOSPC, "ENOSPC");
static_assert(uv::kENOTDIR == UV__ENOTDIR, "ENOTDIR");
static_assert(uv::kENOTEMPTY == UV__ENOTEMPTY, "ENOTEMPTY");
static_assert(uv::kENOTSUP == UV__ENOTSUP, "ENOTSUP");
static_assert(uv::kEPERM == UV__EPERM, "EPERM");
static_assert(uv::kEROFS == UV__EROFS, "EROFS");
static_assert(uv::kEXDEV == UV__EXDEV, "EXDEV");
static_assert(uv::kUNKNOWN == UV__UNKNOWN, "UNKNOWN");
