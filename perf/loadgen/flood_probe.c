/*
 * flood_probe: fairness under flood. `--flooders` TCP clients pipeline one request over and
 * over, as fast as the kernel takes the bytes, and never read a reply (so their replies back up
 * on the server too); beside them one ordinary probe client sends its request every
 * `--every-ms` and times the reply. The same measurement as test/helpers/flood.mjs (the
 * fairness test), in C so the load generator is not the bottleneck.
 *
 * - Flooders: non-blocking sockets in one epoll set (level-triggered EPOLLOUT only: nothing is
 *   ever read); each writes a 64 KiB chunk of whole requests, cyclically, until EAGAIN. The
 *   kernel's flow control (the server's receive buffer and its reading) sets their pace.
 * - Probe: its own thread with its own epoll set and non-blocking socket, so a reply is
 *   timestamped as it arrives, never behind the flooders' writes. It sends `--probe`, waits for
 *   exactly `--reply` (any other byte is a mismatch), waits `--every-ms`, and sends again, during
 *   the measured window only. Round trip: CLOCK_MONOTONIC just before the send() to just after
 *   the recv() that completes the reply. A probe still unanswered when the window ends counts
 *   as one sample of its whole wait up to the window's end (`unanswered`): a starved probe is a
 *   huge latency, never a missing sample.
 * - Warmup: every connection is made first (probe, then flooders), then the flood runs for
 *   `--warmup` s before the window opens, so the server's buffers are full when probing starts.
 *
 * Build: cc -O2 -o perf/bin/flood_probe perf/loadgen/flood_probe.c -lpthread
 * Usage: flood_probe --port N [--host 127.0.0.1] [--flooders 50] [--flood 'PING\r\n']
 *                    [--probe 'PING\r\n'] [--reply '+PONG\r\n'] [--every-ms 100]
 *                    [--seconds 5] [--warmup 1] [--connect-retries 50]
 *        (--flood, --probe and --reply take C escapes: \r \n \t \\ \xHH)
 * Output: "measure start" and "measure end" lines as the measured window opens and closes, then
 * one JSON line on stdout: samples (probe round trips, the unanswered one included), answered,
 * unanswered and unansweredUs (that probe's wait, its sample; null when none), p50Us/p99Us/p999Us (histogram bucket tops, loadgen_common.h) and maxUs (exact),
 * floodBytes and floodBytesPerSec (flood bytes that reached the server's sockets during the
 * window: what send() took plus how much the flooders' send queues shrank, see flood_queued),
 * floodQueuedBytes (still in those queues at the end), the error counts. Exit 0 = clean, 1 = errors seen (a connection failed or closed by the
 * server, a wrong reply byte), 2 = usage.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOADGEN_NAME "flood_probe"
#include "loadgen_common.h"

#define FLOOD_CHUNK 65536
#define MAX_MSG 4096

typedef struct {
  int fd;
  uint32_t idx;
  size_t off; /* where in the chunk the next send starts */
  int dead;
} flooder_t;

static const char *opt_host = "127.0.0.1";
static const char *opt_port = NULL;
static long opt_flooders = 50, opt_every_ms = 100, opt_retries = 50;
static double opt_seconds = 5.0, opt_warmup = 1.0;

typedef struct {
  char bytes[MAX_MSG];
  size_t len;
} msg_t;
static msg_t flood_req, probe_req, probe_reply;

static uint8_t *chunk;
static size_t chunk_len;
static int epfd = -1;
static int measuring = 0;
/* Bytes the kernel took from the flooders during the window (send() returns). */
static uint64_t flood_sent;

/* The probe thread's own state; folded into `st` after it is joined. */
static struct {
  int fd;
  uint64_t start_ns, end_ns, every_ns;
  /* The window as the probe saw it: when it printed `measure start` and `measure end`. */
  uint64_t opened_ns, closed_ns;
  uint64_t answered, unanswered;
  uint64_t unanswered_ns; /* the unanswered probe's wait, its sample */
  uint64_t mismatches, early_closes, io_errors;
} probe;

