/* SPDX-License-Identifier: Apache-2.0 */
/* zl-probe's decisions and formats, apart from its sockets. The response
 * parser sees bytes from any server at all: every index is checked
 * against len and every count against a PROBE_MAX_ limit. */
#include "probecore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[PROBE_KIND_COUNT] = {
    [PROBE_OK] = "ok",
    [PROBE_TIMEOUT_CONNECT] = "timeout-connect",
    [PROBE_TIMEOUT_READ] = "timeout-read",
    [PROBE_REFUSED] = "refused",
    [PROBE_RESET] = "reset",
    [PROBE_UNREACHABLE] = "unreachable",
    [PROBE_HTTP_STATUS] = "http-status",
    [PROBE_BAD_RESPONSE] = "bad-response",
    [PROBE_OTHER] = "other",
};

const char *probe_kind_str(enum probe_kind kind)
{
    if ((unsigned)kind >= PROBE_KIND_COUNT)
        return "other";
    return kind_names[kind];
}

enum probe_kind probe_classify_errno(int err, enum probe_phase phase)
{
    switch (err) {
    case ECONNREFUSED:
        return PROBE_REFUSED;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
        return PROBE_RESET;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
        return PROBE_UNREACHABLE;
    case ETIMEDOUT:
        return phase == PROBE_PHASE_CONNECT ? PROBE_TIMEOUT_CONNECT
                                            : PROBE_TIMEOUT_READ;
    default:
        return PROBE_OTHER;
    }
}

enum probe_kind probe_status_kind(int status)
{
    return status >= 200 && status <= 299 ? PROBE_OK : PROBE_HTTP_STATUS;
}

static bool in_list(const char *word, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(word, *list) == 0)
            return true;
    return false;
}

bool probe_method_idempotent(const char *method)
{
    static const char *const idempotent[] = {
        "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", NULL};
    return method != NULL && in_list(method, idempotent);
}

bool probe_kind_retryable(enum probe_kind kind, int status)
{
    if (kind == PROBE_OK || (unsigned)kind >= PROBE_KIND_COUNT)
        return false;
    if (kind == PROBE_HTTP_STATUS)
        return status == 502 || status == 503 || status == 504;
    return true;
}

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", (char)c) != NULL);
}

/* Printable, no space: what a request target or a Host may hold. */
static bool is_visible(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
            return false;
    return true;
}

static bool is_method(const char *m)
{
    if (m == NULL || m[0] == '\0' || strlen(m) > 32)
        return false;
    for (; *m != '\0'; m++)
        if (!(*m >= 'A' && *m <= 'Z') && *m != '-' && *m != '_')
            return false;
    return true;
}

enum zl_err probe_request_text(const char *method, const char *path,
                               const char *host, struct buf *out)
{
    static const char *const bodiless[] = {"GET",     "HEAD",  "DELETE",
                                           "OPTIONS", "TRACE", NULL};
    if (path == NULL || host == NULL || !is_method(method))
        return ZL_ERR_INVALID;
    if (strlen(path) > PROBE_MAX_PATH || strlen(host) > PROBE_MAX_HOST)
        return ZL_ERR_LIMIT;
    if (path[0] != '/' || !is_visible(path) || host[0] == '\0' ||
        !is_visible(host))
        return ZL_ERR_INVALID;
    enum zl_err rc =
        buf_printf(out,
                   "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: zl-probe\r\n"
                   "Accept: */*\r\nConnection: close\r\n",
                   method, path, host);
    if (rc == ZL_OK && !in_list(method, bodiless))
        rc = buf_puts(out, "Content-Length: 0\r\n");
    if (rc == ZL_OK)
        rc = buf_puts(out, "\r\n");
    return rc;
}

/* One line of the head: [start, start + len) without its CR LF or LF. */
struct line {
    const char *start;
    size_t len;
};

/* Finds the line at data[*pos]; false when no LF ends it within len.
 * Moves *pos past the LF. A CR is taken only right before the LF. */
static bool next_line(const char *data, size_t len, size_t *pos,
                      struct line *line)
{
    const char *lf = memchr(data + *pos, '\n', len - *pos);
    if (lf == NULL)
        return false;
    line->start = data + *pos;
    line->len = (size_t)(lf - line->start);
    if (line->len > 0 && line->start[line->len - 1] == '\r')
        line->len--;
    *pos = (size_t)(lf - data) + 1;
    return true;
}

