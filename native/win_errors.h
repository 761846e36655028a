// Win32 errors -> libuv's Windows codes, for a host that does not export
// uv_translate_sys_error: copy_win.cc asks node.exe's own, so errors carry
// the codes of the Node that runs. This fallback keeps only what a copy
// meets, each as node.exe 20 to 26 translate it (test/native/ holds the
// measured table); anything else is UNKNOWN. Plain numbers, no <windows.h>:
// it compiles and is unit-tested on any OS, and copy_win.cc checks each
// Win32 number against the SDK's.
#ifndef COWCOPY_WIN_ERRORS_H_
#define COWCOPY_WIN_ERRORS_H_

#include <cstdint>

namespace cowcopy {
namespace win {

// winerror.h values, each beside its SDK name (copy_win.cc checks them
// against <windows.h>) and what Node reports for it (uvwin, below).
#define COWCOPY_WIN_ERRORS(X)                                                  \
  X(kErrorInvalidFunction, 1, ERROR_INVALID_FUNCTION, kEISDIR)                 \
  X(kErrorFileNotFound, 2, ERROR_FILE_NOT_FOUND, kENOENT)                      \
  X(kErrorPathNotFound, 3, ERROR_PATH_NOT_FOUND, kENOENT)                      \
  X(kErrorTooManyOpenFiles, 4, ERROR_TOO_MANY_OPEN_FILES, kEMFILE)             \
  X(kErrorAccessDenied, 5, ERROR_ACCESS_DENIED, kEPERM)                        \
  X(kErrorInvalidHandle, 6, ERROR_INVALID_HANDLE, kEBADF)                      \
  X(kErrorNotEnoughMemory, 8, ERROR_NOT_ENOUGH_MEMORY, kENOMEM)                \
  X(kErrorInvalidData, 13, ERROR_INVALID_DATA, kEINVAL)                        \
  X(kErrorOutOfMemory, 14, ERROR_OUTOFMEMORY, kENOMEM)                         \
  X(kErrorNotSameDevice, 17, ERROR_NOT_SAME_DEVICE, kEXDEV)                    \
  X(kErrorWriteProtect, 19, ERROR_WRITE_PROTECT, kEROFS)                       \
  X(kErrorCrc, 23, ERROR_CRC, kEIO)                                            \
  X(kErrorGenFailure, 31, ERROR_GEN_FAILURE, kEIO)                             \
  X(kErrorSharingViolation, 32, ERROR_SHARING_VIOLATION, kEBUSY)               \
  X(kErrorLockViolation, 33, ERROR_LOCK_VIOLATION, kEBUSY)                     \
  X(kErrorHandleDiskFull, 39, ERROR_HANDLE_DISK_FULL, kENOSPC)                 \
  X(kErrorNotSupported, 50, ERROR_NOT_SUPPORTED, kENOTSUP)                     \
  X(kErrorFileExists, 80, ERROR_FILE_EXISTS, kEEXIST)                          \
  X(kErrorInvalidParameter, 87, ERROR_INVALID_PARAMETER, kEINVAL)              \
  X(kErrorDiskFull, 112, ERROR_DISK_FULL, kENOSPC)                             \
  X(kErrorInvalidName, 123, ERROR_INVALID_NAME, kENOENT)                       \
  X(kErrorDirNotEmpty, 145, ERROR_DIR_NOT_EMPTY, kENOTEMPTY)                   \
  X(kErrorBadPathname, 161, ERROR_BAD_PATHNAME, kENOENT)                       \
  X(kErrorAlreadyExists, 183, ERROR_ALREADY_EXISTS, kEEXIST)                   \
  X(kErrorFilenameExcedRange, 206, ERROR_FILENAME_EXCED_RANGE, kENAMETOOLONG)  \
  X(kErrorDirectory, 267, ERROR_DIRECTORY, kENOENT)                            \
  X(kErrorOperationAborted, 995, ERROR_OPERATION_ABORTED, kECANCELED)          \
  X(kErrorNoUnicodeTranslation, 1113, ERROR_NO_UNICODE_TRANSLATION, kECHARSET) \
  X(kErrorIoDevice, 1117, ERROR_IO_DEVICE, kEIO)                               \
  X(kErrorPrivilegeNotHeld, 1314, ERROR_PRIVILEGE_NOT_HELD, kEPERM)            \
  X(kErrorCantAccessFile, 1920, ERROR_CANT_ACCESS_FILE, kEACCES)               \
  X(kErrorCantResolveFilename, 1921, ERROR_CANT_RESOLVE_FILENAME, kELOOP)
#define COWCOPY_DEFINE_ERROR(name, value, sdk, uv) constexpr uint32_t name = value;
COWCOPY_WIN_ERRORS(COWCOPY_DEFINE_ERROR)
#undef COWCOPY_DEFINE_ERROR
// ReFS: a block shared too often. Not in mingw-w64 10's winerror.h.
constexpr uint32_t kErrorBlockTooManyReferences = 347;

}  // namespace win

// libuv's error codes on Windows (uv/errno.h), where they are not errno
// values. Node's err.errno on Windows is one of these.
namespace uvwin {

constexpr int kEACCES = -4092;
constexpr int kEBADF = -4083;
constexpr int kEBUSY = -4082;
constexpr int kECANCELED = -4081;
constexpr int kECHARSET = -4080;
constexpr int kEEXIST = -4075;
constexpr int kEINVAL = -4071;
constexpr int kEIO = -4070;
constexpr int kEISDIR = -4068;
constexpr int kELOOP = -4067;
constexpr int kEMFILE = -4066;
constexpr int kENAMETOOLONG = -4064;
constexpr int kENOENT = -4058;
constexpr int kENOMEM = -4057;
constexpr int kENOSPC = -4055;
constexpr int kENOTDIR = -4052;
constexpr int kENOTEMPTY = -4051;
constexpr int kENOTSUP = -4049;
constexpr int kEPERM = -4048;
constexpr int kEROFS = -4043;
constexpr int kEXDEV = -4037;
constexpr int kUNKNOWN = -4094;

}  // namespace uvwin

namespace win {

// What Node reports for a Win32 error (GetLastError()) a copy meets.
#define COWCOPY_TRANSLATE(name, value, sdk, uv) case value: return uvwin::uv;
constexpr int TranslateError(uint32_t error) {
  switch (error) {
    case 0: return 0;
    COWCOPY_WIN_ERRORS(COWCOPY_TRANSLATE)
    default: return uvwin::kUNKNOWN;
  }
}
#undef COWCOPY_TRANSLATE

}  // namespace win
}  // namespace cowcopy

#endif  // COWCOPY_WIN_ERRORS_H_
