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
 *        cc -O2 -DECHO_LOAD_TLS -o perf/bin/echo_load_tls perf/loadgen/echo_load.c -lssl -lcrypto
 * Usage: echo_load --host 127.0.0.1 --port N [--conns 100] [--size 64]
 *                  [--depth 1] [--seconds 5] [--warmup 1] [--connect-retries 50]
 *        echo_load --unix /path/to.sock [same options but --host/--port]
 *        echo_load_tls --tls [--reconnect [--resume]] --port N [same options]
 * Output: "measure start" and "measure end" lines as the measured window
 * opens and closes, then one JSON line on stdout. Exit 0 = clean, 1 = errors seen, 2 = usage.
 *
 * TLS (the echo_load_tls build, linked with the system's libssl): `--tls` speaks TLS over TCP
 * (OpenSSL's default client: TLS 1.3 if the server has it, no certificate check, SNI
 * "localhost"); the bytes checked are the plaintext. Every connection completes its handshake
 * before the clock starts, as plain connections connect before it. `--reconnect`: every
 * message on a new connection, the handshake inside the clock: connect, handshake, one message
 * echoed and checked, close_notify, and the server's close awaited (the server closes first, so
 * TIME_WAIT stays on its side and the client never runs out of ports), then the next
 * connection. `msgs` counts those connections (one message each), the latency is connect() to
 * the echo's last byte. Without `--resume` no session is offered, so every handshake is full;
 * with it each connection offers the ticket its previous connection got. The JSON line adds
 * tlsProtocol, tlsCipher (of the first handshake), tlsHandshakes and tlsResumed (handshakes in
 * the measured window and how many of them the server resumed).
 *
 * A connection with a message outstanding and no progress for STALL_S seconds at the end of
 * the run is an error (ioErrors: "stalled"), so a server that stops answering is not only a
 * lower rate.
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

#ifdef ECHO_LOAD_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#define LOADGEN_NAME "echo_load_tls"
#else
#define LOADGEN_NAME "echo_load"
#endif
#include "loadgen_common.h"

/* A connection silent this long with a message outstanding, at the end of the run, stalled. */
#define STALL_S 2.0

/*
 * Message layout: an 8-byte header encoding (sequence, connection) followed by
 * a body taken from a shared pseudo-random table at an offset derived from the
 * same pair. The header catches reordering and cross-connection mix-ups even
 * when bodies collide; the table lets both generation and checking be a
 * memcpy/memcmp, which keeps 4 KiB workloads from being loadgen-bound.
 */
#define HDR 8
/* --reconnect: where a connection is in its connect, handshake, echo, close cycle. */
enum { ST_ECHO, ST_CONNECTING, ST_HANDSHAKE, ST_CLOSING };

typedef struct {
  int fd;
  int state;
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
  uint64_t connect_ns; /* --reconnect: when this connection's connect() started */
  uint64_t progress_ns; /* last time bytes came back (or the connection was made) */
#ifdef ECHO_LOAD_TLS
  SSL *ssl;
  SSL_SESSION *sess;  /* --resume: the previous connection's session, offered by the next */
  int read_wants_out; /* SSL_read needs the socket writable (a post-handshake message to send) */
#endif
} conn_t;

static const char *opt_host = "127.0.0.1";
static const char *opt_port = NULL;
static const char *opt_unix = NULL; /* --unix PATH: a Unix stream socket instead of host:port */
static long opt_conns = 100, opt_size = 64, opt_depth = 1, opt_retries = 50;
static double opt_seconds = 5.0, opt_warmup = 1.0;
static int opt_tls = 0, opt_reconnect = 0, opt_resume = 0;

static uint8_t rbuf[256 * 1024];
static int epfd = -1;
static long alive = 0;
static int measuring = 0;
static const struct addrinfo *target;

#ifdef ECHO_LOAD_TLS
static SSL_CTX *tls_ctx;
static struct {
  uint64_t handshakes, resumed;
  char protocol[32], cipher[64];
} tls_st;