/* HTAB, SP, VCHAR and obs-text: what a reason phrase or field value may
 * hold. */
static bool field_text_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* "HTTP/1.x SP 3DIGIT [SP reason]". */
static enum zl_err parse_status_line(const struct line *l, int *status)
{
    const char *s = l->start;
    if (l->len < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' ||
        s[7] > '9' || s[8] != ' ')
        return ZL_ERR_PARSE;
    for (int i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return ZL_ERR_PARSE;
    if (s[9] == '0' || (l->len > 12 && s[12] != ' ') ||
        !field_text_ok(s + 12, l->len - 12))
        return ZL_ERR_PARSE;
    *status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    return ZL_OK;
}

static bool name_is(const struct line *l, size_t name_len, const char *want)
{
    return name_len == strlen(want) &&
           strncasecmp(l->start, want, name_len) == 0;
}

/* A Content-Length value: digits only, at most PROBE_MAX_BODY. */
static enum zl_err parse_length(const char *v, size_t n, int64_t *out)
{
    int64_t value = 0;
    if (n == 0)
        return ZL_ERR_PARSE;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return ZL_ERR_PARSE;
        value = value * 10 + (v[i] - '0');
        if (value > PROBE_MAX_BODY)
            return ZL_ERR_LIMIT;
    }
    if (*out >= 0 && *out != value)
        return ZL_ERR_INVALID;
    *out = value;
    return ZL_OK;
}

/* "name: value"; the name a token right before the colon, the value
 * trimmed of spaces and tabs. */
static enum zl_err parse_header(const struct line *l, struct probe_response *r)
{
    const char *colon = memchr(l->start, ':', l->len);
    if (colon == NULL || colon == l->start)
        return ZL_ERR_PARSE;
    size_t name_len = (size_t)(colon - l->start);
    for (size_t i = 0; i < name_len; i++)
        if (!is_tchar((unsigned char)l->start[i]))
            return ZL_ERR_PARSE;
    const char *v = colon + 1;
    size_t n = l->len - name_len - 1;
    if (!field_text_ok(v, n))
        return ZL_ERR_PARSE;
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (name_is(l, name_len, "transfer-encoding"))
        return ZL_ERR_INVALID;
    if (name_is(l, name_len, "content-length"))
        return parse_length(v, n, &r->content_length);
    return ZL_OK;
}

/* Reads one head from data[start]: ZL_OK with r->head_len set (from data,
 * not start) once the blank line is there, head_len 0 when it is not yet. */
static enum zl_err parse_head(const char *data, size_t len, size_t start,
                              struct probe_response *r)
{
    struct line l;
    size_t pos = start;
    r->head_len = 0;
    r->status = 0;
    r->content_length = -1;
    if (!next_line(data, len, &pos, &l))
        return len - start >= 5 && memcmp(data + start, "HTTP/", 5) != 0
                   ? ZL_ERR_PARSE
                   : ZL_OK;
    enum zl_err rc = parse_status_line(&l, &r->status);
    while (rc == ZL_OK && next_line(data, len, &pos, &l)) {
        if (l.len == 0) {
            r->head_len = pos;
            return ZL_OK;
        }
        if (l.start[0] == ' ' || l.start[0] == '\t')
            return ZL_ERR_PARSE; /* obsolete line folding */
        rc = parse_header(&l, r);
    }
    return rc;
}

/* The body once the head is whole. */
static enum zl_err parse_body(size_t len, bool head, bool eof,
                              struct probe_response *r)
{
    size_t have = len - r->head_len;
    r->body_off = r->head_len;
    if (head || r->status == 204 || r->status == 304) {
        r->complete = true;
        return ZL_OK;
    }
    if (r->content_length >= 0) {
        if (have >= (size_t)r->content_length) {
            r->body_len = (size_t)r->content_length;
            r->complete = true;
        }
        return r->complete || !eof ? ZL_OK : ZL_ERR_PARSE;
    }
    if (have > PROBE_MAX_BODY)
        return ZL_ERR_LIMIT;
    r->body_len = have;
    r->complete = eof;
    return ZL_OK;
}

