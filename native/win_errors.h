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

// winerror.h values.
constexpr uint32_t kErrorInvalidFunction = 1;
constexpr uint32_t kErrorFileNotFound = 2;
constexpr uint32_t kErrorPathNotFound = 3;
constexpr uint32_t kErrorTooManyOpenFiles = 4;
constexpr uint32_t kErrorAccessDenied = 5;
constexpr uint32_t kErrorInvalidHandle = 6;
constexpr uint32_t kErrorNotEnoughMemory = 8;
constexpr uint32_t kErrorInvalidData = 13;
constexpr uint32_t kErrorOutOfMemory = 14;
constexpr uint32_t kErrorNotSameDevice = 17;
constexpr uint32_t kErrorWriteProtect = 19;
constexpr uint32_t kErrorCrc = 23;
constexpr uint32_t kErrorGenFailure = 31;
constexpr uint32_t kErrorSharingViolation = 32;
constexpr uint32_t kErrorLockViolation = 33;
constexpr uint32_t kErrorHandleDiskFull = 39;
constexpr uint32_t kErrorNotSupported = 50;
constexpr uint32_t kErrorFileExists = 80;
constexpr uint32_t kErrorInvalidParameter = 87;
constexpr uint32_t kErrorDiskFull = 112;
constexpr uint32_t kErrorInvalidName = 123;
constexpr uint32_t kErrorDirNotEmpty = 145;
constexpr uint32_t kErrorBadPathname = 161;
constexpr uint32_t kErrorAlreadyExists = 183;
constexpr uint32_t kErrorFilenameExcedRange = 206;
constexpr uint32_t kErrorDirectory = 267;
constexpr uint32_t kErrorOperationAborted = 995;
constexpr uint32_t kErrorNoUnicodeTranslation = 1113;
constexpr uint32_t kErrorIoDevice = 1117;
constexpr uint32_t kErrorPrivilegeNotHeld = 1314;
constexpr uint32_t kErrorCantAccessFile = 1920;
constexpr uint32_t kErrorCantResolveFilename = 1921;
constexpr uint32_t kErrorBlockTooManyReferences = 347;  // ReFS: a block shared too often

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