/* OpenSSL's reason for the last failure, for a report line. */
static const char *tls_reason(void) {
  static char buf[256];
  unsigned long e = ERR_get_error();
  if (e == 0) return errno ? strerror(errno) : "no reason given";
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

static void tls_init(void) {
  tls_ctx = SSL_CTX_new(TLS_client_method());
  if (!tls_ctx) {
    fprintf(stderr, LOADGEN_NAME ": SSL_CTX_new: %s\n", tls_reason());
    exit(2);
  }
  /* The bench's certificates are throwaway and self-signed: encryption, not identity. */
  SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
  /* SSL_write may take part of a buffer (like send()), from wherever the buffer now is. */
  SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* A server closing without close_notify reads as EOF, counted like a TCP close. */
  SSL_CTX_set_options(tls_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
}

static int tls_new(conn_t *c) {
  c->ssl = SSL_new(tls_ctx);
  if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) return -1;
  SSL_set_tlsext_host_name(c->ssl, "localhost");
  if (c->sess) SSL_set_session(c->ssl, c->sess);
  return 0;
}

/* A handshake finished: what it negotiated (the first one's), and whether it was resumed. */
static void tls_handshaken(conn_t *c) {
  if (!tls_st.protocol[0]) {
    snprintf(tls_st.protocol, sizeof tls_st.protocol, "%s", SSL_get_version(c->ssl));
    snprintf(tls_st.cipher, sizeof tls_st.cipher, "%s", SSL_get_cipher_name(c->ssl));
  }
  if (measuring) {
    tls_st.handshakes++;
    if (SSL_session_reused(c->ssl)) tls_st.resumed++;
  }
}

static void tls_free(conn_t *c) {
  if (c->ssl) SSL_free(c->ssl);
  c->ssl = NULL;
}

static void print_string(const char *key, const char *v) {
  if (v[0]) printf(",\"%s\":\"%s\"", key, v);
  else printf(",\"%s\":null", key);
}
#endif

static void header(uint32_t idx, uint32_t seq, uint8_t out[HDR]) {
  /* XOR constants keep early headers from being mostly zero bytes, which a
   * server that zero-fills would otherwise pass. */
  uint32_t a = seq ^ 0xA5C3E187u, b = idx ^ 0x5A3C1E78u;
  for (int i = 0; i < 4; i++) {
    out[i] = (uint8_t)(a >> (8 * i));
    out[4 + i] = (uint8_t)(b >> (8 * i));
  }
}

/* Closes connection c's socket (and its TLS state); the connection itself lives on. */
static void close_socket(conn_t *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
#ifdef ECHO_LOAD_TLS
  tls_free(c);
#endif
}

static void kill_conn(conn_t *c) {
  if (c->dead) return;
  c->dead = 1;
  alive--;
  close_socket(c);
}

static int connect_next(conn_t *c);

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

/*
 * send() or, over TLS, SSL_write(): bytes taken, 0 when the socket is full (wait for EPOLLOUT),
 * -1 on failure with errno set (-2 over TLS: a TLS failure, reported here).
 */
static ssize_t conn_send(conn_t *c, const uint8_t *p, size_t n) {
#ifdef ECHO_LOAD_TLS
  if (c->ssl) {
    int r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    /* WANT_READ: the write waits for something from the server; EPOLLIN is always armed. */
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return 0;
    if (e == SSL_ERROR_SYSCALL && errno != 0) return -1;
    st.io_errors++;
    report("conn %u: SSL_write: %s", c->idx, tls_reason());
    return -2;
  }
#endif
  ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
  return r;
}

static void flush(conn_t *c) {
  while (c->shead < c->stail) {
    ssize_t n = conn_send(c, c->sbuf + c->shead, c->stail - c->shead);
    if (n > 0) {
      stamp_sent(c, c->sent_bytes, c->sent_bytes + (uint64_t)n);
      c->shead += (size_t)n;
      c->sent_bytes += (uint64_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      set_out(c, 1);
      return;
    }
    if (n == -2) {
      kill_conn(c);
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
  c->progress_ns = t_recv;
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
      uint64_t since = opt_reconnect ? c->connect_ns : c->sent_ns[c->recv_seq % (uint32_t)opt_depth];
      if (measuring) lat_record(t_recv - since);
      c->recv_off = 0;
      c->recv_seq++;
      if (measuring) st.msgs++;
      if (!opt_reconnect) {
        queue_msg(c);
        continue;
      }
#ifdef ECHO_LOAD_TLS
      /* This connection's one message is back: keep its ticket for the next, say goodbye and
       * wait for the server to close (it must: close_notify answered, then FIN). */
      if (opt_resume) {
        if (c->sess) SSL_SESSION_free(c->sess);
        c->sess = SSL_get1_session(c->ssl);
      }
      c->state = ST_CLOSING;
      SSL_shutdown(c->ssl);
#endif
      return;
    }
  }
}

/*
 * recv() or, over TLS, SSL_read(): bytes read, 0 at EOF (a TLS close_notify too), -1 with errno
 * set (EAGAIN: nothing now), -2 over TLS: a TLS failure, reported here.
 */
static ssize_t conn_recv(conn_t *c, uint8_t *p, size_t n) {
#ifdef ECHO_LOAD_TLS
  if (c->ssl) {
    c->read_wants_out = 0;
    int r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      if (e == SSL_ERROR_WANT_WRITE) {
        c->read_wants_out = 1;
        set_out(c, 1);
      }
      errno = EAGAIN;
      return -1;
    }
    if (e == SSL_ERROR_SYSCALL && errno != 0) return -1;
    st.io_errors++;
    report("conn %u: SSL_read: %s", c->idx, tls_reason());
    return -2;
  }
#endif
  return recv(c->fd, p, n, 0);
}

/* Bytes OpenSSL holds decrypted for us: epoll cannot see them, so read them before yielding. */
static int tls_pending(const conn_t *c) {
#ifdef ECHO_LOAD_TLS
  return c->ssl && SSL_pending(c->ssl) > 0;
#else
  (void)c;
  return 0;
#endif
}

/* --reconnect: the server closed after our close_notify; on to the next connection. */
static void reconnect(conn_t *c) {
  close_socket(c);
  if (connect_next(c) != 0) {
    st.connect_errors++;
    c->fd = -1;
    c->dead = 1;
    alive--;
  }
}

static void on_readable(conn_t *c) {
  /* Level-triggered, so stopping after a few reads just yields to other
   * connections; leftover data re-triggers the next epoll_wait. */
  for (int i = 0; (i < 8 || tls_pending(c)) && !c->dead; i++) {
    ssize_t n = conn_recv(c, rbuf, sizeof rbuf);
    if (n > 0) {
      if (c->state == ST_CLOSING) {
        st.mismatches++;
        report("conn %u: %zd bytes after the echo was complete", c->idx, n);
        kill_conn(c);
        return;
      }
      consume(c, rbuf, (size_t)n, now_ns());
      continue;
    }
    if (n == 0 && c->state == ST_CLOSING) {
      reconnect(c);
      return;
    }
    if (n == -2) {
      kill_conn(c);
      return;
    }
    if (n == 0) {
      st.early_closes++;
      report("conn %u: server closed the connection", c->idx);
      kill_conn(c);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == ECONNRESET && c->state == ST_CLOSING) {
      /* A close answered with a reset is still a close: the echo was complete. */
      reconnect(c);
      return;
    }
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
  if (!c->dead && c->state == ST_ECHO) flush(c);
}

/* Socket options every connection gets, before it carries bytes. */
static void tune(int fd) {
  int one = 1;
  if (!opt_unix) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* --reconnect: opens connection c's next socket, non-blocking; EPOLLOUT says when it is up. */
static int connect_next(conn_t *c) {
  c->state = ST_CONNECTING;
  c->connect_ns = c->progress_ns = now_ns();
  c->fd = socket(target->ai_family, target->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, target->ai_protocol);
  if (c->fd < 0) {
    report("conn %u: socket: %s", c->idx, strerror(errno));
    return -1;
  }
  tune(c->fd);
  if (connect(c->fd, target->ai_addr, target->ai_addrlen) != 0 && errno != EINPROGRESS) {
    report("conn %u: connect: %s", c->idx, strerror(errno));
    close(c->fd);
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
    report("conn %u: epoll_ctl: %s", c->idx, strerror(errno));
    close(c->fd);
    return -1;
  }
  c->out_armed = 1;
  c->shead = c->stail = 0;
  c->recv_off = 0;
  c->sent_bytes = c->recv_bytes = 0;
  return 0;
}

#ifdef ECHO_LOAD_TLS
/* --reconnect: the handshake, one step per readiness event; then the connection's one message. */
static void handshake_step(conn_t *c) {
  int r = SSL_connect(c->ssl);
  if (r == 1) {
    tls_handshaken(c);
    c->state = ST_ECHO;
    c->progress_ns = now_ns();
    queue_msg(c);
    flush(c);
    return;
  }
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    set_out(c, e == SSL_ERROR_WANT_WRITE);
    return;
  }
  st.io_errors++;
  report("conn %u: TLS handshake: %s", c->idx, e == SSL_ERROR_SYSCALL && errno ? strerror(errno) : tls_reason());
  kill_conn(c);
}

/* --reconnect: the TCP connect finished (or failed); on to the handshake. */
static void connected_step(conn_t *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    st.connect_errors++;
    report("conn %u: connect: %s", c->idx, strerror(err));
    kill_conn(c);
    return;
  }
  if (tls_new(c) != 0) {
    st.io_errors++;
    report("conn %u: SSL_new: %s", c->idx, tls_reason());
    kill_conn(c);
    return;
  }
  c->state = ST_HANDSHAKE;
  handshake_step(c);
}

/* Keep-alive connections: a blocking handshake right after the blocking connect, before the clock. */
static int handshake_blocking(conn_t *c) {
  if (tls_new(c) != 0 || SSL_connect(c->ssl) != 1) {
    report("conn %u: TLS handshake: %s", c->idx, tls_reason());
    tls_free(c);
    return -1;
  }
  tls_handshaken(c);
  return 0;
}
#endif

/* One readiness event for connection c, in whatever state it is. */
static void on_event(conn_t *c, uint32_t e) {
#ifdef ECHO_LOAD_TLS
  if (c->state == ST_CONNECTING) {
    connected_step(c);
    return;
  }
  if (c->state == ST_HANDSHAKE) {
    handshake_step(c);
    return;
  }
  if (c->read_wants_out && (e & EPOLLOUT)) on_readable(c);
#endif
  /* HUP/ERR go through recv so the real cause (EOF vs reset) is counted. */
  if (!c->dead && (e & (EPOLLIN | EPOLLHUP | EPOLLERR))) on_readable(c);
  if (!c->dead && c->state == ST_ECHO && (e & EPOLLOUT)) flush(c);
}

/* At the end: connections waiting on the server for over STALL_S are errors, not just slow. */
static void count_stalls(conn_t *conns) {
  uint64_t now = now_ns();
  for (long i = 0; i < opt_conns; i++) {
    conn_t *c = &conns[i];
    if (c->dead) continue;
    double quiet = (double)(now - c->progress_ns) / 1e9;
    if (quiet < STALL_S) continue;
    static const char *what[] = {"echo", "connect", "TLS handshake", "close"};
    st.io_errors++;
    report("conn %u: stalled: no progress for %.1f s (waiting on the server's %s)", c->idx, quiet, what[c->state]);
  }
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s --port N [--host 127.0.0.1] [--conns 100] [--size 64] [--depth 1]\n"
          "          [--seconds 5] [--warmup 1] [--connect-retries 50]\n"
          "       %s --unix PATH [--conns 100] [--size 64] [--depth 1] ...\n"
          "       %s --tls [--reconnect [--resume]] --port N ...  (the echo_load_tls build)\n",
          argv0, argv0, argv0);
}

