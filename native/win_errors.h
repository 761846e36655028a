// Win32 error codes -> the libuv error codes Node reports on Windows, for a
// host that does not export libuv's uv_translate_sys_error: copy_win.cc asks
// node.exe's own (the codes of the Node that runs, which moved between lines).
//
// Plain numbers, no <windows.h>: the table compiles and is unit-tested on any
// OS (test/native/), and copy_win.cc checks every Win32 number against the
// SDK's own with static_assert. It is node.exe 20.20.2's translation, measured
// (test/native/libuv-win-errors.txt); Node 22 maps codes 111, 193, 232 and
// 998 differently.
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
constexpr uint32_t kErrorInvalidDrive = 15;
constexpr uint32_t kErrorNotSameDevice = 17;
constexpr uint32_t kErrorWriteProtect = 19;
constexpr uint32_t kErrorCrc = 23;
constexpr uint32_t kErrorGenFailure = 31;
constexpr uint32_t kErrorSharingViolation = 32;
constexpr uint32_t kErrorLockViolation = 33;
constexpr uint32_t kErrorHandleDiskFull = 39;
constexpr uint32_t kErrorNotSupported = 50;
constexpr uint32_t kErrorNetnameDeleted = 64;
constexpr uint32_t kErrorFileExists = 80;
constexpr uint32_t kErrorCannotMake = 82;
constexpr uint32_t kErrorInvalidParameter = 87;
constexpr uint32_t kErrorBrokenPipe = 109;
constexpr uint32_t kErrorOpenFailed = 110;
constexpr uint32_t kErrorBufferOverflow = 111;
constexpr uint32_t kErrorDiskFull = 112;
constexpr uint32_t kErrorSemTimeout = 121;
constexpr uint32_t kErrorInsufficientBuffer = 122;
constexpr uint32_t kErrorInvalidName = 123;
constexpr uint32_t kErrorModNotFound = 126;
constexpr uint32_t kErrorDirNotEmpty = 145;
constexpr uint32_t kErrorSignalRefused = 156;
constexpr uint32_t kErrorBadPathname = 161;
constexpr uint32_t kErrorAlreadyExists = 183;
constexpr uint32_t kErrorEnvvarNotFound = 203;
constexpr uint32_t kErrorNoSignalSent = 205;
constexpr uint32_t kErrorFilenameExcedRange = 206;
constexpr uint32_t kErrorMetaExpansionTooLong = 208;
constexpr uint32_t kErrorBadPipe = 230;
constexpr uint32_t kErrorPipeBusy = 231;
constexpr uint32_t kErrorNoData = 232;
constexpr uint32_t kErrorPipeNotConnected = 233;
constexpr uint32_t kErrorDirectory = 267;
constexpr uint32_t kErrorEaTableFull = 277;
constexpr uint32_t kErrorBlockTooManyReferences = 347;
constexpr uint32_t kErrorElevationRequired = 740;
constexpr uint32_t kErrorOperationAborted = 995;
constexpr uint32_t kErrorNoaccess = 998;
constexpr uint32_t kErrorInvalidFlags = 1004;
constexpr uint32_t kErrorEndOfMedia = 1100;
constexpr uint32_t kErrorFilemarkDetected = 1101;
constexpr uint32_t kErrorBeginningOfMedia = 1102;
constexpr uint32_t kErrorSetmarkDetected = 1103;
constexpr uint32_t kErrorNoDataDetected = 1104;
constexpr uint32_t kErrorInvalidBlockLength = 1106;
constexpr uint32_t kErrorBusReset = 1111;
constexpr uint32_t kErrorNoUnicodeTranslation = 1113;
constexpr uint32_t kErrorIoDevice = 1117;
constexpr uint32_t kErrorEomOverflow = 1129;
constexpr uint32_t kErrorDeviceRequiresCleaning = 1165;
constexpr uint32_t kErrorDeviceDoorOpen = 1166;
constexpr uint32_t kErrorConnectionRefused = 1225;
constexpr uint32_t kErrorAddressAlreadyAssociated = 1227;
constexpr uint32_t kErrorNetworkUnreachable = 1231;
constexpr uint32_t kErrorHostUnreachable = 1232;
constexpr uint32_t kErrorConnectionAborted = 1236;
constexpr uint32_t kErrorPrivilegeNotHeld = 1314;
constexpr uint32_t kErrorDiskCorrupt = 1393;
constexpr uint32_t kErrorSymlinkNotSupported = 1464;
constexpr uint32_t kErrorCantAccessFile = 1920;
constexpr uint32_t kErrorCantResolveFilename = 1921;
constexpr uint32_t kErrorNotConnected = 2250;
constexpr uint32_t kErrorInvalidReparseData = 4392;
constexpr uint32_t kWsaEintr = 10004;
constexpr uint32_t kWsaEacces = 10013;
constexpr uint32_t kWsaEfault = 10014;
constexpr uint32_t kWsaEinval = 10022;
constexpr uint32_t kWsaEmfile = 10024;
constexpr uint32_t kWsaEwouldblock = 10035;
constexpr uint32_t kWsaEalready = 10037;
constexpr uint32_t kWsaEnotsock = 10038;
constexpr uint32_t kWsaEmsgsize = 10040;
constexpr uint32_t kWsaEprotonosupport = 10043;
constexpr uint32_t kWsaEsocktnosupport = 10044;
constexpr uint32_t kWsaEpfnosupport = 10046;
constexpr uint32_t kWsaEafnosupport = 10047;
constexpr uint32_t kWsaEaddrinuse = 10048;
constexpr uint32_t kWsaEaddrnotavail = 10049;
constexpr uint32_t kWsaEnetunreach = 10051;
constexpr uint32_t kWsaEconnaborted = 10053;
constexpr uint32_t kWsaEconnreset = 10054;
constexpr uint32_t kWsaEnobufs = 10055;
constexpr uint32_t kWsaEisconn = 10056;
constexpr uint32_t kWsaEnotconn = 10057;
constexpr uint32_t kWsaEshutdown = 10058;
constexpr uint32_t kWsaEtimedout = 10060;
constexpr uint32_t kWsaEconnrefused = 10061;
constexpr uint32_t kWsaEhostunreach = 10065;
constexpr uint32_t kWsaHostNotFound = 11001;
constexpr uint32_t kWsaNoData = 11004;

}  // namespace win

