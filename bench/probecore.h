/* SPDX-License-Identifier: Apache-2.0 */
/* The pure part of zl-probe, the open-loop HTTP client: the request text,
 * a bounded parser of the response, the guided retry policy (which failures
 * retry, full-jitter backoff from a seeded generator), error kinds from
 * errno, a request's JSON line and the run's summary. No sockets and no
 * clock: every time is an argument. */
#ifndef ZL_BENCH_PROBECORE_H
#define ZL_BENCH_PROBECORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define PROBE_MAX_HEAD 8192  /* status line, headers and the blank line */
#define PROBE_MAX_BODY 65536 /* a pod answers its name; room for more */
/* Bytes a response buffer must hold so every limit above is detected. */
#define PROBE_MAX_RESPONSE (PROBE_MAX_HEAD + PROBE_MAX_BODY + 1)
#define PROBE_POD_MAX 128 /* answering pod name kept, NUL included */
#define PROBE_MAX_PATH 1024
#define PROBE_MAX_HOST 256
#define PROBE_MAX_RETRIES 3
#define PROBE_MAX_ATTEMPTS (1 + PROBE_MAX_RETRIES)
#define PROBE_MAX_PODS 64 /* distinct names counted; more go to "other" */
/* Successful answers whose times the summary keeps for the largest gap
 * (128 MiB of them); later ones are counted but leave the gap partial. */
#define PROBE_SUMMARY_MAX_OK ((size_t)1 << 24)

/* How an attempt, and so a request, ended. */
enum probe_kind {
    PROBE_OK = 0,          /* a 2xx answer */
    PROBE_TIMEOUT_CONNECT, /* no connection in time (a SYN dropped) */
    PROBE_TIMEOUT_READ,    /* connected, no whole answer in time */
    PROBE_REFUSED,         /* RST or ICMP port unreachable to the SYN */
    PROBE_RESET,           /* the connection was reset or broken later */
    PROBE_UNREACHABLE,     /* no route, ICMP host or net unreachable */
    PROBE_HTTP_STATUS,     /* an answer outside 2xx */
    PROBE_BAD_RESPONSE,    /* not HTTP/1.x, truncated, over a limit */
    PROBE_OTHER,           /* anything else (no descriptor, no port) */
    PROBE_KIND_COUNT,
};

/* "ok", "timeout-connect", "timeout-read", "refused", "reset",
 * "unreachable", "http-status", "bad-response", "other"; never NULL. */
const char *probe_kind_str(enum probe_kind kind);

/* Where an errno came from: before or after the connection was made. */
enum probe_phase {
    PROBE_PHASE_CONNECT = 0,
    PROBE_PHASE_EXCHANGE,
};

/* The kind of a socket error: ECONNREFUSED refused; ECONNRESET, EPIPE,
 * ECONNABORTED reset; ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN
 * unreachable; ETIMEDOUT (the kernel gave up) the phase's timeout; any
 * other value PROBE_OTHER. */
enum probe_kind probe_classify_errno(int err, enum probe_phase phase);

/* PROBE_OK for 200..299, else PROBE_HTTP_STATUS. */
enum probe_kind probe_status_kind(int status);

/* RFC 9110's idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS,
 * TRACE); the rest (POST, PATCH, anything unknown) are not. */
bool probe_method_idempotent(const char *method);

/* Whether a failed attempt is worth another: every transport failure and
 * bad response, and the statuses a proxy or an overloaded server gives
 * for a request it did not process (502, 503, 504). Not other statuses,
 * not PROBE_OK. */
bool probe_kind_retryable(enum probe_kind kind, int status);

/* Appends "METHOD PATH HTTP/1.1" with Host, User-Agent, Accept and
 * Connection: close (and Content-Length: 0 for a method that is not
 * GET, HEAD, DELETE, OPTIONS or TRACE). ZL_ERR_INVALID for a method that
 * is not an upper-case token, a path that does not start with '/' or holds
 * a space or control byte, a host with either; ZL_ERR_LIMIT past
 * PROBE_MAX_PATH or PROBE_MAX_HOST; errors of buf_append. */
enum zl_err probe_request_text(const char *method, const char *path,
                               const char *host, struct buf *out);

/* One parsed response. Offsets index the parsed data. */
struct probe_response {
    bool complete;          /* a whole response is there */
    int status;             /* 100..999; 0 until the status line is read */
    size_t head_len;        /* up to the blank line, included */
    size_t body_off;        /* == head_len */
    size_t body_len;        /* body bytes (complete responses only) */
    int64_t content_length; /* -1: none (close-delimited or no body) */
};

/* Parses data[0..len) as the start of the answer to one request: status
 * line, headers, and a body delimited by Content-Length or by the close
 * (eof: the peer closed and no byte follows). No body for HEAD (head),
 * 204 or 304. Interim 1xx answers before the final one are skipped. Bare
 * LF line ends are taken; obsolete line folding is not. Pure.
 * ZL_OK with complete set once the response is whole; ZL_OK with complete
 * clear when more bytes are needed (never when eof). ZL_ERR_PARSE for
 * anything malformed, or cut short at eof; ZL_ERR_LIMIT when the head
 * passes PROBE_MAX_HEAD or the body PROBE_MAX_BODY; ZL_ERR_INVALID for a
 * Transfer-Encoding (the probe asks for none and decodes none) or
 * conflicting Content-Lengths. */