static int parse_args(int argc, char **argv) {
  static const struct option longopts[] = {
      {"host", required_argument, NULL, 'h'},    {"port", required_argument, NULL, 'p'},
      {"conns", required_argument, NULL, 'c'},   {"size", required_argument, NULL, 's'},
      {"depth", required_argument, NULL, 'd'},   {"seconds", required_argument, NULL, 't'},
      {"warmup", required_argument, NULL, 'w'},  {"connect-retries", required_argument, NULL, 'r'},
      {"unix", required_argument, NULL, 'u'},    {"help", no_argument, NULL, '?'},
      {"tls", no_argument, NULL, 'T'},           {"reconnect", no_argument, NULL, 'R'},
      {"resume", no_argument, NULL, 'S'},
      {NULL, 0, NULL, 0},
  };
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    int bad = 0;
    switch (ch) {
      case 'h': opt_host = optarg; break;
      case 'p': opt_port = optarg; break;
      case 'u': opt_unix = optarg; break;
      case 'T': opt_tls = 1; break;
      case 'R': opt_reconnect = 1; break;
      case 'S': opt_resume = 1; break;
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
#ifndef ECHO_LOAD_TLS
  if (opt_tls) {
    fprintf(stderr, "echo_load: built without TLS: --tls needs the echo_load_tls build (-DECHO_LOAD_TLS -lssl -lcrypto)\n");
    return -1;
  }
#endif
  /* Reconnecting is for counting handshakes, and relies on close_notify to let the server close first. */
  if (opt_reconnect && (!opt_tls || opt_depth != 1)) {
    fprintf(stderr, LOADGEN_NAME ": --reconnect needs --tls and --depth 1\n");
    return -1;
  }
  if (opt_resume && !opt_reconnect) {
    fprintf(stderr, LOADGEN_NAME ": --resume needs --reconnect\n");
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
  target = ai;
#ifdef ECHO_LOAD_TLS
  if (opt_tls) tls_init();
#endif

  /* Every connection exists before the clock starts, so connection setup
   * (which some servers make expensive) never pollutes the measurement. */
  long connected = 0;
  for (long i = 0; i < opt_conns && !stop_requested; i++) {
    conn_t *c = &conns[i];
    c->idx = (uint32_t)i;
    c->dead = 1;
    c->sbuf = malloc((size_t)opt_depth * (size_t)opt_size);
    c->sent_ns = calloc((size_t)opt_depth, sizeof *c->sent_ns);
    if (!c->sbuf || !c->sent_ns) {
      fprintf(stderr, LOADGEN_NAME ": out of memory\n");
      return 2;
    }
    /* Reconnecting connections open theirs once the clock runs (below). */
    if (opt_reconnect) continue;
    c->fd = connect_stream(ai, c->idx, opt_retries);
    if (c->fd < 0) {
      st.connect_errors++;
      continue;
    }
    tune(c->fd);
#ifdef ECHO_LOAD_TLS
    if (opt_tls && handshake_blocking(c) != 0) {
      st.connect_errors++;
      close(c->fd);
      c->fd = -1;
      continue;
    }
#endif
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
      st.io_errors++;
      report("conn %u: setup failed", c->idx);
      close(c->fd);
      c->fd = -1;
      continue;
    }
    c->dead = 0;
    c->progress_ns = now_ns();
    alive++;
    connected++;
  }

  double t0 = now_s();
  double warm_end = t0 + opt_warmup;
  double end = warm_end + opt_seconds;
  double mstart = t0;
  measuring = opt_warmup <= 0.0;
  if (measuring) mark_window("start");

  for (long i = 0; i < opt_conns; i++) {
    conn_t *c = &conns[i];
    if (opt_reconnect) {
      if (connect_next(c) != 0) {
        st.connect_errors++;
        continue;
      }
      c->dead = 0;
      alive++;
      connected++;
      continue;
    }
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
      if (!c->dead) on_event(c, evs[i].events);
    }
  }
  double mend = now_s();
  if (measuring) mark_window("end");
  if (!stop_requested) count_stalls(conns);
  double elapsed = measuring ? mend - mstart : 0.0;
  if (elapsed < 0) elapsed = 0;

  for (long i = 0; i < opt_conns; i++) {
    conn_t *c = &conns[i];
#ifdef ECHO_LOAD_TLS
    /* A polite goodbye (one non-blocking attempt), so servers see close_notify, not a bare FIN. */
    if (!c->dead && c->ssl && c->state == ST_ECHO) SSL_shutdown(c->ssl);
    tls_free(c);
    if (c->sess) SSL_SESSION_free(c->sess);
#endif
    if (!c->dead) close(c->fd);
    free(c->sbuf);
    free(c->sent_ns);
  }
  close(epfd);
  if (!opt_unix) freeaddrinfo(ai);

  print_result_head(elapsed, opt_conns, opt_size, opt_depth, connected);
#ifdef ECHO_LOAD_TLS
  if (opt_tls) {
    print_string("tlsProtocol", tls_st.protocol);
    print_string("tlsCipher", tls_st.cipher);
    printf(",\"tlsHandshakes\":%llu,\"tlsResumed\":%llu", (unsigned long long)tls_st.handshakes,
           (unsigned long long)tls_st.resumed);
  }
#endif
  print_latency();
  printf("}\n");
  fflush(stdout);
  free(conns);
  free(pattern);
  return error_count() > 0 || stop_requested ? 1 : 0;
}
