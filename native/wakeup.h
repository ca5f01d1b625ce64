// Cross-thread wake-up of a sleeping reactor. The descriptor sits in the reactor's poller; any
// thread may signal it. Linux uses eventfd (wakeup_eventfd.cc); systems without eventfd a
// self-connected loopback datagram socket (wakeup_loopback.cc).
#pragma once

namespace rl {

// Returns a non-blocking, close-on-exec descriptor or -errno.
int wakeupCreate();
// Safe from any thread; signals sent before a drain wake the reader once.
int wakeupSignal(int fd);
// Consumes pending signals (the owner loop calls this when the fd is readable).
void wakeupDrain(int fd);

}  // namespace rl