/* C escapes (\r \n \t \\ \xHH) of `s` into `m`; -1 when malformed or too long. */
static int unescape(const char *s, msg_t *m) {
  size_t n = 0;
  for (; *s; s++) {
    if (n >= sizeof m->bytes) return -1;
    char c = *s;
    if (c == '\\') {
      s++;
      switch (*s) {
        case 'r': c = '\r'; break;
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case '\\': c = '\\'; break;
        case 'x': {
          if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2])) return -1;
          char hex[3] = {s[1], s[2], 0};
          c = (char)strtol(hex, NULL, 16);
          s += 2;
          break;
        }
        default: return -1;
      }
    }
    m->bytes[n++] = c;
  }
  m->len = n;
  return n > 0 ? 0 : -1;
}

/* Sleeps until `ns` (CLOCK_MONOTONIC), in steps of at most 100 ms so a stop request is seen. */
static void sleep_until(uint64_t ns) {
  for (uint64_t now = now_ns(); now < ns && !stop_requested; now = now_ns()) {
    uint64_t at = ns - now > 100000000ull ? now + 100000000ull : ns;
    struct timespec ts = {(time_t)(at / 1000000000ull), (long)(at % 1000000000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  }
}

/* A wait in ms until `until_ns` (rounded up, so no spinning on a remainder), capped so a stop
 * request is noticed within 100 ms. */
static int wait_ms(uint64_t now, uint64_t until_ns) {
  if (until_ns <= now) return 0;
  uint64_t ms = (until_ns - now + 999999) / 1000000;
  return ms > 100 ? 100 : (int)ms;
}

/* The probe's reply bytes so far: returns 1 when `reply` is complete, 0 when more is due, -1 on
 * a byte that does not belong (wrong content, or anything while no request is outstanding). */
static int match_reply(const uint8_t *p, size_t n, int waiting, size_t *got) {
  for (size_t i = 0; i < n; i++) {
    if (!waiting || *got >= probe_reply.len || p[i] != (uint8_t)probe_reply.bytes[*got]) {
      report("probe: unexpected reply byte 0x%02x at offset %zu of the reply", p[i], *got);
      return -1;
    }
    if (++*got == probe_reply.len) {
      if (i + 1 < n) {
        report("probe: %zu bytes after a complete reply, with no request outstanding", n - i - 1);
        return -1;
      }
      return 1;
    }
  }
  return 0;
}

/* Records one probe round trip and returns it (ns); a reply after the window ended is the window's end. */
static uint64_t probe_sample(uint64_t sent_ns, uint64_t done_ns) {
  if (done_ns > probe.end_ns) done_ns = probe.end_ns;
  uint64_t ns = done_ns > sent_ns ? done_ns - sent_ns : 0;
  lat_record(ns);
  return ns;
}

static void *probe_main(void *arg) {
  (void)arg;
  int ep = epoll_or_exit();
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = probe.fd};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, probe.fd, &ev) != 0) {
    probe.io_errors++;
    report("probe: epoll_ctl: %s", strerror(errno));
    close(ep);
    return NULL;
  }
  sleep_until(probe.start_ns);
  if (stop_requested) {
    close(ep);
    return NULL; /* stopped during warmup: no window */
  }
  /* The probe, mostly asleep, is woken on time where the busy flood thread may not be, so it
   * announces the window: the runner's CPU window is then the probe's. */
  probe.opened_ns = now_ns();
  mark_window("start");
  uint8_t buf[MAX_MSG];
  uint64_t next = probe.start_ns, sent = 0;
  size_t got = 0;
  int waiting = 0;
  while (!stop_requested) {
    uint64_t now = now_ns();
    if (now >= probe.end_ns) break;
    if (!waiting && now >= next) {
      sent = now_ns();
      ssize_t n = send(probe.fd, probe_req.bytes, probe_req.len, MSG_NOSIGNAL);
      if (n != (ssize_t)probe_req.len) {
        /* A few bytes into an idle socket's empty buffer: anything short is a failure. */
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) probe.early_closes++;
        else probe.io_errors++;
        report("probe: send: %s", n < 0 ? strerror(errno) : "short write");
        break;
      }
      waiting = 1;
      got = 0;
      continue;
    }
    int n = epoll_wait(ep, &ev, 1, wait_ms(now, waiting ? probe.end_ns : next < probe.end_ns ? next : probe.end_ns));
    if (n < 0 && errno != EINTR) {
      probe.io_errors++;
      report("probe: epoll_wait: %s", strerror(errno));
      break;
    }
    if (n <= 0) continue;
    ssize_t r = recv(probe.fd, buf, sizeof buf, 0);
    uint64_t t = now_ns();
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (r <= 0) {
      if (r == 0 || errno == ECONNRESET) probe.early_closes++;
      else probe.io_errors++;
      report("probe: %s", r == 0 ? "server closed the connection" : strerror(errno));
      break;
    }
    int done = match_reply(buf, (size_t)r, waiting, &got);
    if (done < 0) {
      probe.mismatches++;
      break;
    }
    if (done == 0) continue;
    if (t > probe.end_ns) break; /* came after the window: unanswered, below */
    probe_sample(sent, t);
    probe.answered++;
    waiting = 0;
    next = t + probe.every_ns;
  }
  probe.closed_ns = now_ns();
  mark_window("end");
  if (waiting) {
    /* Never a missing sample: its wait up to the window's end (or the stop) is the figure. */
    probe.unanswered_ns = probe_sample(sent, probe.closed_ns);
    probe.unanswered++;
  }
  close(ep);
  return NULL;
}

