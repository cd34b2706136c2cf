/* SPDX-License-Identifier: Apache-2.0 */
/* A hostile client of zen-lead-webhook for its robustness scenarios
 * (e2e/webhook/): malformed, truncated, deeply nested and oversized
 * AdmissionReviews, a load of valid ones on new connections (certificate
 * rotations, draining), and slow clients. Every answer is checked: a
 * well-formed AdmissionReview v1 with the request's uid, or 400/413/415.
 * usage: whabuse URL CAFILE malformed N | load SECONDS [--allow-refused]
 *        | slowloris SECONDS */
#include <curl/curl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WA_PARALLEL 8
#define WA_MAX_BODY ((size_t)9 << 20)
#define WA_SLOW_CONNECTIONS 4

struct wa_opts {
    const char *url; /* https://127.0.0.1:PORT */
    const char *ca;
    bool allow_refused;
};

/* One request in flight: what was sent and what came back. */
struct wa_xfer {
    CURL *h;
    struct curl_slist *headers;
    char uid[64]; /* "" when the body carries none we know */
    char *body;
    size_t body_len;
    char *resp;
    size_t resp_len;
    bool resp_over;
};

struct wa_tally {
    long sent, ok, rejected, refused, bad;
};

static uint64_t wa_rng = 0x9e3779b97f4a7c15ULL;

static uint32_t wa_rand(void)
{
    wa_rng ^= wa_rng << 13;
    wa_rng ^= wa_rng >> 7;
    wa_rng ^= wa_rng << 17;
    return (uint32_t)(wa_rng >> 16);
}

static double wa_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- bodies ----------------------------------------------------------- */