enum zl_err probe_response_parse(const char *data, size_t len, bool head,
                                 bool eof, struct probe_response *out)
{
    size_t start = 0;
    enum zl_err rc;
    memset(out, 0, sizeof(*out));
    for (;;) {
        rc = parse_head(data, len, start, out);
        if (rc != ZL_OK)
            return rc;
        if (out->head_len == 0) {
            if (len - start > PROBE_MAX_HEAD)
                return ZL_ERR_LIMIT;
            return eof ? ZL_ERR_PARSE : ZL_OK;
        }
        if (out->head_len - start > PROBE_MAX_HEAD)
            return ZL_ERR_LIMIT;
        if (out->status >= 200)
            break;
        if (out->status == 101)
            return ZL_ERR_PARSE; /* no upgrade was asked for */
        start = out->head_len;   /* an interim 1xx: the answer follows */
    }
    return parse_body(len, head, eof, out);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
           c == '\v';
}

size_t probe_pod_name(const char *body, size_t body_len,
                      char out[PROBE_POD_MAX])
{
    size_t a = 0, b = body_len, n = 0;
    while (a < b && is_space(body[a]))
        a++;
    while (b > a && is_space(body[b - 1]))
        b--;
    for (size_t i = a; i < b && n < PROBE_POD_MAX - 1; i++) {
        unsigned char c = (unsigned char)body[i];
        out[n] = body[i];
        if (c < 0x20 || c == 0x7f)
            out[n] = '?';
        n++;
    }
    out[n] = '\0';
    return n;
}

void probe_rng_seed(struct probe_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t probe_rng_next(struct probe_rng *rng)
{
    uint64_t z = (rng->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

int64_t probe_backoff_ceiling(const struct probe_backoff *b, unsigned retry)
{
    if (retry == 0 || b->base_ns <= 0 || b->cap_ns <= 0)
        return 0;
    int64_t d = b->base_ns;
    for (unsigned i = 1; i < retry && d < b->cap_ns; i++)
        d = d > b->cap_ns / 2 ? b->cap_ns : d * 2;
    return d < b->cap_ns ? d : b->cap_ns;
}

int64_t probe_backoff_delay(const struct probe_backoff *b, unsigned retry,
                            struct probe_rng *rng)
{
    int64_t ceiling = probe_backoff_ceiling(b, retry);
    if (ceiling <= 0)
        return 0;
    /* A 64-bit draw modulo the span is biased by about span / 2^64: under
     * 2^-24 for spans up to 1000 s, nothing a schedule could show. */
    return (int64_t)(probe_rng_next(rng) % ((uint64_t)ceiling + 1));
}

/* "null" for 0 (no such value), else the number. */
static enum zl_err put_status(struct buf *out, int status)
{
    return status != 0 ? buf_printf(out, "%d", status) : buf_puts(out, "null");
}

static enum zl_err put_kind(struct buf *out, enum probe_kind kind)
{
    if (kind == PROBE_OK)
        return buf_puts(out, "null");
    return buf_put_json_string(out, probe_kind_str(kind));
}

static enum zl_err attempt_json(const struct probe_attempt *a, struct buf *out)
{
    enum zl_err rc =
        buf_printf(out,
                   "{\"start_ns\":%lld,\"end_ns\":%lld,"
                   "\"duration_ns\":%lld,\"backoff_ns\":%lld,"
                   "\"status\":",
                   (long long)a->start_ns, (long long)a->end_ns,
                   (long long)a->duration_ns, (long long)a->backoff_ns);
    if (rc == ZL_OK)
        rc = put_status(out, a->status);
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"error\":");
    if (rc == ZL_OK)
        rc = put_kind(out, a->kind);
    if (rc == ZL_OK)
        rc = buf_printf(out, ",\"errno\":%d}", a->sys_errno);
    return rc;
}

enum zl_err probe_request_json(const struct probe_request *r, struct buf *out)
{
    enum zl_err rc =
        buf_printf(out,
                   "{\"type\":\"request\",\"seq\":%llu,\"sched_ns\":%lld,"
                   "\"start_ns\":%lld,\"end_ns\":%lld,\"duration_ns\":%lld,"
                   "\"attempts\":%u,\"status\":",
                   (unsigned long long)r->seq, (long long)r->sched_ns,
                   (long long)r->start_ns, (long long)r->end_ns,
                   (long long)r->duration_ns, r->attempt_count);
    if (rc == ZL_OK)
        rc = put_status(out, r->status);
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"pod\":");
    if (rc == ZL_OK)
        rc = r->kind == PROBE_OK ? buf_put_json_string(out, r->pod)
                                 : buf_puts(out, "null");
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"error\":");
    if (rc == ZL_OK)
        rc = put_kind(out, r->kind);
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"tries\":[");
    for (unsigned i = 0;
         rc == ZL_OK && i < r->attempt_count && i < PROBE_MAX_ATTEMPTS; i++) {
        if (i > 0)
            rc = buf_putc(out, ',');
        if (rc == ZL_OK)
            rc = attempt_json(&r->attempts[i], out);
    }
    if (rc == ZL_OK)
        rc = buf_puts(out, "]}");
    return rc;
}

