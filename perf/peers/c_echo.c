/*
 * Reference contender: the simplest correct single-threaded echo server in C. It marks the ceiling
 * this machine and load generator allow, so ringloop's ratio to it shows how much of the possible
 * the runtime reaches. Usage:
 *   c_echo --addr tcp://127.0.0.1:0          TCP, epoll
 *   c_echo --addr unix:///path.sock          Unix stream socket, epoll
 *   c_echo --addr udp://127.0.0.1:0          UDP (also udp4://, udp6://[::1]:0): a blocking
 *                                            recvmmsg/sendmmsg loop, each datagram back to its sender
 * Prints one line "listening <url>" (tcp://127.0.0.1:<port>, unix:///path.sock, udp://host:<port>)
 * once bound, exits on SIGTERM/SIGINT (removing its socket file).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Bytes a connection could not send yet (kept until EPOLLOUT). */
struct pending {
  char *buf;
  size_t len;
};

static struct pending *pend;
static int pend_cap;
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) { (void)sig; stop_flag = 1; }

/* Datagrams taken and echoed per recvmmsg/sendmmsg call. */
#define UDP_BATCH 64
/* How long a blocked receive waits before looking at stop_flag again. */
#define UDP_POLL_MS 200

/*
 * UDP echo on udp[46]://host:port (an IPv6 host in brackets): every datagram goes back to its
 * sender as one datagram. A plain blocking loop, no epoll: recvmmsg waits for the first datagram
 * (MSG_WAITFORONE) and takes whatever else is queued, up to UDP_BATCH, and one sendmmsg answers
 * them all. Returns the exit code.
 */
static int serve_udp(const char *addr) {
  char host[64];
  int port, n = 0;
  const char *rest = strstr(addr, "://");
  char want = rest && rest - addr == 4 ? addr[3] : 0; /* '4', '6' or 0 for plain udp:// */
  if (!rest || strncmp(addr, "udp", 3) != 0 || (rest - addr != 3 && want != '4' && want != '6') ||
      (sscanf(rest + 3, "[%63[^]]]:%d%n", host, &port, &n) != 2 &&
       sscanf(rest + 3, "%63[^:[]:%d%n", host, &port, &n) != 2) ||
      rest[3 + n] != '\0' || port < 0 || port > 65535) {
    fprintf(stderr, "usage: c_echo --addr udp://HOST:PORT | udp6://[HOST]:PORT\n");
    return 2;
  }
  struct sockaddr_storage ss = {0};
  struct sockaddr_in *sa4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *)&ss;
  int v6 = strchr(host, ':') != NULL;
  if (want == (v6 ? '4' : '6') ||
      inet_pton(v6 ? AF_INET6 : AF_INET, host, v6 ? (void *)&sa6->sin6_addr : (void *)&sa4->sin_addr) != 1) {
    fprintf(stderr, "c_echo: bad host %s for %s\n", host, addr);
    return 2;
  }
  ss.ss_family = v6 ? AF_INET6 : AF_INET;
  if (v6) sa6->sin6_port = htons((uint16_t)port);
  else sa4->sin_port = htons((uint16_t)port);
  socklen_t sl = v6 ? sizeof *sa6 : sizeof *sa4;
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct timeval tv = {.tv_sec = 0, .tv_usec = UDP_POLL_MS * 1000};
  if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
    perror("c_echo: bind");
    return 1;
  }
  printf("listening udp://%s%s%s:%d\n", v6 ? "[" : "", host, v6 ? "]" : "", ntohs(v6 ? sa6->sin6_port : sa4->sin_port));
  fflush(stdout);

  /* 64 KiB per slot holds any UDP datagram, so none is truncated. */
  static char bufs[UDP_BATCH][65536];
  static struct sockaddr_storage from[UDP_BATCH];
  static struct iovec iov[UDP_BATCH];
  static struct mmsghdr msgs[UDP_BATCH];
  while (!stop_flag) {
    for (int i = 0; i < UDP_BATCH; i++) {
      iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
      msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    int got = recvmmsg(fd, msgs, UDP_BATCH, MSG_WAITFORONE, NULL);
    if (got < 0) {
      /* Timeout (EAGAIN), a signal, or an error the kernel reports and forgets: wait again. */
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNREFUSED || errno == ENOMEM || errno == ENOBUFS) continue;
      perror("c_echo: recvmmsg");
      return 1;
    }
    for (int i = 0; i < got; i++) iov[i].iov_len = msgs[i].msg_len; /* send back what came in */
    for (int i = 0; i < got && !stop_flag;) {
      int sent = sendmmsg(fd, msgs + i, (unsigned)(got - i), 0);
      if (sent < 0 && errno == EINTR) continue;
      i += sent > 0 ? sent : 1; /* a datagram the kernel refused is dropped, as UDP may */
    }
  }
  close(fd);
  return 0;
}