/* A valid Service CREATE review with a fresh uid (copied to uid). */
static char *wa_valid_review(char uid[64], size_t *len)
{
    static const char fmt[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
        "\"request\":{\"uid\":\"%s\",\"kind\":{\"group\":\"\",\"version\":"
        "\"v1\",\"kind\":\"Service\"},\"resource\":{\"group\":\"\","
        "\"version\":\"v1\",\"resource\":\"services\"},\"requestKind\":{"
        "\"group\":\"\",\"version\":\"v1\",\"kind\":\"Service\"},"
        "\"namespace\":\"whabuse\",\"name\":\"web\",\"operation\":\"CREATE\","
        "\"userInfo\":{\"username\":\"whabuse\",\"groups\":["
        "\"system:authenticated\"]},\"object\":{\"apiVersion\":\"v1\","
        "\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":"
        "\"whabuse\",\"annotations\":{\"zen-lead.io/enabled\":\"True\"}},"
        "\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":"
        "\"http\",\"port\":80,\"targetPort\":8080,\"protocol\":\"TCP\"}]}},"
        "\"oldObject\":null,\"dryRun\":false,\"options\":{\"kind\":"
        "\"CreateOptions\",\"apiVersion\":\"meta.k8s.io/v1\"}}}";
    snprintf(uid, 64, "%08x-%04x-4%03x-8%03x-%08x%04x", wa_rand(),
             wa_rand() & 0xffff, wa_rand() & 0xfff, wa_rand() & 0xfff,
             wa_rand(), wa_rand() & 0xffff);
    size_t n = sizeof(fmt) + 64;
    char *b = malloc(n);
    if (b != NULL)
        *len = (size_t)snprintf(b, n, fmt, uid);
    return b;
}

/* depth open brackets then as many closes (or none: unterminated). */
static char *wa_nested(size_t depth, bool close, size_t *len)
{
    char *b = malloc(2 * depth + 1);
    if (b == NULL)
        return NULL;
    memset(b, '[', depth);
    memset(b + depth, ']', close ? depth : 0);
    *len = depth + (close ? depth : 0);
    b[*len] = '\0';
    return b;
}

/* A review whose one annotation value is n bytes long. */
static char *wa_oversized(size_t n, size_t *len)
{
    static const char head[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
        "\"request\":{\"uid\":\"big\",\"object\":{\"metadata\":{"
        "\"annotations\":{\"zen-lead.io/enabled\":\"";
    static const char tail[] = "\"}}}}}";
    size_t total = sizeof(head) - 1 + n + sizeof(tail) - 1;
    char *b = malloc(total + 1);
    if (b == NULL)
        return NULL;
    memcpy(b, head, sizeof(head) - 1);
    memset(b + sizeof(head) - 1, 'x', n);
    memcpy(b + sizeof(head) - 1 + n, tail, sizeof(tail));
    *len = total;
    return b;
}

/* Replaces the first occurrence of from in b (of *len bytes) by to. */
static char *wa_replace(char *b, size_t *len, const char *from, const char *to)
{
    char *at = b != NULL ? strstr(b, from) : NULL;
    if (at == NULL)
        return b;
    size_t fl = strlen(from), tl = strlen(to), off = (size_t)(at - b);
    char *n = malloc(*len - fl + tl + 1);
    if (n != NULL) {
        memcpy(n, b, off);
        memcpy(n + off, to, tl);
        memcpy(n + off + tl, at + fl, *len - off - fl + 1);
        *len = *len - fl + tl;
    }
    free(b);
    return n;
}

static char *wa_random_bytes(size_t *len)
{
    size_t n = wa_rand() % 4096;
    char *b = malloc(n + 1);
    for (size_t i = 0; b != NULL && i < n; i++)
        b[i] = (char)(wa_rand() & 0xff);
    if (b != NULL)
        b[n] = '\0';
    *len = n;
    return b;
}

/* One malformed body of kind k; uid set when the body still carries a
 * uid a correct answer must echo. */
static char *wa_malformed(unsigned k, char uid[64], size_t *len)
{
    char *b = wa_valid_review(uid, len);
    switch (k % 12) {
    case 0: /* truncated */
        uid[0] = '\0';
        if (b != NULL && *len > 0)
            *len = wa_rand() % *len;
        return b;
    case 1:
        uid[0] = '\0';
        free(b);
        return wa_random_bytes(len);
    case 2:
        uid[0] = '\0';
        free(b);
        return wa_nested(50 + wa_rand() % 100000, wa_rand() % 2 == 0, len);
    case 3:
        return wa_replace(b, len, "admission.k8s.io/v1",
                          "admission.k8s.io/v1beta1");
    case 4:
        return wa_replace(b, len, "\"kind\":\"AdmissionReview\"",
                          "\"kind\":\"Review\"");
    case 5: /* a uid that is not a string */
        uid[0] = '\0';
        return wa_replace(b, len, "\"uid\":\"", "\"uid\":7,\"x\":\"");
    case 6:
        return wa_replace(b, len, "\"object\":{", "\"object\":[{");
    case 7:
        return wa_replace(b, len, "\"zen-lead.io/enabled\":\"True\"",
                          "\"zen-lead.io/enabled\":true");
    case 8: /* invalid UTF-8 in a value */
        return wa_replace(b, len, "True", "\xff\xfe");
    case 9:
        return wa_replace(b, len, "\"ports\":[",
                          "\"ports\":[{\"port\":1e999},");
    case 10:
        uid[0] = '\0';
        *len = 0;
        return b;
    default: /* a flipped byte */
        uid[0] = '\0';
        if (b != NULL && *len > 0)
            b[wa_rand() % *len] ^= (char)(1u << (wa_rand() % 8));
        return b;
    }
}

/* ---- transfers -------------------------------------------------------- */

static size_t wa_on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct wa_xfer *x = ctx;
    size_t len = size * n;
    if (x->resp_len + len > WA_MAX_BODY) {
        x->resp_over = true;
        return 0;
    }
    char *r = realloc(x->resp, x->resp_len + len + 1);
    if (r == NULL)
        return 0;
    memcpy(r + x->resp_len, data, len);
    x->resp = r;
    x->resp_len += len;
    r[x->resp_len] = '\0';
    return len;
}

static void wa_xfer_clear(struct wa_xfer *x)
{
    if (x->h != NULL)
        curl_easy_cleanup(x->h);
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x->resp);
    memset(x, 0, sizeof(*x));
}