void probe_summary_init(struct probe_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->max_gap_ns = -1;
}

void probe_summary_cleanup(struct probe_summary *s)
{
    free(s->ok_ends);
    s->ok_ends = NULL;
    s->ok_len = 0;
    s->ok_cap = 0;
}

static void count_pod(struct probe_summary *s, const char *name)
{
    for (size_t i = 0; i < s->pod_count; i++) {
        if (strcmp(s->pods[i].name, name) == 0) {
            s->pods[i].count++;
            return;
        }
    }
    if (s->pod_count == PROBE_MAX_PODS) {
        s->pods_other++;
        return;
    }
    struct probe_pod_count *p = &s->pods[s->pod_count++];
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->count = 1;
}

static enum zl_err keep_end(struct probe_summary *s, int64_t end_ns)
{
    if (s->ok_len == PROBE_SUMMARY_MAX_OK) {
        s->gap_partial = true;
        return ZL_OK;
    }
    if (s->ok_len == s->ok_cap) {
        size_t cap = s->ok_cap != 0 ? s->ok_cap * 2 : 1024;
        int64_t *grown = realloc(s->ok_ends, cap * sizeof(*grown));
        if (grown == NULL) {
            s->gap_partial = true;
            return ZL_ERR_NOMEM;
        }
        s->ok_ends = grown;
        s->ok_cap = cap;
    }
    s->ok_ends[s->ok_len++] = end_ns;
    return ZL_OK;
}

