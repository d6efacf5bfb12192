{
  "targets": [
    {
      "target_name": "salvo",
      "sources": [
        "native/addon.cc",
        "native/arena.cc",
        "native/body_stream.cc",
        "native/chunked.cc",
        "native/connection.cc",
        "native/framing.cc",
        "native/parser.cc",
        "native/routes.cc",
        "native/server.cc",
        "native/turn.cc",
        "native/verbs.cc",
        "native/writer.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags": ["-O3", "-Wall", "-Wextra"]
    }
  ]
}
