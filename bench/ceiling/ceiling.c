/* The ceiling: the most a one-thread server can answer on this machine.
 *
 * One epoll loop, no HTTP parsing, no routing: every "\r\n\r\n" seen on a
 * connection is answered with one canned response, and all answers to one
 * read() leave in one send(). That is the shape salvo aims for (one crossing
 * per read, one write per batch), minus all the work, so salvo's ratio to
 * this server is the share of the core it spends on its own code.
 *
 * It is a benchmark peer, not a server: it trusts its client (wrk on
 * 127.0.0.1). It still never overflows a buffer, never loses bytes on a short
 * write, and survives a peer that goes away (MSG_NOSIGNAL, no SIGPIPE).
 *
 * usage: ceiling PORT  (or PORT in the environment); prints "listening PORT".
 * On SIGTERM/SIGINT it prints one JSON line {"served": N} and exits 0, the
 * same hook the Node servers may use to report GC statistics. */
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
#include <unistd.h>

/* Same headers as bench/servers/node-http.js, minus Date and Connection. */
static const char RESP[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 12\r\n"
    "\r\n"
    "Hello world!";
#define RESP_LEN (sizeof RESP - 1)

/* 64 KiB reads: a 24-deep wrk batch is about 1 KiB, so one read takes a whole
 * batch (or several). Worst case per read is 64 Ki "\r\n\r\n" fragments,
 * 16 Ki responses (1.5 MiB); OUT_CAP is smaller, so the loop flushes when
 * full instead (only a hostile client gets more than one send per read). */
#define IN_CAP (64 * 1024)
#define OUT_CAP (1024 * 1024)

typedef struct conn {
  int fd;
  int match;    /* bytes of "\r\n\r\n" matched at the end of the last read */
  char *pending; /* output the kernel did not take yet (malloc'd) */
  size_t plen, poff;
} conn;

static volatile sig_atomic_t stopping;
static unsigned long long served;
static char in[IN_CAP], out[OUT_CAP];

static void on_signal(int sig) { (void)sig; stopping = 1; }

static void drop(int ep, conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->pending);
  free(c);
}

/* Sends buf; keeps what the kernel refuses and switches the connection to
 * EPOLLOUT only, so a slow reader stops us reading (bounded memory).
 * Returns -1 when the connection is dead. */
static int send_all(int ep, conn *c, const char *buf, size_t len) {
  if (c->pending) { /* still blocked: append (only reachable within one read) */
    char *p = realloc(c->pending, c->plen + len);
    if (!p) return -1;
    memcpy(p + c->plen, buf, len);
    c->pending = p; c->plen += len;
    return 0;
  }
  ssize_t w = send(c->fd, buf, len, MSG_NOSIGNAL);
  if (w < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    w = 0;
  }
  if ((size_t)w == len) return 0;
  c->plen = len - (size_t)w; c->poff = 0;
  if (!(c->pending = malloc(c->plen))) return -1;
  memcpy(c->pending, buf + w, c->plen);
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
  return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int on_writable(int ep, conn *c) {
  ssize_t w = send(c->fd, c->pending + c->poff, c->plen - c->poff, MSG_NOSIGNAL);
  if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  c->poff += (size_t)w;
  if (c->poff < c->plen) return 0;
  free(c->pending); c->pending = NULL;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int on_readable(int ep, conn *c) {
  ssize_t r = read(c->fd, in, sizeof in);
  if (r == 0) return -1;
  if (r < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
  static const char pat[] = "\r\n\r\n";
  int st = c->match;
  size_t o = 0;
  for (ssize_t k = 0; k < r; k++) {
    if (in[k] == pat[st]) {
      if (++st < 4) continue;
      st = 0;
      served++;
      if (o + RESP_LEN > sizeof out) { /* full: flush early (see OUT_CAP) */
        if (send_all(ep, c, out, o) < 0) return -1;
        o = 0;
      }
      memcpy(out + o, RESP, RESP_LEN);
      o += RESP_LEN;
    } else {
      st = in[k] == '\r'; /* a mismatched '\r' may start the next match */
    }
  }
  c->match = st;
  return o ? send_all(ep, c, out, o) : 0;
}

int main(int argc, char **argv) {
  const char *ps = argc > 1 ? argv[1] : getenv("PORT");
  int port = ps ? atoi(ps) : 0, one = 1;
  struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: wake epoll_wait */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr); /* loopback only, by design */
  socklen_t alen = sizeof a;
  if (bind(ls, (void *)&a, sizeof a) || listen(ls, 4096) || getsockname(ls, (void *)&a, &alen)) {
    perror("ceiling: listen");
    return 1;
  }
  printf("listening %d\n", ntohs(a.sin_port));
  fflush(stdout);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  conn listener = {.fd = ls}; /* its address tells it apart from connections */
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listener}, evs[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);

  while (!stopping) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (c == &listener) {
        int fd;
        while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          /* Nagle would hold the second of two small writes for an ACK. */
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn *nc = calloc(1, sizeof *nc);
          struct epoll_event ce = {.events = EPOLLIN, .data.ptr = nc};
          if (!nc || (nc->fd = fd, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce))) { close(fd); free(nc); }
        }
        continue;
      }
      int rc = 0;
      if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN)) rc = -1;
      else if (c->pending) rc = on_writable(ep, c);
      else rc = on_readable(ep, c);
      if (rc < 0) drop(ep, c);
    }
  }
  printf("{\"served\":%llu}\n", served);
  fflush(stdout);
  return 0;
}
