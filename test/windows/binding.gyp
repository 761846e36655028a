# The Windows test helper (win_helper.cc): built on the runner by
# `npx node-gyp rebuild --directory test/windows`, here by mingw-w64
# (scripts/emulate/test-win.mjs, scripts/ci/run-workflows.mjs), into the same place.
{
  "targets": [
    {
      "target_name": "win_helper",
      "sources": ["win_helper.cc"],
      "include_dirs": ["../../native"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
