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

// winerror.h values, each beside its SDK name: copy_win.cc checks them
// against <windows.h>.
#define COWCOPY_WIN_ERRORS(X)                                       \
  X(kErrorInvalidFunction, 1, ERROR_INVALID_FUNCTION)               \
  X(kErrorFileNotFound, 2, ERROR_FILE_NOT_FOUND)                    \
  X(kErrorPathNotFound, 3, ERROR_PATH_NOT_FOUND)                    \
  X(kErrorTooManyOpenFiles, 4, ERROR_TOO_MANY_OPEN_FILES)           \
  X(kErrorAccessDenied, 5, ERROR_ACCESS_DENIED)                     \
  X(kErrorInvalidHandle, 6, ERROR_INVALID_HANDLE)                   \
  X(kErrorNotEnoughMemory, 8, ERROR_NOT_ENOUGH_MEMORY)              \
  X(kErrorInvalidData, 13, ERROR_INVALID_DATA)                      \
  X(kErrorOutOfMemory, 14, ERROR_OUTOFMEMORY)                       \
  X(kErrorNotSameDevice, 17, ERROR_NOT_SAME_DEVICE)                 \
  X(kErrorWriteProtect, 19, ERROR_WRITE_PROTECT)                    \
  X(kErrorCrc, 23, ERROR_CRC)                                       \
  X(kErrorGenFailure, 31, ERROR_GEN_FAILURE)                        \
  X(kErrorSharingViolation, 32, ERROR_SHARING_VIOLATION)            \
  X(kErrorLockViolation, 33, ERROR_LOCK_VIOLATION)                  \
  X(kErrorHandleDiskFull, 39, ERROR_HANDLE_DISK_FULL)               \
  X(kErrorNotSupported, 50, ERROR_NOT_SUPPORTED)                    \
  X(kErrorFileExists, 80, ERROR_FILE_EXISTS)                        \
  X(kErrorInvalidParameter, 87, ERROR_INVALID_PARAMETER)            \
  X(kErrorDiskFull, 112, ERROR_DISK_FULL)                           \
  X(kErrorInvalidName, 123, ERROR_INVALID_NAME)                     \
  X(kErrorDirNotEmpty, 145, ERROR_DIR_NOT_EMPTY)                    \
  X(kErrorBadPathname, 161, ERROR_BAD_PATHNAME)                     \
  X(kErrorAlreadyExists, 183, ERROR_ALREADY_EXISTS)                 \
  X(kErrorFilenameExcedRange, 206, ERROR_FILENAME_EXCED_RANGE)      \
  X(kErrorDirectory, 267, ERROR_DIRECTORY)                          \
  X(kErrorOperationAborted, 995, ERROR_OPERATION_ABORTED)           \
  X(kErrorNoUnicodeTranslation, 1113, ERROR_NO_UNICODE_TRANSLATION) \
  X(kErrorIoDevice, 1117, ERROR_IO_DEVICE)                          \
  X(kErrorPrivilegeNotHeld, 1314, ERROR_PRIVILEGE_NOT_HELD)         \
  X(kErrorCantAccessFile, 1920, ERROR_CANT_ACCESS_FILE)             \
  X(kErrorCantResolveFilename, 1921, ERROR_CANT_RESOLVE_FILENAME)
#define COWCOPY_DEFINE_ERROR(name, value, sdk) constexpr uint32_t name = value;
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
constexpr int TranslateError(uint32_t error) {
  switch (error) {
    case 0: return 0;
    case kErrorInvalidFunction: return uvwin::kEISDIR;
    case kErrorFileNotFound: case kErrorPathNotFound: case kErrorInvalidName: case kErrorBadPathname:
    case kErrorDirectory: return uvwin::kENOENT;
    case kErrorTooManyOpenFiles: return uvwin::kEMFILE;
    case kErrorAccessDenied: case kErrorPrivilegeNotHeld: return uvwin::kEPERM;
    case kErrorCantAccessFile: return uvwin::kEACCES;
    case kErrorInvalidHandle: return uvwin::kEBADF;
    case kErrorNotEnoughMemory: case kErrorOutOfMemory: return uvwin::kENOMEM;
    case kErrorInvalidData: case kErrorInvalidParameter: return uvwin::kEINVAL;
    case kErrorNotSameDevice: return uvwin::kEXDEV;
    case kErrorWriteProtect: return uvwin::kEROFS;
    case kErrorCrc: case kErrorGenFailure: case kErrorIoDevice: return uvwin::kEIO;
    case kErrorSharingViolation: case kErrorLockViolation: return uvwin::kEBUSY;
    case kErrorHandleDiskFull: case kErrorDiskFull: return uvwin::kENOSPC;
    case kErrorNotSupported: return uvwin::kENOTSUP;
    case kErrorFileExists: case kErrorAlreadyExists: return uvwin::kEEXIST;
    case kErrorDirNotEmpty: return uvwin::kENOTEMPTY;
    case kErrorFilenameExcedRange: return uvwin::kENAMETOOLONG;
    case kErrorOperationAborted: return uvwin::kECANCELED;
    case kErrorNoUnicodeTranslation: return uvwin::kECHARSET;
    case kErrorCantResolveFilename: return uvwin::kELOOP;
    default: return uvwin::kUNKNOWN;
  }
}

}  // namespace win
}  // namespace cowcopy

#endif  // COWCOPY_WIN_ERRORS_H_