static void kill_flooder(flooder_t *f) {
  if (f->dead) return;
  f->dead = 1;
  epoll_ctl(epfd, EPOLL_CTL_DEL, f->fd, NULL);
  close(f->fd);
  f->fd = -1;
}

/*
 * Bytes still in the live flooders' send queues, not yet acknowledged by the server's kernel
 * (SIOCOUTQ). Those queues hold megabytes each (tcp_wmem), far more than a server drains in a
 * window, so what send() took says little about what the server read; what send() took plus
 * the queues' shrinkage over the window is what reached the server's sockets in that window.
 */
static uint64_t flood_queued(const flooder_t *fl, long n) {
  uint64_t q = 0;
  for (long i = 0; i < n; i++) {
    int outq = 0;
    if (!fl[i].dead && ioctl(fl[i].fd, SIOCOUTQ, &outq) == 0 && outq > 0) q += (uint64_t)outq;
  }
  return q;
}

/* Writes until the kernel takes no more (or a bounded number of sends, to share the loop). */
static void pump(flooder_t *f, int hangup) {
  for (int i = 0; i < 64; i++) {
    ssize_t n = send(f->fd, chunk + f->off, chunk_len - f->off, MSG_NOSIGNAL);
    if (n > 0) {
      f->off = (f->off + (size_t)n) % chunk_len;
      if (measuring) flood_sent += (uint64_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !hangup) return;
    if (hangup || errno == EPIPE || errno == ECONNRESET) {
      st.early_closes++;
      report("flooder %u: the server closed the connection (%s)", f->idx, n < 0 ? strerror(errno) : "hangup");
    } else {
      st.io_errors++;
      report("flooder %u: send: %s", f->idx, strerror(errno));
    }
    kill_flooder(f);
    return;
  }
}

/* A connected, non-blocking TCP_NODELAY socket, or -1 (counted). */
static int open_conn(const struct addrinfo *ai, uint32_t idx) {
  int fd = connect_stream(ai, idx, opt_retries);
  if (fd < 0) {
    st.connect_errors++;
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s --port N [--host 127.0.0.1] [--flooders 50] [--flood 'PING\\r\\n']\n"
          "          [--probe 'PING\\r\\n'] [--reply '+PONG\\r\\n'] [--every-ms 100]\n"
          "          [--seconds 5] [--warmup 1] [--connect-retries 50]\n",
          argv0);
}

static int parse_args(int argc, char **argv) {
  static const struct option longopts[] = {
      {"host", required_argument, NULL, 'h'},     {"port", required_argument, NULL, 'p'},
      {"flooders", required_argument, NULL, 'f'}, {"flood", required_argument, NULL, 'F'},
      {"probe", required_argument, NULL, 'P'},    {"reply", required_argument, NULL, 'R'},
      {"every-ms", required_argument, NULL, 'e'}, {"seconds", required_argument, NULL, 't'},
      {"warmup", required_argument, NULL, 'w'},   {"connect-retries", required_argument, NULL, 'r'},
      {"help", no_argument, NULL, '?'},           {NULL, 0, NULL, 0},
  };
  unescape("PING\\r\\n", &flood_req);
  unescape("PING\\r\\n", &probe_req);
  unescape("+PONG\\r\\n", &probe_reply);
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    int bad = 0;
    switch (ch) {
      case 'h': opt_host = optarg; break;
      case 'p': opt_port = optarg; break;
      case 'f': bad = parse_long(optarg, 0, 100000, &opt_flooders); break;
      case 'F': bad = unescape(optarg, &flood_req); break;
      case 'P': bad = unescape(optarg, &probe_req); break;
      case 'R': bad = unescape(optarg, &probe_reply); break;
      case 'e': bad = parse_long(optarg, 0, 3600000, &opt_every_ms); break;
      case 't': bad = parse_double(optarg, 0.001, &opt_seconds); break;
      case 'w': bad = parse_double(optarg, 0.0, &opt_warmup); break;
      case 'r': bad = parse_long(optarg, 0, 1000000, &opt_retries); break;
      default: return -1;
    }
    if (bad) {
      fprintf(stderr, "flood_probe: bad value '%s' for option\n", optarg);
      return -1;
    }
  }
  return optind == argc && opt_port ? 0 : -1;
}