/* A listening TCP socket on host:port (0: any free port), or -1. */
static int listen_tcp(const char *host, int port) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "c_echo: bad host %s\n", host);
    return -1;
  }
  int one = 1;
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, SOMAXCONN) < 0) {
    perror("c_echo: listen");
    return -1;
  }
  socklen_t sl = sizeof sa;
  getsockname(lfd, (struct sockaddr *)&sa, &sl);
  printf("listening tcp://%s:%d\n", host, ntohs(sa.sin_port));
  fflush(stdout);
  return lfd;
}

/* A listening Unix stream socket at path, or -1. The path must not exist: a
 * fresh one per run, so a stale file means someone else's socket. */
static int listen_unix(const char *path) {
  struct sockaddr_un su = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof su.sun_path) {
    fprintf(stderr, "c_echo: unix path too long\n");
    return -1;
  }
  strcpy(su.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (bind(fd, (struct sockaddr *)&su, sizeof su) < 0 || listen(fd, SOMAXCONN) < 0) {
    perror("c_echo: listen");
    return -1;
  }
  printf("listening unix://%s\n", path);
  fflush(stdout);
  return fd;
}

static struct pending *pending_of(int fd) {
  if (fd >= pend_cap) {
    int n = fd * 2 + 64;
    pend = realloc(pend, sizeof *pend * (size_t)n);
    memset(pend + pend_cap, 0, sizeof *pend * (size_t)(n - pend_cap));
    pend_cap = n;
  }
  return &pend[fd];
}

static void drop(int ep, int fd) {
  struct pending *p = pending_of(fd);
  free(p->buf);
  p->buf = NULL;
  p->len = 0;
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
}

/* Sends, keeping what the kernel did not take; returns -1 if the connection must go. */
static int send_or_keep(int ep, int fd, const char *data, size_t len) {
  struct pending *p = pending_of(fd);
  if (p->len == 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return -1;
    if (n < 0) n = 0;
    data += n;
    len -= (size_t)n;
    if (len == 0) return 0;
  }
  p->buf = realloc(p->buf, p->len + len);
  memcpy(p->buf + p->len, data, len);
  p->len += len;
  struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};  /* stop reading until drained */
  epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
  return 0;
}

static int flush_pending(int ep, int fd) {
  struct pending *p = pending_of(fd);
  ssize_t n = send(fd, p->buf, p->len, MSG_NOSIGNAL);
  if (n < 0) return errno == EAGAIN ? 0 : -1;
  memmove(p->buf, p->buf + n, p->len - (size_t)n);
  p->len -= (size_t)n;
  if (p->len == 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *addr = "tcp://127.0.0.1:0";
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--addr") == 0) addr = argv[++i];
  char host[64];
  int port;
  /* No SA_RESTART: a blocked receive returns EINTR and the loop sees stop_flag at once. */
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  if (strncmp(addr, "udp", 3) == 0) return serve_udp(addr);
  const char *unix_path = strncmp(addr, "unix://", 7) == 0 ? addr + 7 : NULL;
  if (!unix_path && sscanf(addr, "tcp://%63[^:]:%d", host, &port) != 2) {
    fprintf(stderr, "usage: c_echo --addr tcp://HOST:PORT | unix:///PATH | udp://HOST:PORT\n");
    return 2;
  }
  int one = 1;
  int lfd = unix_path ? listen_unix(unix_path) : listen_tcp(host, port);
  if (lfd < 0) return 1;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  static char buf[65536];
  struct epoll_event evs[256];
  while (!stop_flag) {
    int n = epoll_wait(ep, evs, 256, 200);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          if (!unix_path) setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      if (evs[i].events & EPOLLOUT) {
        if (flush_pending(ep, fd) < 0) drop(ep, fd);
        continue;
      }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN)) drop(ep, fd);
      else if (r > 0 && send_or_keep(ep, fd, buf, (size_t)r) < 0) drop(ep, fd);
    }
  }
  if (unix_path) unlink(unix_path); /* as node:net and ringloop do on close */
  return 0;
}
