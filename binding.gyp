{
  "targets": [
    {
      "target_name": "ringloop",
      "sources": [
        "native/addon.cc",
        "native/acceptor.cc",
        "native/codec_binding.cc",
        "native/codec_http1.cc",
        "native/codec_resp.cc",
        "native/codec_simple.cc",
        "native/inbox.cc",
        "native/reactor.cc",
        "native/reactor_dgram.cc",
        "native/reactor_fanout.cc",
        "native/reactor_tls.cc",
        "native/reactor_dial.cc",
        "native/reactor_tls_client.cc",
        "native/proxy_protocol.cc",
        "native/reactor_binding.cc",
        "native/reactor_codec.cc",
        "native/ringbuf.cc",
        "native/ringbuf_binding.cc",
        "native/socket.cc",
        "native/socket_dgram.cc",
        "native/tls.cc",
        "native/tls_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='linux' and '<!(node -p \"process.env.RINGLOOP_POLLER || ''\")'!='kqueue'", {
          "sources": ["native/poller_epoll.cc", "native/wakeup_eventfd.cc"]
        }],
        ["OS=='mac' or OS=='freebsd' or OS=='openbsd' or OS=='netbsd'", {
          "sources": ["native/poller_kqueue.cc", "native/kqueue_pollable_native.cc", "native/wakeup_loopback.cc"],
          "xcode_settings": {"CLANG_CXX_LANGUAGE_STANDARD": "c++17", "OTHER_CPLUSPLUSFLAGS": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]}
        }],
        # Test build: the kqueue backend on Linux against libkqueue installed at LIBKQUEUE_DIR,
        # with the macOS socket fallbacks where Linux has them (see test/kqueue/run.sh).
        ["OS=='linux' and '<!(node -p \"process.env.RINGLOOP_POLLER || ''\")'=='kqueue'", {
          "sources": ["native/poller_kqueue.cc", "native/kqueue_pollable_libkqueue.cc", "native/wakeup_loopback.cc"],
          "defines": ["RINGLOOP_PORTABLE_SOCKETS"],
          "include_dirs": ["<!(node -p \"const d = process.env.LIBKQUEUE_DIR || ''; require('fs').existsSync(d + '/include/kqueue/sys/event.h') ? d + '/include/kqueue' : d + '/include'\")"],
          "libraries": [
            "-L<!(node -p \"(process.env.LIBKQUEUE_DIR || '') + '/lib'\")",
            "-Wl,-rpath,<!(node -p \"(process.env.LIBKQUEUE_DIR || '') + '/lib'\")",
            "-lkqueue"
          ]
        }],
        ["OS=='linux' and '<!(node -p \"process.env.RINGLOOP_SANITIZE || ''\")'=='1'", {
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