enum zl_err probe_response_parse(const char *data, size_t len, bool head,
                                 bool eof, struct probe_response *out);

/* Copies the body, without leading and trailing ASCII white space, to out
 * as a NUL-terminated name, cut at PROBE_POD_MAX - 1 bytes; control bytes
 * (and NUL) become '?'. Returns the length written. */
size_t probe_pod_name(const char *body, size_t body_len,
                      char out[PROBE_POD_MAX]);

/* splitmix64: small, fast, and the same sequence for the same seed. */
struct probe_rng {
    uint64_t state;
};

void probe_rng_seed(struct probe_rng *rng, uint64_t seed);
uint64_t probe_rng_next(struct probe_rng *rng);

/* Capped exponential backoff with full jitter. */
struct probe_backoff {
    int64_t base_ns; /* > 0 */
    int64_t cap_ns;  /* >= base_ns */
};

/* The most the delay before retry number retry (1 for the first) may be:
 * min(cap, base * 2^(retry - 1)), without overflow; 0 for retry 0. */
int64_t probe_backoff_ceiling(const struct probe_backoff *b, unsigned retry);

/* A delay uniform in [0, ceiling] drawn from rng (full jitter). */
int64_t probe_backoff_delay(const struct probe_backoff *b, unsigned retry,
                            struct probe_rng *rng);

/* One attempt: a new connection. Times are CLOCK_REALTIME nanoseconds;
 * durations come from CLOCK_MONOTONIC. */
struct probe_attempt {
    int64_t start_ns;
    int64_t end_ns;
    int64_t duration_ns;
    int64_t backoff_ns; /* waited after the previous attempt */
    enum probe_kind kind;
    int status;    /* 0: no status line read */
    int sys_errno; /* the errno behind kind, or 0 */
};

/* One request of the open loop. */
struct probe_request {
    uint64_t seq;     /* 0, 1, 2, ... in the order they were due */
    int64_t sched_ns; /* when it was due: t_start + seq * interval */
    int64_t start_ns;
    int64_t end_ns;
    int64_t duration_ns;
    unsigned attempt_count; /* 1..PROBE_MAX_ATTEMPTS */
    struct probe_attempt attempts[PROBE_MAX_ATTEMPTS];
    enum probe_kind kind;    /* the final attempt's */
    int status;              /* the final attempt's */
    char pod[PROBE_POD_MAX]; /* the trimmed body of a 2xx answer, or "" */
};

/* Appends r as one JSON object (no newline): type "request", seq,
 * sched_ns, start_ns, end_ns, duration_ns, attempts, status, pod (null
 * unless ok), error (null when ok, else the kind) and tries (per attempt:
 * start_ns, end_ns, duration_ns, backoff_ns, status, error, errno).
 * Errors of buf_append. */
enum zl_err probe_request_json(const struct probe_request *r, struct buf *out);

struct probe_pod_count {
    char name[PROBE_POD_MAX];
    uint64_t count;
};

/* Totals over the requests added. The gap is between the end times of two
 * successful requests next to each other in time, whatever the order they
 * were added in. */
struct probe_summary {
    uint64_t requests;
    uint64_t ok;
    uint64_t failed;
    uint64_t retried;  /* requests that took more than one attempt */
    uint64_t attempts; /* over all requests */
    uint64_t by_kind[PROBE_KIND_COUNT]; /* final kinds; [PROBE_OK] = ok */
    struct probe_pod_count pods[PROBE_MAX_PODS];
    size_t pod_count;
    uint64_t pods_other; /* answers from names past PROBE_MAX_PODS */
    int64_t first_start_ns, last_end_ns; /* 0 when empty */
    /* Set by probe_summary_finish; -1 with fewer than two successes. */
    int64_t max_gap_ns;
    int64_t gap_from_ns, gap_to_ns; /* the two answers around it */
    bool gap_partial; /* more than PROBE_SUMMARY_MAX_OK successes */
    int64_t *ok_ends; /* owned; end times of successes */
    size_t ok_len, ok_cap;
};

void probe_summary_init(struct probe_summary *s);
void probe_summary_cleanup(struct probe_summary *s);

/* Counts r. ZL_ERR_NOMEM when the list of success times cannot grow (r
 * is counted all the same, the gap then leaves it out and is partial). */
enum zl_err probe_summary_add(struct probe_summary *s,
                              const struct probe_request *r);

/* Sorts the success times and sets max_gap_ns and the instants around it. */
void probe_summary_finish(struct probe_summary *s);

/* What the run was, for the summary line (strings borrowed). */
struct probe_run {
    const char *mode; /* "naive" or "guided" */
    const char *method;
    const char *target;
    const char *path;
    int64_t interval_ns;
    uint64_t seed;
};

/* Appends the summary as one JSON object of type "summary" (no newline):
 * the run (when run is not NULL), the totals, failures by kind (every
 * kind, zeros included), requests per pod and the largest gap (null below
 * two successes). Errors of buf_append. */
enum zl_err probe_summary_json(const struct probe_summary *s,
                               const struct probe_run *run, struct buf *out);

/* Appends the summary as a few lines of text for people. */
enum zl_err probe_summary_text(const struct probe_summary *s, struct buf *out);

#endif
