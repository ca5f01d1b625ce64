{
  "targets": [
    {
      "target_name": "ringloop",
      "sources": [
        "native/addon.cc",
        "native/acceptor.cc",
        "native/inbox.cc",
        "native/reactor.cc",
        "native/reactor_binding.cc",
        "native/ringbuf.cc",
        "native/ringbuf_binding.cc",
        "native/socket.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/poller_epoll.cc", "native/wakeup_eventfd.cc"]
        }],
        ["OS=='linux' and '<!(node -p \"process.env.RINGLOOP_SANITIZE || ''\")'=='1'", {
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
