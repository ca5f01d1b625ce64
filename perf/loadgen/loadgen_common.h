/*
 * Shared by the load generators (echo_load.c over TCP/Unix streams, udp_load.c over UDP,
 * flood_probe.c over TCP), so they all measure latency, build payloads and parse options the
 * same way. Header-only: each loadgen is still built with one `cc -O2 -o perf/bin/X perf/loadgen/X.c` (perf/lib/loadgen.ts rebuilds a
 * binary when this file changes too).
 *
 * Before including, define LOADGEN_NAME (the prefix of every stderr line), e.g. "echo_load".
 */
#ifndef LOADGEN_COMMON_H
#define LOADGEN_COMMON_H

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SKEW 256
#define MAX_REPORTS 5

/*
 * Latency histogram, in microseconds: 1 us buckets below LAT_LINEAR, then
 * LAT_SUB buckets per power of two up to LAT_TOP_EXP (2^24 us ~ 16.8 s, so
 * 10 s fits); anything longer lands in the last bucket. Fixed size, so
 * recording is an index computation and an increment, never an allocation.
 */
#define LAT_LINEAR 1024u     /* = 2^LAT_LINEAR_EXP */
#define LAT_LINEAR_EXP 10
#define LAT_SUB_BITS 6
#define LAT_SUB (1u << LAT_SUB_BITS)
#define LAT_TOP_EXP 24
#define LAT_BUCKETS (LAT_LINEAR + (LAT_TOP_EXP - LAT_LINEAR_EXP) * LAT_SUB)

/* Payload bodies are slices of this pseudo-random table (size + SKEW bytes), at an offset derived
 * from the message's identity, so generating and checking a message is a memcpy/memcmp. */
static uint8_t *pattern;
/* Error lines printed so far; past MAX_REPORTS they are only counted. */
static unsigned reports;
static volatile sig_atomic_t stop_requested = 0;

/* What every loadgen counts; `errors` in the JSON line is the sum of the last four. */
static struct {
  uint64_t msgs, bytes;
  uint64_t mismatches, early_closes, connect_errors, io_errors;
} st;

static struct {
  uint64_t count[LAT_BUCKETS];
  uint64_t samples;
  uint64_t max_ns;
} lat;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned lat_bucket(uint64_t us) {
  if (us < LAT_LINEAR) return (unsigned)us;
  unsigned e = 63u - (unsigned)__builtin_clzll(us); /* us >= 2^e, e >= 10 */
  if (e >= LAT_TOP_EXP) return LAT_BUCKETS - 1;
  unsigned sub = (unsigned)(us >> (e - LAT_SUB_BITS)) & (LAT_SUB - 1);
  return LAT_LINEAR + (e - LAT_LINEAR_EXP) * LAT_SUB + sub;
}

/* Largest value (us) that maps to bucket b. */
static uint64_t lat_bucket_top(unsigned b) {
  if (b < LAT_LINEAR) return b;
  unsigned e = LAT_LINEAR_EXP + (b - LAT_LINEAR) / LAT_SUB;
  uint64_t sub = (b - LAT_LINEAR) % LAT_SUB;
  uint64_t width = 1ull << (e - LAT_SUB_BITS);
  return (1ull << e) + (sub + 1) * width - 1;
}

static void lat_record(uint64_t ns) {
  lat.count[lat_bucket(ns / 1000)]++;
  lat.samples++;
  if (ns > lat.max_ns) lat.max_ns = ns;
}

/* Smallest bucket top t with at least q of all samples <= t, capped by max. */
static uint64_t lat_quantile(double q) {
  uint64_t want = (uint64_t)(q * (double)lat.samples);
  if ((double)want < q * (double)lat.samples) want++; /* ceil */
  if (want < 1) want = 1;
  uint64_t seen = 0, max_us = (lat.max_ns + 999) / 1000;
  for (unsigned b = 0; b < LAT_BUCKETS; b++) {
    seen += lat.count[b];
    if (seen >= want) {
      if (b == LAT_BUCKETS - 1) return max_us; /* the overflow bucket has no top */
      uint64_t top = lat_bucket_top(b);
      return top < max_us ? top : max_us;
    }
  }
  return max_us;
}

static void print_us(const char *key, int have, uint64_t us) {
  if (have) printf(",\"%s\":%llu", key, (unsigned long long)us);
  else printf(",\"%s\":null", key);
}

/* The latency keys of the JSON line (null when nothing completed after warmup). */
static void print_latency(void) {
  int have = lat.samples > 0;
  print_us("p50Us", have, have ? lat_quantile(0.50) : 0);
  print_us("p99Us", have, have ? lat_quantile(0.99) : 0);
  print_us("p999Us", have, have ? lat_quantile(0.999) : 0);
  print_us("maxUs", have, (lat.max_ns + 999) / 1000);
}

