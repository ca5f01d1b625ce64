/*
 * pubsub_load: one publisher, N subscribers over T topics, every delivered message verified.
 *
 *   pubsub_load --port P [--host 127.0.0.1] --mode resp|line [--subs 1000] [--topics 1]
 *               [--seconds 3] [--window 64] [--size 32]
 *
 * resp: each subscriber sends SUBSCRIBE t<k> (k = its index mod T) and waits for the
 *       confirmation; the publisher sends PUBLISH t<k> <payload> and reads the `:N` replies,
 *       each checked against the topic's subscriber count.
 * line: a chat server (every line to every other client): subscribers and publisher are plain
 *       clients; the publisher sends `hello` lines until every subscriber heard one, then the
 *       numbered lines.
 *
 * Message s goes to topic s mod T, its payload "<s> <send time ns> xxx..." (--size bytes in all).
 * Each subscriber expects its topic's sequence numbers in order (k, k+T, k+2T, ...): any other is
 * a mismatch. At most --window deliveries are in flight (messages published and not yet delivered
 * to every subscriber of their topic, times their subscribers), so the publisher runs at the speed
 * the server fans out.
 * Latency is send -> delivery per delivered message. The last stdout line is one JSON object.
 * Built by perf/lib/loadgen.ts (`cc -O2`), single-threaded epoll, no allocation per message.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536
#define LAT_BUCKETS (1 << 20) /* 1 us buckets up to ~1 s; longer ones land in the last */

struct sub {
  int fd;
  int topic;
  uint64_t expect;
  int subscribed;
  int heard;
  size_t have;
  char buf[BUF];
};

static struct sub *subs;
static int ep = -1;
static int nsubs = 1000, ntopics = 1, window = 64000, size = 32, seconds = 3, resp = 1;
static const char *host = "127.0.0.1";
static int port = 0;
static uint64_t *done;       /* deliveries per in-flight message, indexed seq & ring_mask */
static uint64_t ring_mask;
static uint64_t floor_seq;   /* every message below it is fully delivered */
static uint64_t next_seq;    /* next to publish */
static uint64_t per_topic_base, per_topic_extra;
static uint64_t delivered, delivered_measured, mismatches, bad_replies, io_errors, replies;
static uint64_t lat[LAT_BUCKETS];
static int measuring;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "pubsub_load: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

/* Subscribers of the topic of message `seq`. */
static uint64_t fanout(uint64_t seq) {
  return per_topic_base + ((int)(seq % (uint64_t)ntopics) < (int)per_topic_extra ? 1 : 0);
}

static void deliver(struct sub *s, const char *payload, size_t len) {
  (void)len;
  if (payload[0] == 'h') {  /* a hello line (line mode, before the numbered ones) */
    s->heard = 1;
    return;
  }
  char *end;
  uint64_t seq = strtoull(payload, &end, 10);
  uint64_t sent = strtoull(end + 1, NULL, 10);
  if (seq != s->expect) {
    if (mismatches++ < 5) fprintf(stderr, "pubsub_load: subscriber fd %d expected %llu, got %llu\n", s->fd, (unsigned long long)s->expect, (unsigned long long)seq);
    if (seq < floor_seq || seq >= next_seq) return;  /* not a message in flight: count nothing */
  }
  s->expect = seq + (uint64_t)ntopics;
  delivered++;
  if (measuring) {
    delivered_measured++;
    uint64_t us = (now_ns() - sent) / 1000;
    lat[us < LAT_BUCKETS ? us : LAT_BUCKETS - 1]++;
  }
  done[seq & ring_mask]++;
  while (floor_seq < next_seq && done[floor_seq & ring_mask] >= fanout(floor_seq)) {
    done[floor_seq & ring_mask] = 0;
    floor_seq++;
  }
}

/* Parses whole frames in s->buf; returns bytes consumed. RESP: *3 message ch payload (or the
 * subscribe confirmation); line: payload\n. */
