/* SPDX-License-Identifier: Apache-2.0 */
/* The "pod" of the network-namespace dataplane (e2e/dataplane): a tiny
 * HTTP/1.x server that answers every request with 200 and its own name, one
 * request per connection, so a client sees which pod kube-proxy picked. It
 * is one epoll loop on one thread; it parses no more than the end of the
 * request head and serves nothing else. */
#ifndef ZL_BENCH_PODSRV_H
#define ZL_BENCH_PODSRV_H

#include <stdint.h>

#include "base/err.h"

/* Open connections at once; past it, new ones are closed at accept. */
#define PODSRV_MAX_CONNS 4096
/* A request head larger than this is dropped without an answer. */
#define PODSRV_MAX_REQUEST 16384
/* The longest pod name answered. */
#define PODSRV_MAX_NAME 253
/* Default time a connection may take from accept to the last byte sent. */
#define PODSRV_DEFAULT_TIMEOUT_MS 5000

struct podsrv;

struct podsrv_options {
    const char *listen; /* "ADDR:PORT" or "[ADDR6]:PORT"; port 0 picks one */
    const char *name;   /* answered as the body, followed by "\n" */
    int timeout_ms;     /* 0: PODSRV_DEFAULT_TIMEOUT_MS */
    int stop_fd;        /* readable means stop (a signal pipe); -1: none */
};

/* Counts kept by the loop; read them after podsrv_run returned. */
struct podsrv_stats {
    uint64_t served;    /* answers sent in full */
    uint64_t timed_out; /* connections closed at their deadline */
    uint64_t dropped;   /* closed at accept (full) or oversized heads */
};

/* Binds and listens (non-blocking) and returns the server in *out (free
 * with podsrv_free). ZL_ERR_INVALID for a bad address or name,
 * ZL_ERR_IO when the socket cannot be bound, ZL_ERR_NOMEM. */
enum zl_err podsrv_new(const struct podsrv_options *opts, struct podsrv **out);

/* The bound TCP port (useful after asking for port 0). */
int podsrv_port(const struct podsrv *s);

/* Serves until podsrv_stop or stop_fd becomes readable; ZL_OK then, or
 * ZL_ERR_IO when epoll fails. */
enum zl_err podsrv_run(struct podsrv *s);

/* Makes podsrv_run return. Safe from another thread or a signal handler. */
void podsrv_stop(struct podsrv *s);

/* The counts so far (call after podsrv_run returned). */
struct podsrv_stats podsrv_stats(const struct podsrv *s);

/* Closes every socket and frees; NULL is a no-op. */
void podsrv_free(struct podsrv *s);

#endif
