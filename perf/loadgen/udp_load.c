/*
 * udp_load: closed-loop UDP echo load generator that verifies every datagram
 * and counts the ones that never come back.
 *
 * `--conns` client sockets, each connect()ed to the server (so it only hears
 * the server, and learns of a closed port as ECONNREFUSED), each keeping
 * `depth` datagrams of `size` bytes in flight: a slot whose reply arrives is
 * refilled with the next datagram at once. A datagram not answered within
 * `--timeout-ms` is counted lost and its slot refilled, so one drop costs that
 * slot the timeout instead of stalling the client for the rest of the run.
 *
 * Single-threaded like echo_load, for the same reason: 2 cores, and the server
 * needs them more than we do.
 *
 * Build: cc -O2 -o perf/bin/udp_load perf/loadgen/udp_load.c
 * Usage: udp_load --host 127.0.0.1 --port N [--conns 50] [--size 64] [--depth 1]
 *                 [--seconds 5] [--warmup 1] [--timeout-ms 200]
 * Output: "measure start" and "measure end" lines as the measured window
 * opens and closes, then one JSON line on stdout, the keys of echo_load's plus lost,
 * lostWarmup, late, timeoutMs. Exit 0 = clean, 1 = errors seen, 2 = usage.
 * Loss is not an error (UDP may drop); the runner reports it next to msgs/s.
 *
 * Counting: msgs = replies that matched a datagram in flight, after warmup;
 * lost = datagrams declared lost after warmup (lostWarmup: during warmup);
 * late = replies to datagrams already declared lost (they stay lost);
 * mismatches = replies of the wrong size or content, to another client, to a
 * datagram never sent, or a second reply to an answered one.
 * earlyCloses = ICMP port unreachable (the server's socket is gone).
 * Datagrams still in flight when the clock stops are neither msgs nor lost.
 *
 * Latency: send() to the recv() of its reply, for replies after warmup, into
 * the same histogram as echo_load (see loadgen_common.h); lost datagrams have
 * no latency, so p99 is over the answered ones only.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOADGEN_NAME "udp_load"
#include "loadgen_common.h"

/*
 * Datagram layout: a 12-byte header (sequence, client, slot), each XORed with
 * a constant so a zero-filled reply cannot pass, then a body from the shared
 * pattern at an offset derived from (client, sequence). The slot names where
 * the sender keeps the datagram's state, so replies may come back in any order.
 */
#define HDR 12
/* Sequences of recently lost datagrams kept per client, to tell a late reply
 * (after its timeout) from a duplicated one. */
#define LOST_RING 1024

typedef struct {
  uint32_t seq;
  uint64_t sent_ns;
  int unsent; /* the socket refused it for now (EAGAIN/ENOBUFS); retried */
} slot_t;

typedef struct {
  int fd;
  uint32_t idx;
  uint32_t next_seq;
  int out_armed;
  long unsent;
  slot_t *slots;
  uint32_t lost_ring[LOST_RING];
  uint32_t lost_count; /* ever; lost_ring holds the last LOST_RING of them */
} client_t;

static const char *opt_host = "127.0.0.1";
static const char *opt_port = NULL;
static long opt_conns = 50, opt_size = 64, opt_depth = 1, opt_timeout_ms = 200;
static double opt_seconds = 5.0, opt_warmup = 1.0;

static uint8_t *sbuf;
/* Larger than any datagram, so an oversized reply is seen as such, not cut. */
static uint8_t rbuf[65536 + 1];
static int epfd = -1;
static int measuring = 0;
/* The loss counters; the common ones (msgs, errors) are `st` in loadgen_common.h. */
static struct {
  uint64_t lost, lost_warmup, late;
} loss;

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define K_SEQ 0xA5C3E187u
#define K_IDX 0x5A3C1E78u
#define K_SLOT 0x3C5AE1C7u

