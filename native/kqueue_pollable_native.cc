#include "kqueue_pollable.h"

namespace rl {

// Native kqueues support EVFILT_READ/poll on themselves: libuv nests them directly.
int kqueuePollableFd(int kq) { return kq; }

}  // namespace rl