enum zl_err probe_summary_add(struct probe_summary *s,
                              const struct probe_request *r)
{
    enum probe_kind kind =
        (unsigned)r->kind < PROBE_KIND_COUNT ? r->kind : PROBE_OTHER;
    if (s->requests == 0 || r->start_ns < s->first_start_ns)
        s->first_start_ns = r->start_ns;
    if (s->requests == 0 || r->end_ns > s->last_end_ns)
        s->last_end_ns = r->end_ns;
    s->requests++;
    s->attempts += r->attempt_count;
    s->retried += r->attempt_count > 1;
    s->by_kind[kind]++;
    if (kind != PROBE_OK) {
        s->failed++;
        return ZL_OK;
    }
    s->ok++;
    count_pod(s, r->pod);
    return keep_end(s, r->end_ns);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void probe_summary_finish(struct probe_summary *s)
{
    s->max_gap_ns = -1;
    s->gap_from_ns = 0;
    s->gap_to_ns = 0;
    if (s->ok_len < 2)
        return;
    qsort(s->ok_ends, s->ok_len, sizeof(*s->ok_ends), cmp_i64);
    for (size_t i = 1; i < s->ok_len; i++) {
        int64_t gap = s->ok_ends[i] - s->ok_ends[i - 1];
        if (gap > s->max_gap_ns) {
            s->max_gap_ns = gap;
            s->gap_from_ns = s->ok_ends[i - 1];
            s->gap_to_ns = s->ok_ends[i];
        }
    }
}

static enum zl_err kinds_json(const struct probe_summary *s, struct buf *out)
{
    enum zl_err rc = buf_puts(out, "\"failures\":{");
    for (int k = PROBE_OK + 1; rc == ZL_OK && k < PROBE_KIND_COUNT; k++)
        rc = buf_printf(out, "%s\"%s\":%llu", k > PROBE_OK + 1 ? "," : "",
                        probe_kind_str((enum probe_kind)k),
                        (unsigned long long)s->by_kind[k]);
    if (rc == ZL_OK)
        rc = buf_putc(out, '}');
    return rc;
}

static enum zl_err pods_json(const struct probe_summary *s, struct buf *out)
{
    enum zl_err rc = buf_puts(out, "\"pods\":{");
    for (size_t i = 0; rc == ZL_OK && i < s->pod_count; i++) {
        if (i > 0)
            rc = buf_putc(out, ',');
        if (rc == ZL_OK)
            rc = buf_put_json_string(out, s->pods[i].name);
        if (rc == ZL_OK)
            rc = buf_printf(out, ":%llu", (unsigned long long)s->pods[i].count);
    }
    if (rc == ZL_OK)
        rc = buf_printf(out, "},\"pods_other\":%llu",
                        (unsigned long long)s->pods_other);
    return rc;
}

static enum zl_err gap_json(const struct probe_summary *s, struct buf *out)
{
    if (s->max_gap_ns < 0)
        return buf_printf(out,
                          "\"max_ok_gap_ns\":null,\"gap_from_ns\":null,"
                          "\"gap_to_ns\":null,\"gap_partial\":%s",
                          s->gap_partial ? "true" : "false");
    return buf_printf(out,
                      "\"max_ok_gap_ns\":%lld,\"gap_from_ns\":%lld,"
                      "\"gap_to_ns\":%lld,\"gap_partial\":%s",
                      (long long)s->max_gap_ns, (long long)s->gap_from_ns,
                      (long long)s->gap_to_ns,
                      s->gap_partial ? "true" : "false");
}

static enum zl_err run_json(const struct probe_run *run, struct buf *out)
{
    enum zl_err rc = buf_puts(out, "\"run\":{\"mode\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, run->mode != NULL ? run->mode : "");
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"method\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, run->method != NULL ? run->method : "");
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"target\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, run->target != NULL ? run->target : "");
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"path\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, run->path != NULL ? run->path : "");
    if (rc == ZL_OK)
        rc = buf_printf(out, ",\"interval_ns\":%lld,\"seed\":%llu},",
                        (long long)run->interval_ns,
                        (unsigned long long)run->seed);
    return rc;
}

enum zl_err probe_summary_json(const struct probe_summary *s,
                               const struct probe_run *run, struct buf *out)
{
    enum zl_err rc = buf_puts(out, "{\"type\":\"summary\",");
    if (rc == ZL_OK && run != NULL)
        rc = run_json(run, out);
    if (rc == ZL_OK)
        rc = buf_printf(
            out,
            "\"requests\":%llu,\"ok\":%llu,"
            "\"failed\":%llu,\"retried\":%llu,\"attempts\":%llu,"
            "\"first_start_ns\":%lld,\"last_end_ns\":%lld,",
            (unsigned long long)s->requests, (unsigned long long)s->ok,
            (unsigned long long)s->failed, (unsigned long long)s->retried,
            (unsigned long long)s->attempts, (long long)s->first_start_ns,
            (long long)s->last_end_ns);
    if (rc == ZL_OK)
        rc = kinds_json(s, out);
    if (rc == ZL_OK)
        rc = buf_putc(out, ',');
    if (rc == ZL_OK)
        rc = pods_json(s, out);
    if (rc == ZL_OK)
        rc = buf_putc(out, ',');
    if (rc == ZL_OK)
        rc = gap_json(s, out);
    if (rc == ZL_OK)
        rc = buf_putc(out, '}');
    return rc;
}

enum zl_err probe_summary_text(const struct probe_summary *s, struct buf *out)
{
    enum zl_err rc = buf_printf(
        out,
        "requests %llu: ok %llu, failed %llu, retried %llu, attempts %llu\n",
        (unsigned long long)s->requests, (unsigned long long)s->ok,
        (unsigned long long)s->failed, (unsigned long long)s->retried,
        (unsigned long long)s->attempts);
    for (int k = PROBE_OK + 1; rc == ZL_OK && k < PROBE_KIND_COUNT; k++)
        if (s->by_kind[k] != 0)
            rc = buf_printf(out, "  failed %-16s %llu\n",
                            probe_kind_str((enum probe_kind)k),
                            (unsigned long long)s->by_kind[k]);
    for (size_t i = 0; rc == ZL_OK && i < s->pod_count; i++)
        rc = buf_printf(out, "  pod %-40s %llu\n", s->pods[i].name,
                        (unsigned long long)s->pods[i].count);
    if (rc == ZL_OK && s->pods_other != 0)
        rc = buf_printf(out, "  pod (others) %llu\n",
                        (unsigned long long)s->pods_other);
    if (rc == ZL_OK && s->max_gap_ns >= 0)
        rc = buf_printf(out, "largest gap between successes: %.3f ms%s\n",
                        (double)s->max_gap_ns / 1e6,
                        s->gap_partial ? " (partial)" : "");
    else if (rc == ZL_OK)
        rc = buf_puts(out, "largest gap between successes: n/a (fewer than "
                           "two)\n");
    return rc;
}
