/*
 * echo_load: closed-loop TCP (or Unix stream socket) echo load generator that
 * verifies every byte.
 *
 * Each connection keeps `depth` messages of `size` bytes outstanding and sends
 * a new one only when a whole message has come back, so throughput measures
 * the server's round trips rather than how fast we can stuff its buffers.
 *
 * Single-threaded on purpose: the benchmark machine has 2 cores and the server
 * under test needs them more than we do.
 *
 * Build: cc -O2 -o perf/bin/echo_load perf/loadgen/echo_load.c
 * Usage: echo_load --host 127.0.0.1 --port N [--conns 100] [--size 64]
 *                  [--depth 1] [--seconds 5] [--warmup 1] [--connect-retries 50]
 *        echo_load --unix /path/to.sock [same options but --host/--port]
 * Output: "measure start" and "measure end" lines as the measured window
 * opens and closes, then one JSON line on stdout. Exit 0 = clean, 1 = errors seen, 2 = usage.
 *
 * Latency: every message's round trip (the send() that carries its first byte
 * to the recv() that completes its last byte, CLOCK_MONOTONIC) is recorded
 * into a fixed histogram when it completes after warmup; p50Us/p99Us/p999Us
 * are bucket upper bounds (exact to 1 us below 1 ms, within 1/64 above),
 * maxUs is exact. They are null when no message completed in the window.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LOADGEN_NAME "echo_load"
#include "loadgen_common.h"

/*
 * Message layout: an 8-byte header encoding (sequence, connection) followed by
 * a body taken from a shared pseudo-random table at an offset derived from the
 * same pair. The header catches reordering and cross-connection mix-ups even
 * when bodies collide; the table lets both generation and checking be a
 * memcpy/memcmp, which keeps 4 KiB workloads from being loadgen-bound.
 */
#define HDR 8
typedef struct {
  int fd;
  uint32_t idx;
  uint32_t send_seq;  /* sequence number of the next message to queue */
  uint32_t recv_seq;  /* sequence number of the message being received */
  size_t recv_off;    /* bytes of recv_seq already verified */
  uint8_t *sbuf;      /* queued bytes the kernel has not accepted yet */
  size_t shead, stail;
  int out_armed;
  int dead;
  uint64_t sent_bytes, recv_bytes;
  uint64_t *sent_ns;  /* first-byte send time of message seq, at [seq % depth] */
} conn_t;

static const char *opt_host = "127.0.0.1";
static const char *opt_port = NULL;
static const char *opt_unix = NULL; /* --unix PATH: a Unix stream socket instead of host:port */
static long opt_conns = 100, opt_size = 64, opt_depth = 1, opt_retries = 50;
static double opt_seconds = 5.0, opt_warmup = 1.0;

static uint8_t rbuf[256 * 1024];
static int epfd = -1;
static long alive = 0;
static int measuring = 0;

static void header(uint32_t idx, uint32_t seq, uint8_t out[HDR]) {
  /* XOR constants keep early headers from being mostly zero bytes, which a
   * server that zero-fills would otherwise pass. */
  uint32_t a = seq ^ 0xA5C3E187u, b = idx ^ 0x5A3C1E78u;
  for (int i = 0; i < 4; i++) {
    out[i] = (uint8_t)(a >> (8 * i));
    out[4 + i] = (uint8_t)(b >> (8 * i));
  }
}

static void kill_conn(conn_t *c) {
  if (c->dead) return;
  c->dead = 1;
  alive--;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
}