static size_t parse(struct sub *s) {
  size_t at = 0;
  for (;;) {
    char *b = s->buf + at;
    size_t n = s->have - at;
    if (!resp) {
      char *nl = memchr(b, '\n', n);
      if (!nl) return at;
      *nl = 0;
      deliver(s, b, (size_t)(nl - b));
      at += (size_t)(nl - b) + 1;
      continue;
    }
    /* *<k>\r\n then k bulk strings, or an integer reply (none expected here). */
    if (n < 4) return at;
    if (b[0] != '*') {
      bad_replies++;
      return s->have;  /* resynchronising is not worth it: count and drop */
    }
    char *p = memchr(b, '\n', n);
    if (!p) return at;
    int k = atoi(b + 1);
    const char *parts[4];
    size_t lens[4];
    char *q = p + 1;
    int ok = 1;
    for (int i = 0; i < k && i < 4; i++) {
      size_t left = (size_t)(s->buf + s->have - q);
      if (left < 4) { ok = 0; break; }
      if (q[0] == ':') {  /* the subscribe count */
        char *e = memchr(q, '\n', left);
        if (!e) { ok = 0; break; }
        parts[i] = q;
        lens[i] = 0;
        q = e + 1;
        continue;
      }
      char *e = memchr(q, '\n', left);
      if (!e) { ok = 0; break; }
      size_t blen = (size_t)atoll(q + 1);
      char *data = e + 1;
      if ((size_t)(s->buf + s->have - data) < blen + 2) { ok = 0; break; }
      parts[i] = data;
      lens[i] = blen;
      q = data + blen + 2;
    }
    if (!ok) return at;
    if (k == 3 && lens[0] == 9 && memcmp(parts[0], "subscribe", 9) == 0) {
      s->subscribed = 1;
    } else if (k == 3 && lens[0] == 7 && memcmp(parts[0], "message", 7) == 0) {
      char save = ((char *)parts[2])[lens[2]];
      ((char *)parts[2])[lens[2]] = 0;
      deliver(s, parts[2], lens[2]);
      ((char *)parts[2])[lens[2]] = save;
    } else {
      bad_replies++;
    }
    at = (size_t)(q - s->buf);
  }
}