// libuv's error codes where they are not errno values (uv/errno.h, the
// branches taken on Windows). Node's err.errno on Windows is one of these.
namespace uvwin {

constexpr int kE2BIG = -4093;
constexpr int kEACCES = -4092;
constexpr int kEADDRINUSE = -4091;
constexpr int kEADDRNOTAVAIL = -4090;
constexpr int kEAFNOSUPPORT = -4089;
constexpr int kEAGAIN = -4088;
constexpr int kEALREADY = -4084;
constexpr int kEBADF = -4083;
constexpr int kEBUSY = -4082;
constexpr int kECANCELED = -4081;
constexpr int kECHARSET = -4080;
constexpr int kECONNABORTED = -4079;
constexpr int kECONNREFUSED = -4078;
constexpr int kECONNRESET = -4077;
constexpr int kEEXIST = -4075;
constexpr int kEFAULT = -4074;
constexpr int kEHOSTUNREACH = -4073;
constexpr int kEINVAL = -4071;
constexpr int kEIO = -4070;
constexpr int kEISCONN = -4069;
constexpr int kEISDIR = -4068;
constexpr int kELOOP = -4067;
constexpr int kEMFILE = -4066;
constexpr int kEMSGSIZE = -4065;
constexpr int kENAMETOOLONG = -4064;
constexpr int kENETUNREACH = -4062;
constexpr int kENOBUFS = -4060;
constexpr int kENOENT = -4058;
constexpr int kENOMEM = -4057;
constexpr int kENOSPC = -4055;
constexpr int kENOSYS = -4054;
constexpr int kENOTCONN = -4053;
constexpr int kENOTDIR = -4052;
constexpr int kENOTEMPTY = -4051;
constexpr int kENOTSOCK = -4050;
constexpr int kENOTSUP = -4049;
constexpr int kEPERM = -4048;
constexpr int kEPIPE = -4047;
constexpr int kEPROTONOSUPPORT = -4045;
constexpr int kEROFS = -4043;
constexpr int kETIMEDOUT = -4039;
constexpr int kEXDEV = -4037;
constexpr int kESOCKTNOSUPPORT = -4025;
constexpr int kEOF = -4095;
constexpr int kUNKNOWN = -4094;

}  // namespace uvwin