static void set_out(conn_t *c, int on) {
  if (c->out_armed == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->out_armed = on;
}

static void queue_msg(conn_t *c) {
  size_t size = (size_t)opt_size;
  size_t cap = (size_t)opt_depth * size;
  if (c->stail + size > cap) {
    memmove(c->sbuf, c->sbuf + c->shead, c->stail - c->shead);
    c->stail -= c->shead;
    c->shead = 0;
  }
  uint8_t *m = c->sbuf + c->stail;
  uint8_t h[HDR];
  header(c->idx, c->send_seq, h);
  size_t hl = size < HDR ? size : HDR;
  memcpy(m, h, hl);
  if (size > HDR) memcpy(m + HDR, pattern + skew(c->idx, c->send_seq) + HDR, size - HDR);
  c->stail += size;
  c->send_seq++;
}

/* Stamps the messages whose first byte is in stream bytes [from, to). Message
 * seq starts at byte seq * size, since every message has the same size. */
static void stamp_sent(conn_t *c, uint64_t from, uint64_t to) {
  uint64_t size = (uint64_t)opt_size;
  uint64_t first = (from + size - 1) / size, end = (to + size - 1) / size;
  if (first >= end) return;
  uint64_t t = now_ns();
  for (uint64_t seq = first; seq < end; seq++) c->sent_ns[seq % (uint64_t)opt_depth] = t;
}

static void flush(conn_t *c) {
  while (c->shead < c->stail) {
    ssize_t n = send(c->fd, c->sbuf + c->shead, c->stail - c->shead, MSG_NOSIGNAL);
    if (n > 0) {
      stamp_sent(c, c->sent_bytes, c->sent_bytes + (uint64_t)n);
      c->shead += (size_t)n;
      c->sent_bytes += (uint64_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      set_out(c, 1);
      return;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      st.early_closes++;
      report("conn %u: peer closed while sending (%s)", c->idx, strerror(errno));
    } else {
      st.io_errors++;
      report("conn %u: send: %s", c->idx, strerror(errno));
    }
    kill_conn(c);
    return;
  }
  c->shead = c->stail = 0;
  set_out(c, 0);
}

/* Returns the message offset of the first wrong byte, or -1 if all match. */
static long check(const conn_t *c, const uint8_t *p, size_t len) {
  size_t off = c->recv_off, k = 0;
  if (off < HDR) {
    uint8_t h[HDR];
    header(c->idx, c->recv_seq, h);
    for (; k < len && off + k < HDR; k++)
      if (p[k] != h[off + k]) return (long)(off + k);
  }
  if (k < len) {
    const uint8_t *exp = pattern + skew(c->idx, c->recv_seq) + off + k;
    if (memcmp(p + k, exp, len - k) != 0) {
      for (size_t j = k; j < len; j++)
        if (p[j] != exp[j - k]) return (long)(off + j);
    }
  }
  return -1;
}

static void expected_byte(const conn_t *c, size_t off, uint8_t *out) {
  if (off < HDR) {
    uint8_t h[HDR];
    header(c->idx, c->recv_seq, h);
    *out = h[off];
  } else {
    *out = pattern[skew(c->idx, c->recv_seq) + off];
  }
}

static void consume(conn_t *c, const uint8_t *p, size_t n, uint64_t t_recv) {
  /* An echo can never return more than we sent; extra bytes mean the server
   * invented data, which byte matching alone might not pin down. */
  if (c->recv_bytes + n > c->sent_bytes) {
    st.mismatches++;
    report("conn %u: received %llu bytes but only sent %llu", c->idx,
           (unsigned long long)(c->recv_bytes + n), (unsigned long long)c->sent_bytes);
    kill_conn(c);
    return;
  }
  c->recv_bytes += n;
  if (measuring) st.bytes += n;
  size_t size = (size_t)opt_size;
  while (n > 0) {
    size_t take = size - c->recv_off;
    if (take > n) take = n;
    long bad = check(c, p, take);
    if (bad >= 0) {
      uint8_t want;
      expected_byte(c, (size_t)bad, &want);
      st.mismatches++;
      report("conn %u msg %u byte %ld: expected 0x%02x got 0x%02x", c->idx, c->recv_seq, bad,
             want, p[(size_t)bad - c->recv_off]);
      kill_conn(c);
      return;
    }
    c->recv_off += take;
    p += take;
    n -= take;
    if (c->recv_off == size) {
      if (measuring) lat_record(t_recv - c->sent_ns[c->recv_seq % (uint32_t)opt_depth]);
      c->recv_off = 0;
      c->recv_seq++;
      if (measuring) st.msgs++;
      queue_msg(c);
    }
  }
}

static void on_readable(conn_t *c) {
  /* Level-triggered, so stopping after a few reads just yields to other
   * connections; leftover data re-triggers the next epoll_wait. */
  for (int i = 0; i < 8 && !c->dead; i++) {
    ssize_t n = recv(c->fd, rbuf, sizeof rbuf, 0);
    if (n > 0) {
      consume(c, rbuf, (size_t)n, now_ns());
      continue;
    }
    if (n == 0) {
      st.early_closes++;
      report("conn %u: server closed the connection", c->idx);
      kill_conn(c);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == ECONNRESET) {
      st.early_closes++;
      report("conn %u: connection reset by server", c->idx);
    } else {
      st.io_errors++;
      report("conn %u: recv: %s", c->idx, strerror(errno));
    }
    kill_conn(c);
    return;
  }
  if (!c->dead) flush(c);
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s --port N [--host 127.0.0.1] [--conns 100] [--size 64] [--depth 1]\n"
          "          [--seconds 5] [--warmup 1] [--connect-retries 50]\n"
          "       %s --unix PATH [--conns 100] [--size 64] [--depth 1] ...\n",
          argv0, argv0);
}

static int parse_args(int argc, char **argv) {
  static const struct option longopts[] = {
      {"host", required_argument, NULL, 'h'},    {"port", required_argument, NULL, 'p'},
      {"conns", required_argument, NULL, 'c'},   {"size", required_argument, NULL, 's'},
      {"depth", required_argument, NULL, 'd'},   {"seconds", required_argument, NULL, 't'},
      {"warmup", required_argument, NULL, 'w'},  {"connect-retries", required_argument, NULL, 'r'},
      {"unix", required_argument, NULL, 'u'},    {"help", no_argument, NULL, '?'},
      {NULL, 0, NULL, 0},
  };
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    int bad = 0;
    switch (ch) {
      case 'h': opt_host = optarg; break;
      case 'p': opt_port = optarg; break;
      case 'u': opt_unix = optarg; break;
      case 'c': bad = parse_long(optarg, 1, 1000000, &opt_conns); break;
      case 's': bad = parse_long(optarg, 1, 64L * 1024 * 1024, &opt_size); break;
      case 'd': bad = parse_long(optarg, 1, 1000000, &opt_depth); break;
      case 't': bad = parse_double(optarg, 0.001, &opt_seconds); break;
      case 'w': bad = parse_double(optarg, 0.0, &opt_warmup); break;
      case 'r': bad = parse_long(optarg, 0, 1000000, &opt_retries); break;
      default: return -1;
    }
    if (bad) {
      fprintf(stderr, "echo_load: bad value '%s' for option\n", optarg);
      return -1;
    }
  }
  /* Exactly one target: a TCP port or a Unix socket path. */
  if (optind != argc || !opt_port == !opt_unix) return -1;
  if (opt_unix && strlen(opt_unix) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
    fprintf(stderr, "echo_load: --unix path longer than a sockaddr_un holds\n");
    return -1;
  }
  if ((double)opt_depth * (double)opt_size > 256.0 * 1024 * 1024) {
    fprintf(stderr, "echo_load: depth * size too large\n");
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (parse_args(argc, argv) != 0) {
    usage(argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  stop_on_signals();
  raise_nofile(opt_conns);

  pattern = malloc((size_t)opt_size + SKEW);
  conn_t *conns = calloc((size_t)opt_conns, sizeof *conns);
  if (!pattern || !conns) {
    fprintf(stderr, "echo_load: out of memory\n");
    return 2;
  }
  fill_pattern((size_t)opt_size + SKEW);

  struct addrinfo *ai = NULL;
  /* A Unix path gets a hand-made addrinfo, so connect_stream serves both kinds. */
  struct sockaddr_un sun;
  struct addrinfo unix_ai;
  if (opt_unix) {
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, opt_unix, strlen(opt_unix) + 1);
    memset(&unix_ai, 0, sizeof unix_ai);
    unix_ai.ai_family = AF_UNIX;
    unix_ai.ai_socktype = SOCK_STREAM;
    unix_ai.ai_addr = (struct sockaddr *)&sun;
    unix_ai.ai_addrlen = sizeof sun;
    ai = &unix_ai;
  } else {
    ai = resolve_or_exit(opt_host, opt_port, SOCK_STREAM);
  }
  epfd = epoll_or_exit();

  /* Every connection exists before the clock starts, so connection setup
   * (which some servers make expensive) never pollutes the measurement. */
  long connected = 0;
  for (long i = 0; i < opt_conns && !stop_requested; i++) {
    conn_t *c = &conns[i];
    c->idx = (uint32_t)i;
    c->dead = 1;
    c->fd = connect_stream(ai, c->idx, opt_retries);
    if (c->fd < 0) {
      st.connect_errors++;
      continue;
    }
    int one = 1;
    if (!opt_unix) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->sbuf = malloc((size_t)opt_depth * (size_t)opt_size);
    c->sent_ns = calloc((size_t)opt_depth, sizeof *c->sent_ns);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (!c->sbuf || !c->sent_ns || epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
      st.io_errors++;
      report("conn %u: setup failed", c->idx);
      close(c->fd);
      c->fd = -1;
      continue;
    }
    c->dead = 0;
    alive++;
    connected++;
  }
  if (!opt_unix) freeaddrinfo(ai);

  double t0 = now_s();
  double warm_end = t0 + opt_warmup;
  double end = warm_end + opt_seconds;
  double mstart = t0;
  measuring = opt_warmup <= 0.0;
  if (measuring) mark_window("start");

  for (long i = 0; i < opt_conns; i++) {
    conn_t *c = &conns[i];
    if (c->dead) continue;
    for (long d = 0; d < opt_depth; d++) queue_msg(c);
    flush(c);
  }

  struct epoll_event evs[256];
  while (alive > 0 && !stop_requested) {
    double now = now_s();
    if (!measuring && now >= warm_end) {
      measuring = 1;
      mstart = now;
      mark_window("start");
    }
    if (now >= end) break;
    double until = measuring ? end : warm_end;
    /* Round up so we never spin on a sub-millisecond remainder. */
    int timeout = (int)((until - now) * 1000.0) + 1;
    int n = epoll_wait(epfd, evs, 256, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("echo_load: epoll_wait");
      st.io_errors++;
      break;
    }
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (c->dead) continue;
      uint32_t e = evs[i].events;
      /* HUP/ERR go through recv so the real cause (EOF vs reset) is counted. */
      if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
      if (!c->dead && (e & EPOLLOUT)) flush(c);
    }
  }
  double mend = now_s();
  if (measuring) mark_window("end");
  double elapsed = measuring ? mend - mstart : 0.0;
  if (elapsed < 0) elapsed = 0;

  for (long i = 0; i < opt_conns; i++) {
    if (!conns[i].dead) close(conns[i].fd);
    free(conns[i].sbuf);
    free(conns[i].sent_ns);
  }
  close(epfd);

  print_result_head(elapsed, opt_conns, opt_size, opt_depth, connected);
  print_latency();
  printf("}\n");
  fflush(stdout);
  free(conns);
  free(pattern);
  return error_count() > 0 || stop_requested ? 1 : 0;
}
