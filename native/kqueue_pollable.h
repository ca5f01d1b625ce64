// Which descriptor libuv watches for a kqueue. On macOS and the BSDs a kqueue fd is readable
// while it has events, so it is the kqueue itself; libkqueue (Linux, tests only) needs help.
#pragma once

namespace rl {

// A descriptor that polls readable exactly while kq has events, or -errno. Owned by kq: closing
// kq releases it.
int kqueuePollableFd(int kq);

}  // namespace rl
