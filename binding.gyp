{
  "targets": [
    {
      "target_name": "cowcopy",
      "sources": ["native/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/copy_linux.cc", "native/file_posix.cc", "native/tree.cc", "native/tree_posix.cc", "native/tree_linux.cc", "native/volume_linux.cc"],
          "defines": ["_GNU_SOURCE", "_FILE_OFFSET_BITS=64"]
        }],
        ["OS=='mac'", {
          "sources": ["native/copy_darwin.cc", "native/file_posix.cc", "native/tree.cc", "native/tree_posix.cc", "native/tree_darwin.cc"],
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
            "MACOSX_DEPLOYMENT_TARGET": "11.0",
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
            "WARNING_CFLAGS": ["-Wall", "-Wextra"]
          }
        }],
        ["OS=='win'", {
          "sources": ["native/copy_win.cc", "native/tree.cc", "native/tree_win.cc"]
        }],
        ["OS!='linux' and OS!='mac' and OS!='win'", {
          "sources": ["native/copy_unsupported.cc"]
        }],
        ["OS=='win'", {
          "msvs_settings": {
            "VCCLCompilerTool": { "ExceptionHandling": 0, "AdditionalOptions": ["/std:c++17"] }
          }
        }]
      ]
    }
  ]
}