static void read_sub(struct sub *s) {
  for (;;) {
    ssize_t r = read(s->fd, s->buf + s->have, BUF - s->have);
    if (r > 0) {
      s->have += (size_t)r;
      size_t used = parse(s);
      memmove(s->buf, s->buf + used, s->have - used);
      s->have -= used;
      if (s->have == BUF) {
        io_errors++;
        s->have = 0;
      }
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    io_errors++;
    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
    return;
  }
}

/* The publisher's output: what is formatted and not yet written. */
static char out[1 << 20];
static size_t out_len, out_off;
static int pub_fd;
static char pub_in[BUF];
static size_t pub_have;

static void format_message(uint64_t seq) {
  char payload[4096];
  int n = snprintf(payload, sizeof payload, "%llu %llu ", (unsigned long long)seq, (unsigned long long)now_ns());
  while (n < size && n < (int)sizeof payload - 1) payload[n++] = 'x';
  char topic[32];
  int tl = snprintf(topic, sizeof topic, "t%d", (int)(seq % (uint64_t)ntopics));
  if (resp)
    out_len += (size_t)snprintf(out + out_len, sizeof out - out_len, "*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%.*s\r\n", tl, topic, n, n, payload);
  else
    out_len += (size_t)snprintf(out + out_len, sizeof out - out_len, "%.*s\n", n, payload);
}

static void flush_pub(void) {
  while (out_off < out_len) {
    ssize_t w = write(pub_fd, out + out_off, out_len - out_off);
    if (w > 0) {
      out_off += (size_t)w;
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    io_errors++;
    return;
  }
  out_off = out_len = 0;
}

static void publish_more(void) {
  while (next_seq < floor_seq + (uint64_t)window && out_len + 8192 < sizeof out) format_message(next_seq++);
  flush_pub();
}

/* resp: the publisher's `:N` replies, each N checked against its message's topic. */
static uint64_t reply_seq;
static void read_pub(void) {
  for (;;) {
    ssize_t r = read(pub_fd, pub_in + pub_have, BUF - pub_have);
    if (r <= 0) {
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      io_errors++;
      return;
    }
    pub_have += (size_t)r;
    size_t at = 0;
    for (;;) {
      char *nl = memchr(pub_in + at, '\n', pub_have - at);
      if (!nl) break;
      if (pub_in[at] != ':' || (uint64_t)atoll(pub_in + at + 1) != fanout(reply_seq)) bad_replies++;
      reply_seq++;
      replies++;
      at = (size_t)(nl - pub_in) + 1;
    }
    memmove(pub_in, pub_in + at, pub_have - at);
    pub_have -= at;
  }
}

static int arg(int argc, char **argv, int *i, const char *name) {
  return strcmp(argv[*i], name) == 0 && *i + 1 < argc && ++*i;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (arg(argc, argv, &i, "--port")) port = atoi(argv[i]);
    else if (arg(argc, argv, &i, "--host")) host = argv[i];
    else if (arg(argc, argv, &i, "--mode")) resp = strcmp(argv[i], "resp") == 0;
    else if (arg(argc, argv, &i, "--subs")) nsubs = atoi(argv[i]);
    else if (arg(argc, argv, &i, "--topics")) ntopics = atoi(argv[i]);
    else if (arg(argc, argv, &i, "--seconds")) seconds = atoi(argv[i]);
    else if (arg(argc, argv, &i, "--window")) window = atoi(argv[i]);
    else if (arg(argc, argv, &i, "--size")) size = atoi(argv[i]);
    else {
      fprintf(stderr, "usage: pubsub_load --port P [--host H] --mode resp|line [--subs N] [--topics T] [--seconds S] [--window W] [--size B]\n");
      return 2;
    }
  }
  if (port <= 0 || nsubs < 1 || ntopics < 1 || ntopics > nsubs || window < 1 || size < 32) {
    fprintf(stderr, "pubsub_load: bad arguments (need --port, 1 <= topics <= subs, window >= 1, size >= 32)\n");
    return 2;
  }
  if (!resp && ntopics != 1) {
    fprintf(stderr, "pubsub_load: line mode has one room (--topics 1)\n");
    return 2;
  }
  per_topic_base = (uint64_t)(nsubs / ntopics);
  per_topic_extra = (uint64_t)(nsubs % ntopics);
  /* The window in messages: deliveries in flight / subscribers per message. */
  window = window / (int)per_topic_base;
  if (window < 1) window = 1;
  uint64_t ring = 1;
  while (ring < (uint64_t)window * 2) ring <<= 1;
  ring_mask = ring - 1;
  done = calloc(ring, sizeof *done);
  subs = calloc((size_t)nsubs, sizeof *subs);
  if (!done || !subs) die("calloc");
  ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < nsubs; i++) {
    struct sub *s = &subs[i];
    s->fd = dial();
    s->topic = i % ntopics;
    s->expect = (uint64_t)s->topic;
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e) < 0) die("epoll_ctl");
    if (resp) {
      char cmd[64];
      int tl = snprintf(cmd + 32, 32, "t%d", s->topic);
      int n = snprintf(cmd, 32, "*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n", tl);
      char full[96];
      int m = snprintf(full, sizeof full, "%.*s%s\r\n", n, cmd, cmd + 32);
      if (write(s->fd, full, (size_t)m) != m) die("write SUBSCRIBE");
    }
  }
  pub_fd = dial();
  struct epoll_event pe = {.events = EPOLLIN, .data.u64 = (uint64_t)-1};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, pub_fd, &pe) < 0) die("epoll_ctl");
  struct epoll_event evs[512];
  /* Ready: every subscriber confirmed (resp) or heard a hello (line). */
  uint64_t t0 = now_ns(), last_hello = 0;
  for (;;) {
    int ready = 0;
    for (int i = 0; i < nsubs; i++) ready += resp ? subs[i].subscribed : subs[i].heard;
    if (ready == nsubs) break;
    if (now_ns() - t0 > 20000000000ull) {
      fprintf(stderr, "pubsub_load: only %d of %d subscribers ready after 20 s\n", ready, nsubs);
      return 1;
    }
    if (!resp && now_ns() - last_hello > 50000000ull) {
      if (write(pub_fd, "hello\n", 6) != 6) die("write hello");
      last_hello = now_ns();
    }
    int n = epoll_wait(ep, evs, 512, 10);
    for (int k = 0; k < n; k++)
      if (evs[k].data.u64 != (uint64_t)-1) read_sub(&subs[evs[k].data.u64]);
      else if (resp) read_pub();
  }
  /* Warmup a fifth of the run (at least 0.5 s), then the measured window. */
  uint64_t start = now_ns();
  uint64_t warm = (uint64_t)seconds * 200000000ull;
  if (warm < 500000000ull) warm = 500000000ull;
  uint64_t measure_at = start + warm, end_at = measure_at + (uint64_t)seconds * 1000000000ull;
  uint64_t published_at_measure = 0;
  int pub_out = 0;
  publish_more();
  for (;;) {
    uint64_t now = now_ns();
    if (!measuring && now >= measure_at) {
      measuring = 1;
      published_at_measure = next_seq;
      printf("measure start\n");
      fflush(stdout);
    }
    if (now >= end_at) break;
    int want_out = out_len > out_off;
    if (want_out != pub_out) {
      struct epoll_event e = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.u64 = (uint64_t)-1};
      epoll_ctl(ep, EPOLL_CTL_MOD, pub_fd, &e);
      pub_out = want_out;
    }
    int n = epoll_wait(ep, evs, 512, 5);
    for (int k = 0; k < n; k++) {
      if (evs[k].data.u64 == (uint64_t)-1) {
        if (evs[k].events & EPOLLOUT) flush_pub();
        if (resp && (evs[k].events & EPOLLIN)) read_pub();
        else if (!resp && (evs[k].events & EPOLLIN)) {
          char sink[4096];
          while (read(pub_fd, sink, sizeof sink) > 0) {
          }
        }
      } else {
        read_sub(&subs[evs[k].data.u64]);
      }
    }
    publish_more();
  }
  printf("measure end\n");
  fflush(stdout);
  uint64_t p50 = 0, p99 = 0, max = 0, seen = 0, count = 0;
  for (int i = 0; i < LAT_BUCKETS; i++) count += lat[i];
  for (int i = 0; i < LAT_BUCKETS; i++) {
    if (!lat[i]) continue;
    seen += lat[i];
    if (!p50 && seen * 2 >= count) p50 = (uint64_t)i;
    if (!p99 && seen * 100 >= count * 99) p99 = (uint64_t)i;
    max = (uint64_t)i;
  }
  uint64_t errors = mismatches + bad_replies + io_errors;
  printf("{\"delivered\":%llu,\"seconds\":%d,\"deliveredPerSec\":%.1f,\"published\":%llu,\"subs\":%d,\"topics\":%d,"
         "\"window\":%d,\"size\":%d,\"p50Us\":%llu,\"p99Us\":%llu,\"maxUs\":%llu,\"errors\":%llu,\"mismatches\":%llu,"
         "\"badReplies\":%llu,\"ioErrors\":%llu,\"replies\":%llu}\n",
         (unsigned long long)delivered_measured, seconds, (double)delivered_measured / seconds,
         (unsigned long long)(next_seq - published_at_measure), nsubs, ntopics, window, size,
         (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)max, (unsigned long long)errors,
         (unsigned long long)mismatches, (unsigned long long)bad_replies, (unsigned long long)io_errors,
         (unsigned long long)replies);
  return errors ? 1 : 0;
}