static void set_out(client_t *c, int on) {
  if (c->out_armed == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->out_armed = on;
}

/* The slot's datagram left (or is given up as sent): its timeout starts now. */
static void mark_sent(client_t *c, slot_t *sl) {
  sl->sent_ns = now_ns();
  if (sl->unsent) c->unsent--;
  sl->unsent = 0;
}

/* Sends slot s's datagram; on a full socket it stays unsent for the next try. */
static void send_slot(client_t *c, uint32_t s) {
  slot_t *sl = &c->slots[s];
  size_t size = (size_t)opt_size;
  put32(sbuf, sl->seq ^ K_SEQ);
  put32(sbuf + 4, c->idx ^ K_IDX);
  put32(sbuf + 8, s ^ K_SLOT);
  memcpy(sbuf + HDR, pattern + skew(c->idx, sl->seq) + HDR, size - HDR);
  for (;;) {
    ssize_t n = send(c->fd, sbuf, size, 0);
    if (n == (ssize_t)size) {
      mark_sent(c, sl);
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      if (!sl->unsent) c->unsent++;
      sl->unsent = 1;
      set_out(c, 1);
      return;
    }
    /* A refused send is the ICMP error of an earlier datagram: the port is closed. */
    if (n < 0 && errno == ECONNREFUSED) {
      st.early_closes++;
      report("client %u: send: server port closed (ICMP port unreachable)", c->idx);
    } else {
      st.io_errors++;
      report("client %u: send: %s", c->idx, n < 0 ? strerror(errno) : "short datagram");
    }
    /* Treat it as sent: the timeout will count it lost and retry. */
    mark_sent(c, sl);
    return;
  }
}

/* The slot's next datagram: a fresh sequence number, so a late reply to the old one is told apart. */
static void refill(client_t *c, uint32_t s) {
  c->slots[s].seq = c->next_seq++;
  send_slot(c, s);
}

static void flush_unsent(client_t *c) {
  for (uint32_t s = 0; s < (uint32_t)opt_depth && c->unsent > 0; s++)
    if (c->slots[s].unsent) send_slot(c, s);
  if (c->unsent == 0) set_out(c, 0);
}

static int was_lost(const client_t *c, uint32_t seq) {
  uint32_t n = c->lost_count < LOST_RING ? c->lost_count : LOST_RING;
  for (uint32_t i = 0; i < n; i++)
    if (c->lost_ring[i] == seq) return 1;
  return 0;
}

static void on_reply(client_t *c, const uint8_t *p, size_t n, uint64_t t_recv) {
  if (n != (size_t)opt_size) {
    st.mismatches++;
    report("client %u: reply of %zu bytes, sent %ld", c->idx, n, opt_size);
    return;
  }
  uint32_t seq = get32(p) ^ K_SEQ, idx = get32(p + 4) ^ K_IDX, s = get32(p + 8) ^ K_SLOT;
  if (idx != c->idx || s >= (uint32_t)opt_depth || seq >= c->next_seq) {
    st.mismatches++;
    report("client %u: reply names client %u slot %u seq %u, which it never sent", c->idx, idx, s, seq);
    return;
  }
  if (memcmp(p + HDR, pattern + skew(idx, seq) + HDR, n - HDR) != 0) {
    st.mismatches++;
    report("client %u seq %u: body differs from what was sent", c->idx, seq);
    return;
  }
  slot_t *sl = &c->slots[s];
  if (sl->seq != seq || sl->unsent) {
    if (was_lost(c, seq)) {
      loss.late++;
    } else {
      st.mismatches++;
      report("client %u seq %u: second reply to one datagram", c->idx, seq);
    }
    return;
  }
  if (measuring) {
    lat_record(t_recv - sl->sent_ns);
    st.msgs++;
    st.bytes += n;
  }
  refill(c, s);
}

static void on_readable(client_t *c) {
  /* Level-triggered: a bounded batch, then yield to the other clients. */
  for (int i = 0; i < 16; i++) {
    ssize_t n = recv(c->fd, rbuf, sizeof rbuf, MSG_TRUNC);
    if (n >= 0) {
      on_reply(c, rbuf, (size_t)n, now_ns());
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == ECONNREFUSED) {
      st.early_closes++;
      report("client %u: server port closed (ICMP port unreachable)", c->idx);
    } else {
      st.io_errors++;
      report("client %u: recv: %s", c->idx, strerror(errno));
    }
    break;
  }
}

/* Declares every datagram older than the timeout lost and sends its replacement. */
static void expire(client_t *clients, uint64_t now) {
  uint64_t limit = (uint64_t)opt_timeout_ms * 1000000ull;
  for (long i = 0; i < opt_conns; i++) {
    client_t *c = &clients[i];
    if (c->fd < 0) continue;
    for (uint32_t s = 0; s < (uint32_t)opt_depth; s++) {
      slot_t *sl = &c->slots[s];
      if (sl->unsent || now - sl->sent_ns < limit) continue;
      if (measuring) loss.lost++;
      else loss.lost_warmup++;
      c->lost_ring[c->lost_count++ % LOST_RING] = sl->seq;
      refill(c, s);
    }
    if (c->unsent > 0) flush_unsent(c);
  }
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s --port N [--host 127.0.0.1] [--conns 50] [--size 64] [--depth 1]\n"
          "          [--seconds 5] [--warmup 1] [--timeout-ms 200]\n",
          argv0);
}

