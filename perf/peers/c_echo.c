/*
 * Reference contender: the simplest correct single-threaded epoll echo server in C. It marks the
 * ceiling this machine and load generator allow, so ringloop's ratio to it shows how much of the
 * possible the runtime reaches. Usage: c_echo --addr tcp://127.0.0.1:0 (or --addr unix:///path.sock)
 * Prints "listening tcp://127.0.0.1:<port>" (or "listening unix:///path.sock"), exits on SIGTERM/SIGINT
 * (removing its socket file).
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
  const char *unix_path = strncmp(addr, "unix://", 7) == 0 ? addr + 7 : NULL;
  if (!unix_path && sscanf(addr, "tcp://%63[^:]:%d", host, &port) != 2) {
    fprintf(stderr, "usage: c_echo --addr tcp://HOST:PORT | unix:///PATH\n");
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
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