/* Sets up x to POST its body to url+path; fresh: a new connection. */
static bool wa_xfer_setup(struct wa_xfer *x, const struct wa_opts *o,
                          const char *path, bool fresh)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", o->url, path);
    x->h = curl_easy_init();
    x->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (x->h == NULL || x->headers == NULL)
        return false;
    curl_easy_setopt(x->h, CURLOPT_URL, url);
    curl_easy_setopt(x->h, CURLOPT_CAINFO, o->ca);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)x->body_len);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, wa_on_body);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->h, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    curl_easy_setopt(x->h, CURLOPT_FORBID_REUSE, fresh ? 1L : 0L);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    return true;
}

/* A 200 answer: an AdmissionReview v1 whose response has our uid and a
 * boolean allowed. */
static bool wa_review_ok(const struct wa_xfer *x)
{
    struct json_object *doc =
        json_tokener_parse(x->resp != NULL ? x->resp : "");
    struct json_object *v, *resp, *uid, *allowed;
    bool ok =
        doc != NULL && json_object_object_get_ex(doc, "apiVersion", &v) &&
        strcmp(json_object_get_string(v), "admission.k8s.io/v1") == 0 &&
        json_object_object_get_ex(doc, "kind", &v) &&
        strcmp(json_object_get_string(v), "AdmissionReview") == 0 &&
        json_object_object_get_ex(doc, "response", &resp) &&
        json_object_object_get_ex(resp, "uid", &uid) &&
        json_object_object_get_ex(resp, "allowed", &allowed) &&
        json_object_is_type(allowed, json_type_boolean) &&
        (x->uid[0] == '\0' || strcmp(json_object_get_string(uid), x->uid) == 0);
    json_object_put(doc);
    return ok;
}

/* Judges a finished transfer into t; prints what was wrong. */
static void wa_judge(struct wa_xfer *x, CURLcode cc, const struct wa_opts *o,
                     struct wa_tally *t)
{
    long code = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
    /* After a stop: the connection was refused, or closed before the
     * request could be sent (handshake or first write): the server never
     * had it. A request sent and not answered is lost, and counted bad. */
    bool not_sent = cc == CURLE_COULDNT_CONNECT ||
                    cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SEND_ERROR;
    if (not_sent && o->allow_refused) {
        t->refused++;
    } else if (cc != CURLE_OK) {
        t->bad++;
        fprintf(stderr, "whabuse: transport error %s (body %zu bytes)\n",
                curl_easy_strerror(cc), x->body_len);
    } else if (code == 400 || code == 413 || code == 415) {
        t->rejected++;
    } else if (code == 200 && wa_review_ok(x)) {
        t->ok++;
    } else {
        t->bad++;
        fprintf(stderr, "whabuse: HTTP %ld, bad answer (%zu bytes): %.200s\n",
                code, x->resp_len, x->resp != NULL ? x->resp : "");
    }
}

/* Runs the transfers of slots until they finish; judges each. */
static void wa_run_multi(CURLM *m, struct wa_xfer *slots, int n,
                         const struct wa_opts *o, struct wa_tally *t)
{
    int running = 0;
    for (int i = 0; i < n; i++)
        if (slots[i].h != NULL)
            curl_multi_add_handle(m, slots[i].h);
    do {
        curl_multi_perform(m, &running);
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct wa_xfer *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            wa_judge(x, msg->data.result, o, t);
            curl_multi_remove_handle(m, x->h);
        }
    } while (running > 0);
}

/* ---- modes ------------------------------------------------------------ */