static size_t skew(uint32_t idx, uint32_t seq) {
  uint32_t x = idx * 0x9E3779B1u ^ seq * 0x85EBCA77u;
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  return x % SKEW;
}

static void fill_pattern(size_t n) {
  uint64_t s = 0x243F6A8885A308D3ull;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    pattern[i] = (uint8_t)(s >> 32);
  }
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...) {
  /* Cap the noise: one broken server would otherwise print per connection. */
  if (reports++ >= MAX_REPORTS) return;
  va_list ap;
  va_start(ap, fmt);
  fputs(LOADGEN_NAME ": ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void raise_nofile(long fds) {
  struct rlimit rl;
  rlim_t want = (rlim_t)fds + 64;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
  rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
  setrlimit(RLIMIT_NOFILE, &rl);
}

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

/* SIGINT/SIGTERM end the run early (the result is still printed, marked interrupted). */
static void stop_on_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait must wake up */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

static uint64_t error_count(void) {
  return st.mismatches + st.early_closes + st.connect_errors + st.io_errors;
}

/*
 * "measure start" / "measure end" on stdout, flushed at once, as the measured
 * window opens and closes: the runner samples the server's CPU on these lines,
 * so its CPU per message covers the same window as `msgs`. The JSON result
 * stays the last line.
 */
static void mark_window(const char *what) {
  printf("measure %s\n", what);
  fflush(stdout);
}

/* The stderr notes of a run's end: interrupted, error reports past MAX_REPORTS. */
static void print_end_notes(void) {
  if (stop_requested) fprintf(stderr, LOADGEN_NAME ": interrupted\n");
  if (reports > MAX_REPORTS)
    fprintf(stderr, LOADGEN_NAME ": %u further error reports suppressed\n", reports - MAX_REPORTS);
}

/*
 * The end of a run: the stderr notes, then the JSON line up to its common
 * keys. The caller adds its own keys, print_latency() and the closing brace.
 */
static void print_result_head(double elapsed, long conns, long size, long depth, long connected) {
  print_end_notes();
  printf("{\"msgs\":%llu,\"seconds\":%.6f,\"msgsPerSec\":%.1f,\"bytes\":%llu,\"errors\":%llu,"
         "\"conns\":%ld,\"size\":%ld,\"depth\":%ld,\"connected\":%ld,\"mismatches\":%llu,"
         "\"earlyCloses\":%llu,\"connectErrors\":%llu,\"ioErrors\":%llu,\"interrupted\":%s",
         (unsigned long long)st.msgs, elapsed, elapsed > 0 ? (double)st.msgs / elapsed : 0.0,
         (unsigned long long)st.bytes, (unsigned long long)error_count(), conns, size, depth,
         connected, (unsigned long long)st.mismatches, (unsigned long long)st.early_closes,
         (unsigned long long)st.connect_errors, (unsigned long long)st.io_errors,
         stop_requested ? "true" : "false");
}

/* The server's address for sockets of `socktype`; a name that does not resolve is a usage error (exit 2). */
static struct addrinfo *resolve_or_exit(const char *host, const char *port, int socktype) {
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  int gai = getaddrinfo(host, port, &hints, &ai);
  if (gai != 0) {
    fprintf(stderr, LOADGEN_NAME ": %s:%s: %s\n", host, port, gai_strerror(gai));
    exit(2);
  }
  return ai;
}

/* Retries are a budget shared by all connections, so a server that is simply
 * not there costs at most max_retries * 100 ms, not that per connection. */
static long connect_retries_used = 0;

/* A connected stream socket (blocking, as the caller leaves it) to `ai`, or -1 (reported).
 * Unused by udp_load, hence the attribute. */
__attribute__((unused)) static int connect_stream(const struct addrinfo *ai, uint32_t idx, long max_retries) {
  for (;;) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      report("conn %u: socket: %s", idx, strerror(errno));
      return -1;
    }
    /* Blocking connect keeps setup simple; it only runs before the clock. */
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    int err = errno;
    close(fd);
    /* The server may have printed its address a moment before accept() is
     * ready (e.g. cluster workers still forking), so refusals are retried. */
    if ((err == ECONNREFUSED || err == EINTR) && connect_retries_used++ < max_retries && !stop_requested) {
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep(&ts, NULL);
      continue;
    }
    report("conn %u: connect: %s", idx, strerror(err));
    return -1;
  }
}

static int epoll_or_exit(void) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    perror(LOADGEN_NAME ": epoll_create1");
    exit(2);
  }
  return fd;
}

static int parse_long(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) return -1;
  *out = v;
  return 0;
}

static int parse_double(const char *s, double min, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  /* v != v rejects NaN; the upper bound rejects inf without needing libm. */
  if (errno || end == s || *end || v != v || v < min || v > 1e9) return -1;
  *out = v;
  return 0;
}

#endif