int main(int argc, char **argv) {
  if (parse_args(argc, argv) != 0) {
    usage(argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  stop_on_signals();
  raise_nofile(opt_flooders + 1);

  /* Whole requests only, so the stream stays request-aligned however the sends split it. */
  size_t reps = (FLOOD_CHUNK + flood_req.len - 1) / flood_req.len;
  chunk_len = reps * flood_req.len;
  chunk = malloc(chunk_len);
  flooder_t *fl = calloc((size_t)opt_flooders + 1, sizeof *fl);
  if (!chunk || !fl) {
    fprintf(stderr, "flood_probe: out of memory\n");
    return 2;
  }
  for (size_t i = 0; i < reps; i++) memcpy(chunk + i * flood_req.len, flood_req.bytes, flood_req.len);

  struct addrinfo *ai = resolve_or_exit(opt_host, opt_port, SOCK_STREAM);
  epfd = epoll_or_exit();
  /* The probe first: its connection is not what is measured, its round trips are. */
  probe.fd = open_conn(ai, (uint32_t)opt_flooders);
  long connected = 0;
  for (long i = 0; i < opt_flooders && probe.fd >= 0 && !stop_requested; i++) {
    flooder_t *f = &fl[i];
    f->idx = (uint32_t)i;
    f->dead = 1;
    f->fd = open_conn(ai, f->idx);
    if (f->fd < 0) continue;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = f};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, f->fd, &ev) != 0) {
      st.io_errors++;
      report("flooder %u: epoll_ctl: %s", f->idx, strerror(errno));
      close(f->fd);
      continue;
    }
    f->dead = 0;
    connected++;
  }
  freeaddrinfo(ai);

  uint64_t t0 = now_ns();
  probe.start_ns = t0 + (uint64_t)(opt_warmup * 1e9);
  probe.end_ns = probe.start_ns + (uint64_t)(opt_seconds * 1e9);
  probe.every_ns = (uint64_t)opt_every_ms * 1000000ull;
  /* The flood's own window, for its byte count; the probe thread prints the window lines. */
  measuring = opt_warmup <= 0.0;
  uint64_t mstart = t0, queued_start = 0, queued_end = 0;

  /* Signals go to this thread, whose epoll_wait they interrupt; the probe polls the flag. */
  pthread_t probe_thread;
  int probing = 0;
  if (probe.fd >= 0) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    probing = pthread_create(&probe_thread, NULL, probe_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!probing) {
      st.io_errors++;
      report("probe: cannot start its thread");
    }
  }

  struct epoll_event evs[256];
  while (probing && !stop_requested) {
    uint64_t now = now_ns();
    if (!measuring && now >= probe.start_ns) {
      measuring = 1;
      mstart = now;
      queued_start = flood_queued(fl, opt_flooders);
    }
    if (now >= probe.end_ns) break;
    int n = epoll_wait(epfd, evs, 256, wait_ms(now, measuring ? probe.end_ns : probe.start_ns));
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("flood_probe: epoll_wait");
      st.io_errors++;
      break;
    }
    for (int i = 0; i < n; i++) {
      flooder_t *f = evs[i].data.ptr;
      if (!f->dead) pump(f, (evs[i].events & (EPOLLERR | EPOLLHUP)) != 0);
    }
  }
  uint64_t mend = now_ns();
  if (measuring) queued_end = flood_queued(fl, opt_flooders);
  /* Clamped: a flooder the server closed mid-window (an error anyway) takes its queue along. */
  uint64_t delivered = flood_sent + queued_start > queued_end ? flood_sent + queued_start - queued_end : 0;
  double flood_s = measuring ? (double)(mend - mstart) / 1e9 : 0.0;
  if (probing) pthread_join(probe_thread, NULL);
  double elapsed = probe.closed_ns > probe.opened_ns ? (double)(probe.closed_ns - probe.opened_ns) / 1e9 : 0.0;
  st.mismatches += probe.mismatches;
  st.early_closes += probe.early_closes;
  st.io_errors += probe.io_errors;

  for (long i = 0; i < opt_flooders; i++) {
    if (!fl[i].dead) close(fl[i].fd);
  }
  if (probe.fd >= 0) close(probe.fd);
  close(epfd);

  print_end_notes();
  printf("{\"seconds\":%.6f,\"flooders\":%ld,\"connected\":%ld,\"everyMs\":%ld,\"samples\":%llu,"
         "\"answered\":%llu,\"unanswered\":%llu,\"floodBytes\":%llu,\"floodBytesPerSec\":%.1f,"
         "\"floodQueuedBytes\":%llu,\"floodRequestBytes\":%zu,\"errors\":%llu,\"mismatches\":%llu,"
         "\"earlyCloses\":%llu,\"connectErrors\":%llu,\"ioErrors\":%llu,\"interrupted\":%s",
         elapsed, opt_flooders, connected, opt_every_ms, (unsigned long long)lat.samples,
         (unsigned long long)probe.answered, (unsigned long long)probe.unanswered,
         (unsigned long long)delivered, flood_s > 0 ? (double)delivered / flood_s : 0.0,
         (unsigned long long)queued_end, flood_req.len, (unsigned long long)error_count(),
         (unsigned long long)st.mismatches, (unsigned long long)st.early_closes,
         (unsigned long long)st.connect_errors, (unsigned long long)st.io_errors,
         stop_requested ? "true" : "false");
  print_us("unansweredUs", probe.unanswered > 0, (probe.unanswered_ns + 999) / 1000);
  print_latency();
  printf("}\n");
  fflush(stdout);
  free(fl);
  free(chunk);
  return error_count() > 0 || stop_requested ? 1 : 0;
}