static int wa_malformed_mode(const struct wa_opts *o, long count)
{
    struct wa_tally t = {0};
    struct wa_xfer slots[WA_PARALLEL];
    CURLM *m = curl_multi_init();
    memset(slots, 0, sizeof(slots));
    for (long i = 0; m != NULL && i < count; i += WA_PARALLEL) {
        int n = 0;
        for (; n < WA_PARALLEL && i + n < count; n++) {
            struct wa_xfer *x = &slots[n];
            long k = i + n;
            x->body = k % 997 == 0
                          ? wa_oversized((size_t)8 << 20, &x->body_len)
                          : wa_malformed((unsigned)k, x->uid, &x->body_len);
            if (k % 997 == 0)
                x->uid[0] = '\0';
            if (x->body == NULL ||
                !wa_xfer_setup(x, o, k % 2 ? "/mutate" : "/validate", false))
                t.bad++;
            t.sent++;
        }
        wa_run_multi(m, slots, n, o, &t);
        for (int j = 0; j < n; j++)
            wa_xfer_clear(&slots[j]);
    }
    curl_multi_cleanup(m);
    printf("whabuse malformed: %ld sent, %ld answered 200, %ld refused "
           "400/413/415, %ld bad\n",
           t.sent, t.ok, t.rejected, t.bad);
    return t.bad == 0 && t.sent == count ? 0 : 1;
}

/* Valid reviews on new connections, WA_PARALLEL at a time, for seconds. */
static int wa_load_mode(const struct wa_opts *o, double seconds)
{
    struct wa_tally t = {0};
    struct wa_xfer slots[WA_PARALLEL];
    CURLM *m = curl_multi_init();
    double end = wa_now() + seconds;
    memset(slots, 0, sizeof(slots));
    while (m != NULL && wa_now() < end) {
        for (int n = 0; n < WA_PARALLEL; n++) {
            struct wa_xfer *x = &slots[n];
            x->body = wa_valid_review(x->uid, &x->body_len);
            if (x->body == NULL ||
                !wa_xfer_setup(x, o, n % 2 ? "/mutate" : "/validate", true))
                t.bad++;
            t.sent++;
        }
        wa_run_multi(m, slots, WA_PARALLEL, o, &t);
        for (int j = 0; j < WA_PARALLEL; j++)
            wa_xfer_clear(&slots[j]);
        if (t.refused > 0 && o->allow_refused)
            break; /* the server is gone: nothing more to learn */
    }
    curl_multi_cleanup(m);
    printf("whabuse load: %ld sent, %ld answered, %ld refused by policy, "
           "%ld never reached the server, %ld bad\n",
           t.sent, t.ok, t.rejected, t.refused, t.bad);
    return t.bad == 0 && t.rejected == 0 ? 0 : 1;
}

/* ---- slow clients ----------------------------------------------------- */

struct wa_slow {
    const struct wa_opts *o;
    double seconds;   /* how long to keep trickling */
    bool body;        /* trickle the body, not the headers */
    double cut_after; /* when the server closed, -1 if it never did */
};

/* The port of url ("https://HOST:PORT"), -1 when there is none. */
static int wa_port(const char *url)
{
    const char *c = strrchr(url, ':');
    return c != NULL && c[1] != '/' ? (int)strtol(c + 1, NULL, 10) : -1;
}

static int wa_connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* True when the server has closed the connection or answered (a 408 or
 * 400 before closing): anything readable ends the trickle. */
static bool wa_closed(SSL *ssl, int fd, int wait_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (SSL_pending(ssl) == 0 && poll(&p, 1, wait_ms) <= 0)
        return false;
    char buf[256];
    (void)SSL_read(ssl, buf, sizeof(buf));
    return true;
}