namespace win {

// What Node would report for a Win32 error (GetLastError()).
constexpr int TranslateError(uint32_t error) {
  switch (error) {
    case 0: return 0;
    case kErrorNoaccess: return uvwin::kEACCES;
    case kWsaEacces: return uvwin::kEACCES;
    case kErrorElevationRequired: return uvwin::kEACCES;
    case kErrorCantAccessFile: return uvwin::kEACCES;
    case kErrorAccessDenied: return uvwin::kEPERM;
    case kErrorAddressAlreadyAssociated: return uvwin::kEADDRINUSE;
    case kWsaEaddrinuse: return uvwin::kEADDRINUSE;
    case kWsaEaddrnotavail: return uvwin::kEADDRNOTAVAIL;
    case kWsaEafnosupport: return uvwin::kEAFNOSUPPORT;
    case kWsaEwouldblock: return uvwin::kEAGAIN;
    case kWsaEalready: return uvwin::kEALREADY;
    case kErrorInvalidFlags: return uvwin::kEBADF;
    case kErrorInvalidHandle: return uvwin::kEBADF;
    case kErrorLockViolation: return uvwin::kEBUSY;
    case kErrorPipeBusy: return uvwin::kEBUSY;
    case kErrorSharingViolation: return uvwin::kEBUSY;
    case kErrorOperationAborted: return uvwin::kECANCELED;
    case kWsaEintr: return uvwin::kECANCELED;
    case kErrorNoUnicodeTranslation: return uvwin::kECHARSET;
    case kErrorConnectionAborted: return uvwin::kECONNABORTED;
    case kWsaEconnaborted: return uvwin::kECONNABORTED;
    case kErrorConnectionRefused: return uvwin::kECONNREFUSED;
    case kWsaEconnrefused: return uvwin::kECONNREFUSED;
    case kErrorNetnameDeleted: return uvwin::kECONNRESET;
    case kWsaEconnreset: return uvwin::kECONNRESET;
    case kErrorAlreadyExists: return uvwin::kEEXIST;
    case kErrorFileExists: return uvwin::kEEXIST;
    case kErrorBufferOverflow: return uvwin::kEFAULT;
    case kWsaEfault: return uvwin::kEFAULT;
    case kErrorHostUnreachable: return uvwin::kEHOSTUNREACH;
    case kWsaEhostunreach: return uvwin::kEHOSTUNREACH;
    case kErrorInsufficientBuffer: return uvwin::kEINVAL;
    case kErrorInvalidData: return uvwin::kEINVAL;
    case kErrorInvalidParameter: return uvwin::kEINVAL;
    case kErrorSymlinkNotSupported: return uvwin::kEINVAL;
    case kWsaEinval: return uvwin::kEINVAL;
    case kWsaEpfnosupport: return uvwin::kEINVAL;
    case kErrorBeginningOfMedia: return uvwin::kEIO;
    case kErrorBusReset: return uvwin::kEIO;
    case kErrorCrc: return uvwin::kEIO;
    case kErrorDeviceDoorOpen: return uvwin::kEIO;
    case kErrorDeviceRequiresCleaning: return uvwin::kEIO;
    case kErrorDiskCorrupt: return uvwin::kEIO;
    case kErrorEomOverflow: return uvwin::kEIO;
    case kErrorFilemarkDetected: return uvwin::kEIO;
    case kErrorGenFailure: return uvwin::kEIO;
    case kErrorInvalidBlockLength: return uvwin::kEIO;
    case kErrorIoDevice: return uvwin::kEIO;
    case kErrorNoDataDetected: return uvwin::kEIO;
    case kErrorNoSignalSent: return uvwin::kEIO;
    case kErrorOpenFailed: return uvwin::kEIO;
    case kErrorSetmarkDetected: return uvwin::kEIO;
    case kErrorSignalRefused: return uvwin::kEIO;
    case kWsaEisconn: return uvwin::kEISCONN;
    case kErrorCantResolveFilename: return uvwin::kELOOP;
    case kErrorTooManyOpenFiles: return uvwin::kEMFILE;
    case kWsaEmfile: return uvwin::kEMFILE;
    case kWsaEmsgsize: return uvwin::kEMSGSIZE;
    case kErrorFilenameExcedRange: return uvwin::kENAMETOOLONG;
    case kErrorNetworkUnreachable: return uvwin::kENETUNREACH;
    case kWsaEnetunreach: return uvwin::kENETUNREACH;
    case kWsaEnobufs: return uvwin::kENOBUFS;
    case kErrorBadPathname: return uvwin::kENOENT;
    case kErrorDirectory: return uvwin::kENOENT;
    case kErrorEnvvarNotFound: return uvwin::kENOENT;
    case kErrorFileNotFound: return uvwin::kENOENT;
    case kErrorInvalidName: return uvwin::kENOENT;
    case kErrorInvalidDrive: return uvwin::kENOENT;
    case kErrorInvalidReparseData: return uvwin::kENOENT;
    case kErrorModNotFound: return uvwin::kENOENT;
    case kErrorPathNotFound: return uvwin::kENOENT;
    case kWsaHostNotFound: return uvwin::kENOENT;
    case kWsaNoData: return uvwin::kENOENT;
    case kErrorNotEnoughMemory: return uvwin::kENOMEM;
    case kErrorOutOfMemory: return uvwin::kENOMEM;
    case kErrorCannotMake: return uvwin::kENOSPC;
    case kErrorDiskFull: return uvwin::kENOSPC;
    case kErrorEaTableFull: return uvwin::kENOSPC;
    case kErrorEndOfMedia: return uvwin::kENOSPC;
    case kErrorHandleDiskFull: return uvwin::kENOSPC;
    case kErrorNotConnected: return uvwin::kENOTCONN;
    case kWsaEnotconn: return uvwin::kENOTCONN;
    case kErrorDirNotEmpty: return uvwin::kENOTEMPTY;
    case kWsaEnotsock: return uvwin::kENOTSOCK;
    case kErrorNotSupported: return uvwin::kENOTSUP;
    case kErrorBrokenPipe: return uvwin::kEOF;
    case kErrorPrivilegeNotHeld: return uvwin::kEPERM;
    case kErrorBadPipe: return uvwin::kEPIPE;
    case kErrorNoData: return uvwin::kEPIPE;
    case kErrorPipeNotConnected: return uvwin::kEPIPE;
    case kWsaEshutdown: return uvwin::kEPIPE;
    case kWsaEprotonosupport: return uvwin::kEPROTONOSUPPORT;
    case kErrorWriteProtect: return uvwin::kEROFS;
    case kErrorSemTimeout: return uvwin::kETIMEDOUT;
    case kWsaEtimedout: return uvwin::kETIMEDOUT;
    case kErrorNotSameDevice: return uvwin::kEXDEV;
    // A directory handed to a call that needs a file; see TranslateFsError.
    case kErrorInvalidFunction: return uvwin::kEISDIR;
    case kErrorMetaExpansionTooLong: return uvwin::kE2BIG;
    case kWsaEsocktnosupport: return uvwin::kESOCKTNOSUPPORT;
    default: return uvwin::kUNKNOWN;
  }
}


}  // namespace win
}  // namespace cowcopy

#endif  // COWCOPY_WIN_ERRORS_H_