static int parse_args(int argc, char **argv) {
  static const struct option longopts[] = {
      {"host", required_argument, NULL, 'h'},    {"port", required_argument, NULL, 'p'},
      {"conns", required_argument, NULL, 'c'},   {"size", required_argument, NULL, 's'},
      {"depth", required_argument, NULL, 'd'},   {"seconds", required_argument, NULL, 't'},
      {"warmup", required_argument, NULL, 'w'},  {"timeout-ms", required_argument, NULL, 'o'},
      {"help", no_argument, NULL, '?'},          {NULL, 0, NULL, 0},
  };
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    int bad = 0;
    switch (ch) {
      case 'h': opt_host = optarg; break;
      case 'p': opt_port = optarg; break;
      case 'c': bad = parse_long(optarg, 1, 100000, &opt_conns); break;
      /* The header must fit; 65507 is the largest IPv4 UDP payload. */
      case 's': bad = parse_long(optarg, HDR, 65507, &opt_size); break;
      case 'd': bad = parse_long(optarg, 1, 4096, &opt_depth); break;
      case 't': bad = parse_double(optarg, 0.001, &opt_seconds); break;
      case 'w': bad = parse_double(optarg, 0.0, &opt_warmup); break;
      case 'o': bad = parse_long(optarg, 1, 60000, &opt_timeout_ms); break;
      default: return -1;
    }
    if (bad) {
      fprintf(stderr, "udp_load: bad value '%s' for option\n", optarg);
      return -1;
    }
  }
  return optind != argc || !opt_port ? -1 : 0;
}

/* A non-blocking UDP socket connected to the server, or -1. */
static int open_client(const struct addrinfo *ai, uint32_t idx) {
  int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    report("client %u: socket: %s", idx, strerror(errno));
    return -1;
  }
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    report("client %u: connect: %s", idx, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  if (parse_args(argc, argv) != 0) {
    usage(argv[0]);
    return 2;
  }
  stop_on_signals();
  raise_nofile(opt_conns);

  pattern = malloc((size_t)opt_size + SKEW);
  sbuf = malloc((size_t)opt_size);
  client_t *clients = calloc((size_t)opt_conns, sizeof *clients);
  if (!pattern || !sbuf || !clients) {
    fprintf(stderr, "udp_load: out of memory\n");
    return 2;
  }
  fill_pattern((size_t)opt_size + SKEW);

  struct addrinfo *ai = resolve_or_exit(opt_host, opt_port, SOCK_DGRAM);
  epfd = epoll_or_exit();

  long connected = 0;
  for (long i = 0; i < opt_conns; i++) {
    client_t *c = &clients[i];
    c->idx = (uint32_t)i;
    c->fd = open_client(ai, c->idx);
    if (c->fd < 0) {
      st.connect_errors++;
      continue;
    }
    c->slots = calloc((size_t)opt_depth, sizeof *c->slots);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (!c->slots || epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
      st.io_errors++;
      report("client %u: setup failed", c->idx);
      close(c->fd);
      c->fd = -1;
      continue;
    }
    connected++;
  }
  freeaddrinfo(ai);

  double t0 = now_s();
  double warm_end = t0 + opt_warmup;
  double end = warm_end + opt_seconds;
  double mstart = t0;
  measuring = opt_warmup <= 0.0;
  if (measuring) mark_window("start");

  for (long i = 0; i < opt_conns; i++)
    if (clients[i].fd >= 0)
      for (uint32_t s = 0; s < (uint32_t)opt_depth; s++) refill(&clients[i], s);

  /* Timeouts are checked at least this often, so a loss is declared within
   * timeout + 10 ms; scanning every slot is cheap (clients x depth). */
  const double tick = 0.010;
  double next_expire = t0 + tick;
  struct epoll_event evs[256];
  while (connected > 0 && !stop_requested) {
    double now = now_s();
    if (!measuring && now >= warm_end) {
      measuring = 1;
      mstart = now;
      mark_window("start");
    }
    if (now >= end) break;
    if (now >= next_expire) {
      expire(clients, now_ns());
      next_expire = now + tick;
    }
    double until = measuring ? end : warm_end;
    if (next_expire < until) until = next_expire;
    int timeout = (int)((until - now) * 1000.0) + 1;
    int n = epoll_wait(epfd, evs, 256, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("udp_load: epoll_wait");
      st.io_errors++;
      break;
    }
    for (int i = 0; i < n; i++) {
      client_t *c = evs[i].data.ptr;
      uint32_t e = evs[i].events;
      if (e & (EPOLLIN | EPOLLERR)) on_readable(c);
      if (e & EPOLLOUT) flush_unsent(c);
    }
  }
  double mend = now_s();
  if (measuring) mark_window("end");
  double elapsed = measuring ? mend - mstart : 0.0;
  if (elapsed < 0) elapsed = 0;

  for (long i = 0; i < opt_conns; i++) {
    if (clients[i].fd >= 0) close(clients[i].fd);
    free(clients[i].slots);
  }
  close(epfd);

  print_result_head(elapsed, opt_conns, opt_size, opt_depth, connected);
  printf(",\"lost\":%llu,\"lostWarmup\":%llu,\"late\":%llu,\"timeoutMs\":%ld", (unsigned long long)loss.lost,
         (unsigned long long)loss.lost_warmup, (unsigned long long)loss.late, opt_timeout_ms);
  print_latency();
  printf("}\n");
  fflush(stdout);
  free(clients);
  free(sbuf);
  free(pattern);
  return error_count() > 0 || stop_requested ? 1 : 0;
}