/* Sends the request one byte every 500 ms until the server closes. */
static void wa_trickle(struct wa_slow *s, SSL *ssl, int fd)
{
    static const char head[] = "POST /validate HTTP/1.1\r\nHost: x\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 100000\r\n\r\n";
    double t0 = wa_now();
    size_t i = 0;
    if (s->body && SSL_write(ssl, head, (int)(sizeof(head) - 1)) <= 0)
        return;
    while (wa_now() - t0 < s->seconds) {
        char c = s->body ? '[' : head[i % (sizeof(head) - 1)];
        if (SSL_write(ssl, &c, 1) <= 0 || wa_closed(ssl, fd, 500)) {
            s->cut_after = wa_now() - t0;
            return;
        }
        i++;
    }
}

static void *wa_slow_main(void *arg)
{
    struct wa_slow *s = arg;
    s->cut_after = -1;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int fd = wa_connect_loopback(wa_port(s->o->url));
    SSL *ssl = ctx != NULL && fd >= 0 ? SSL_new(ctx) : NULL;
    if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1)
        wa_trickle(s, ssl, fd);
    else
        fprintf(stderr, "whabuse: slow client could not connect\n");
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    return NULL;
}

/* One valid request on a new connection; its latency in *ms. */
static bool wa_one(const struct wa_opts *o, double *ms)
{
    struct wa_xfer x = {0};
    struct wa_tally t = {0};
    x.body = wa_valid_review(x.uid, &x.body_len);
    double t0 = wa_now();
    bool ok = x.body != NULL && wa_xfer_setup(&x, o, "/validate", true);
    if (ok) {
        wa_judge(&x, curl_easy_perform(x.h), o, &t);
        ok = t.ok == 1;
    }
    *ms = (wa_now() - t0) * 1000;
    wa_xfer_clear(&x);
    return ok;
}

static int wa_slowloris_mode(const struct wa_opts *o, double seconds)
{
    pthread_t th[WA_SLOW_CONNECTIONS];
    struct wa_slow s[WA_SLOW_CONNECTIONS];
    for (int i = 0; i < WA_SLOW_CONNECTIONS; i++) {
        s[i] = (struct wa_slow){.o = o, .seconds = seconds, .body = i % 2};
        pthread_create(&th[i], NULL, wa_slow_main, &s[i]);
    }
    long n = 0, failed = 0;
    double worst = 0, ms;
    double end = wa_now() + seconds;
    while (wa_now() < end) {
        n++;
        failed += !wa_one(o, &ms);
        worst = ms > worst ? ms : worst;
        usleep(100 * 1000);
    }
    int status = failed == 0 ? 0 : 1;
    for (int i = 0; i < WA_SLOW_CONNECTIONS; i++) {
        pthread_join(th[i], NULL);
        printf("whabuse slowloris: slow %s client %d cut after %.1f s\n",
               s[i].body ? "body" : "header", i, s[i].cut_after);
        if (s[i].cut_after < 0)
            status = 1;
    }
    printf("whabuse slowloris: %ld requests beside them, %ld failed, worst "
           "%.1f ms\n",
           n, failed, worst);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: whabuse URL CAFILE malformed N | load SECONDS "
                        "[--allow-refused] | slowloris SECONDS\n");
        return 2;
    }
    struct wa_opts o = {.url = argv[1], .ca = argv[2]};
    o.allow_refused = argc > 5 && strcmp(argv[5], "--allow-refused") == 0;
    const char *mode = argv[3];
    double arg = strtod(argv[4], NULL);
    wa_rng ^= (uint64_t)time(NULL) * 0x2545F4914F6CDD1DULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 2;
    if (strcmp(mode, "malformed") == 0)
        rc = wa_malformed_mode(&o, (long)arg);
    else if (strcmp(mode, "load") == 0)
        rc = wa_load_mode(&o, arg);
    else if (strcmp(mode, "slowloris") == 0)
        rc = wa_slowloris_mode(&o, arg);
    else
        fprintf(stderr, "whabuse: unknown mode %s\n", mode);
    curl_global_cleanup();
    return rc;
}
