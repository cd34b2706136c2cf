/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of common/serve over TLS: certificates made here with GnuTLS's
 * x509 API, clients in libcurl (verifying against the test CA) and in
 * GnuTLS (to pin protocol versions): TLS versions, the certificate
 * reloaded after a rewrite and after a kubelet "..data" symlink swap, bad
 * pairs kept out of service, start-up errors, rotations under load, and
 * the body limit over TLS. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "serve/serve.h"

#define NOT_AFTER_BASE 4000000000LL /* 2096: every leaf's expiry + serial */

/* ---- Certificates ------------------------------------------------------ */

struct ca {
    gnutls_x509_crt_t crt;
    gnutls_x509_privkey_t key;
};

struct leaf {
    char *cert_pem; /* gnutls_malloc'd */
    char *key_pem;
    int64_t not_after;
};

static gnutls_x509_privkey_t new_key(void)
{
    gnutls_x509_privkey_t key;
    cr_assert_eq(gnutls_x509_privkey_init(&key), 0);
    cr_assert_eq(gnutls_x509_privkey_generate(
                     key, GNUTLS_PK_ECDSA,
                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                 0);
    return key;
}

/* A v3 certificate for key named cn, serial n, valid until not_after. */
static gnutls_x509_crt_t new_crt(gnutls_x509_privkey_t key, const char *cn,
                                 unsigned n, int64_t not_after)
{
    gnutls_x509_crt_t crt;
    unsigned char serial[4] = {(unsigned char)(n >> 24),
                               (unsigned char)(n >> 16),
                               (unsigned char)(n >> 8), (unsigned char)n};
    cr_assert_eq(gnutls_x509_crt_init(&crt), 0);
    cr_assert_eq(gnutls_x509_crt_set_version(crt, 3), 0);
    cr_assert_eq(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
    cr_assert_eq(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
                                               0, cn, (unsigned)strlen(cn)),
                 0);
    cr_assert_eq(gnutls_x509_crt_set_activation_time(crt, time(NULL) - 3600),
                 0);
    cr_assert_eq(gnutls_x509_crt_set_expiration_time(crt, (time_t)not_after),
                 0);
    cr_assert_eq(gnutls_x509_crt_set_key(crt, key), 0);
    return crt;
}

static void ca_init(struct ca *ca)
{
    ca->key = new_key();
    ca->crt = new_crt(ca->key, "zen-lead test CA", 1, NOT_AFTER_BASE);
    cr_assert_eq(gnutls_x509_crt_set_basic_constraints(ca->crt, 1, -1), 0);
    cr_assert_eq(gnutls_x509_crt_set_key_usage(
                     ca->crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN),
                 0);
    cr_assert_eq(
        gnutls_x509_crt_sign2(ca->crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0),
        0);
}

static void ca_cleanup(struct ca *ca)
{
    gnutls_x509_crt_deinit(ca->crt);
    gnutls_x509_privkey_deinit(ca->key);
}

static char *export_pem(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
    gnutls_datum_t d = {0};
    int rc = crt != NULL
                 ? gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d)
                 : gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d);
    cr_assert_eq(rc, 0);
    char *text = gnutls_malloc(d.size + 1);
    cr_assert_not_null(text);
    memcpy(text, d.data, d.size);
    text[d.size] = '\0';
    gnutls_free(d.data);
    return text;
}

/* Leaf number n: CN "leaf-<n>", serial 1000+n, for 127.0.0.1. */
static void leaf_make(const struct ca *ca, unsigned n, struct leaf *out)
{
    char cn[32];
    snprintf(cn, sizeof(cn), "leaf-%u", n);
    gnutls_x509_privkey_t key = new_key();
    out->not_after = NOT_AFTER_BASE - 86400 * (int64_t)n;
    gnutls_x509_crt_t crt = new_crt(key, cn, 1000 + n, out->not_after);
    unsigned char ip[4] = {127, 0, 0, 1};
    cr_assert_eq(gnutls_x509_crt_set_subject_alt_name(
                     crt, GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND),
                 0);
    cr_assert_eq(
        gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
        0);
    cr_assert_eq(
        gnutls_x509_crt_sign2(crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0), 0);
    out->cert_pem = export_pem(crt, NULL);
    out->key_pem = export_pem(NULL, key);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
}

static void leaf_cleanup(struct leaf *l)
{
    gnutls_free(l->cert_pem);
    gnutls_free(l->key_pem);
}

/* ---- Files ------------------------------------------------------------- */

struct dir {
    char path[64];
    char cert[128];
    char key[128];
    char ca[128];
};

/* Writes text over path in place (truncate, write). */
static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Replaces path with text at once (a new file renamed over it), so a
 * check never sees it half written. */
static void replace_file(const char *path, const char *text)
{
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    write_file(tmp, text);
    cr_assert_eq(rename(tmp, path), 0);
}

static void dir_init(struct dir *d, const struct ca *ca)
{
    snprintf(d->path, sizeof(d->path), "/tmp/zl-serve-tls-XXXXXX");
    cr_assert_not_null(mkdtemp(d->path));
    snprintf(d->cert, sizeof(d->cert), "%s/tls.crt", d->path);
    snprintf(d->key, sizeof(d->key), "%s/tls.key", d->path);
    snprintf(d->ca, sizeof(d->ca), "%s/ca.crt", d->path);
    char *pem = export_pem(ca->crt, NULL);
    write_file(d->ca, pem);
    gnutls_free(pem);
}

static void dir_put(const struct dir *d, const struct leaf *l)
{
    write_file(d->cert, l->cert_pem);
    write_file(d->key, l->key_pem);
}

static void path_in(char *out, size_t size, const struct dir *d,
                    const char *name)
{
    snprintf(out, size, "%s/%s", d->path, name);
}

/* A kubelet secret volume: tls.crt -> ..data/tls.crt, ..data -> ..<gen>,
 * the pair in ..<gen>/. A new generation is swapped in as the kubelet
 * does: a new ..data_tmp symlink renamed over ..data, the old generation
 * directory removed. */
static void kubelet_put(const struct dir *d, unsigned gen, const struct leaf *l)
{
    char name[32];
    char p[192];
    char f[224];
    snprintf(name, sizeof(name), "..2026_%04u", gen);
    path_in(p, sizeof(p), d, name);
    cr_assert_eq(mkdir(p, 0700), 0, "mkdir %s: %s", p, strerror(errno));
    snprintf(f, sizeof(f), "%s/tls.crt", p);
    write_file(f, l->cert_pem);
    snprintf(f, sizeof(f), "%s/tls.key", p);
    write_file(f, l->key_pem);
    char tmp[192];
    char data[192];
    path_in(tmp, sizeof(tmp), d, "..data_tmp");
    path_in(data, sizeof(data), d, "..data");
    cr_assert_eq(symlink(name, tmp), 0);
    cr_assert_eq(rename(tmp, data), 0);
    if (gen == 1) {
        cr_assert_eq(symlink("..data/tls.crt", d->cert), 0);
        cr_assert_eq(symlink("..data/tls.key", d->key), 0);
        return;
    }
    snprintf(name, sizeof(name), "..2026_%04u", gen - 1);
    path_in(p, sizeof(p), d, name);
    snprintf(f, sizeof(f), "%s/tls.crt", p);
    unlink(f);
    snprintf(f, sizeof(f), "%s/tls.key", p);
    unlink(f);
    cr_assert_eq(rmdir(p), 0);
}

static void dir_cleanup(const struct dir *d, unsigned last_gen)
{
    char p[192];
    char f[224];
    unlink(d->cert);
    unlink(d->key);
    unlink(d->ca);
    path_in(p, sizeof(p), d, "..data");
    unlink(p);
    if (last_gen > 0) {
        char name[32];
        snprintf(name, sizeof(name), "..2026_%04u", last_gen);
        path_in(p, sizeof(p), d, name);
        snprintf(f, sizeof(f), "%s/tls.crt", p);
        unlink(f);
        snprintf(f, sizeof(f), "%s/tls.key", p);
        unlink(f);
        rmdir(p);
    }
    cr_expect_eq(rmdir(d->path), 0, "rmdir %s: %s", d->path, strerror(errno));
}

/* ---- Server ------------------------------------------------------------ */

static void echo_len(void *ctx, const struct serve_request *req,
                     struct serve_response *resp)
{
    (void)ctx;
    buf_printf(&resp->body, "%zu", req->body_len);
}

static struct serve *start_tls(const struct dir *d, int min_version,
                               size_t max_body)
{
    struct serve_tls tls = {.cert_file = d->cert,
                            .key_file = d->key,
                            .min_version = min_version,
                            .reload_interval_ms = 20};
    struct serve_options opt = {
        .bind_address = "127.0.0.1:0", .max_body = max_body, .tls = &tls};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/healthz", serve_handle_health, NULL),
                 ZL_OK);
    cr_assert_eq(serve_route(s, "POST", "/echo", echo_len, NULL), ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    cr_assert_gt(serve_port(s), 0);
    return s;
}

static struct serve_tls_status state_of(struct serve *s)
{
    struct serve_tls_status st;
    cr_assert_eq(serve_tls_state(s, &st), ZL_OK);
    return st;
}

/* Waits (up to 5 s) until reloads + failures reach want. */
static struct serve_tls_status wait_attempts(struct serve *s, uint64_t want)
{
    int64_t until = clock_mono_ns() + 5 * (int64_t)1000000000;
    struct serve_tls_status st = state_of(s);
    while (st.reloads + st.reload_failures < want && clock_mono_ns() < until) {
        struct timespec ts = {.tv_nsec = 5000000};
        nanosleep(&ts, NULL);
        st = state_of(s);
    }
    cr_assert_geq(st.reloads + st.reload_failures, want,
                  "reloads %llu failures %llu, want %llu in all",
                  (unsigned long long)st.reloads,
                  (unsigned long long)st.reload_failures,
                  (unsigned long long)want);
    return st;
}

/* ---- libcurl client ---------------------------------------------------- */

struct reply {
    long status;
    CURLcode rc;
    char subject[256]; /* of the served certificate */
    char body[256];
    size_t body_len;
    size_t sent; /* request body bytes handed to libcurl */
    size_t to_send;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t len = size * n;
    size_t room = sizeof(r->body) - 1 - r->body_len;
    size_t take = len < room ? len : room;
    memcpy(r->body + r->body_len, data, take);
    r->body_len += take;
    r->body[r->body_len] = '\0';
    return len;
}

static size_t on_upload(char *out, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t left = r->to_send - r->sent;
    size_t len = size * n < left ? size * n : left;
    memset(out, 'x', len);
    r->sent += len;
    return len;
}

static void take_subject(CURL *h, struct reply *r)
{
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
        ci == NULL || ci->num_of_certs < 1)
        return;
    for (struct curl_slist *e = ci->certinfo[0]; e != NULL; e = e->next) {
        if (strncmp(e->data, "Subject:", 8) == 0) {
            snprintf(r->subject, sizeof(r->subject), "%s", e->data + 8);
            return;
        }
    }
}

/* One request on a new connection and a full handshake; post_len > 0
 * POSTs that many bytes to /echo (with Expect: 100-continue). */
static struct reply request(const struct dir *d, int port, long sslversion,
                            size_t post_len)
{
    struct reply r = {0};
    char url[96];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port,
             post_len > 0 ? "/echo" : "/healthz");
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);
    struct curl_slist *hdr = curl_slist_append(NULL, "Expect: 100-continue");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, d->ca);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, sslversion);
    curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    if (sslversion == (CURL_SSLVERSION_TLSv1_1 | CURL_SSLVERSION_MAX_TLSv1_1))
        curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
    if (post_len > 0) {
        r.to_send = post_len;
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload);
        curl_easy_setopt(h, CURLOPT_READDATA, &r);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    }
    r.rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    take_subject(h, &r);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    return r;
}

#define ANY_TLS CURL_SSLVERSION_TLSv1_2

static void expect_served_by(const struct dir *d, int port, unsigned n)
{
    char cn[32];
    snprintf(cn, sizeof(cn), "CN = leaf-%u", n);
    struct reply r = request(d, port, ANY_TLS, 0);
    cr_expect_eq(r.rc, CURLE_OK, "curl: %s", curl_easy_strerror(r.rc));
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.subject, cn) != NULL, "served \"%s\", want %s",
              r.subject, cn);
}

/* ---- GnuTLS client (exact protocol versions) --------------------------- */

/* Handshakes with priorities prio; returns 0 or the GnuTLS error, the
 * version in *version and a received alert in *alert. */
static int handshake(int port, const char *prio, gnutls_protocol_t *version,
                     int *alert)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    gnutls_certificate_credentials_t cred;
    gnutls_session_t session;
    cr_assert_eq(gnutls_certificate_allocate_credentials(&cred), 0);
    cr_assert_eq(gnutls_init(&session, GNUTLS_CLIENT), 0);
    cr_assert_eq(gnutls_priority_set_direct(session, prio, NULL), 0, "%s",
                 prio);
    gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_transport_set_int(session, fd);
    gnutls_handshake_set_timeout(session, 5000);
    int rc;
    do {
        rc = gnutls_handshake(session);
    } while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
    *version = gnutls_protocol_get_version(session);
    *alert = rc == GNUTLS_E_FATAL_ALERT_RECEIVED
                 ? (int)gnutls_alert_get(session)
                 : -1;
    if (rc == 0)
        gnutls_bye(session, GNUTLS_SHUT_WR);
    gnutls_deinit(session);
    gnutls_certificate_free_credentials(cred);
    close(fd);
    return rc;
}

#define PRIO_ONLY(v) "NORMAL:-VERS-ALL:+VERS-" v

struct version_case {
    int min_version;
    const char *client;
    bool ok;
    gnutls_protocol_t version;
};

static const struct version_case version_cases[] = {
    {12, PRIO_ONLY("TLS1.0"), false, 0},
    {12, PRIO_ONLY("TLS1.1"), false, 0},
    {12, PRIO_ONLY("TLS1.2"), true, GNUTLS_TLS1_2},
    {12, PRIO_ONLY("TLS1.3"), true, GNUTLS_TLS1_3},
    {12, "NORMAL", true, GNUTLS_TLS1_3},
    {0, PRIO_ONLY("TLS1.1"), false, 0},
    {0, PRIO_ONLY("TLS1.2"), true, GNUTLS_TLS1_2},
    {13, PRIO_ONLY("TLS1.2"), false, 0},
    {13, PRIO_ONLY("TLS1.1"), false, 0},
    {13, PRIO_ONLY("TLS1.3"), true, GNUTLS_TLS1_3},
};

/* ---- Fixture ----------------------------------------------------------- */

struct fixture {
    struct ca ca;
    struct dir dir;
    struct leaf leaves[4];
};

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    cr_assert_eq(curl_global_init(CURL_GLOBAL_ALL), CURLE_OK);
    ca_init(&f->ca);
    dir_init(&f->dir, &f->ca);
    for (unsigned i = 0; i < 4; i++)
        leaf_make(&f->ca, i, &f->leaves[i]);
}

static void fixture_cleanup(struct fixture *f, unsigned last_gen)
{
    for (unsigned i = 0; i < 4; i++)
        leaf_cleanup(&f->leaves[i]);
    dir_cleanup(&f->dir, last_gen);
    ca_cleanup(&f->ca);
    curl_global_cleanup();
}

/* ---- Tests ------------------------------------------------------------- */

Test(serve_tls, accepts_tls_1_2_and_1_3_only)
{
    struct fixture f;
    fixture_init(&f);
    dir_put(&f.dir, &f.leaves[1]);
    for (size_t i = 0; i < sizeof(version_cases) / sizeof(version_cases[0]);
         i++) {
        const struct version_case *c = &version_cases[i];
        struct serve *s = start_tls(&f.dir, c->min_version, 0);
        gnutls_protocol_t v;
        int alert;
        int rc = handshake(serve_port(s), c->client, &v, &alert);
        if (c->ok) {
            cr_expect_eq(rc, 0, "min %d, %s: %s", c->min_version, c->client,
                         gnutls_strerror(rc));
            cr_expect_eq(v, c->version, "min %d, %s: version %s",
                         c->min_version, c->client,
                         gnutls_protocol_get_name(v));
        } else {
            /* The client sent its hello; the server refused it: it hangs
             * up (libmicrohttpd sends no alert) or says protocol_version. */
            cr_expect(rc == GNUTLS_E_PREMATURE_TERMINATION ||
                          (rc == GNUTLS_E_FATAL_ALERT_RECEIVED &&
                           alert == GNUTLS_A_PROTOCOL_VERSION),
                      "min %d, %s: %s (alert %d)", c->min_version, c->client,
                      gnutls_strerror(rc), alert);
        }
        serve_free(s);
    }
    fixture_cleanup(&f, 0);
}

Test(serve_tls, curl_tls_1_1_is_refused_1_2_and_1_3_served)
{
    struct fixture f;
    fixture_init(&f);
    dir_put(&f.dir, &f.leaves[1]);
    struct serve *s = start_tls(&f.dir, 12, 0);
    int port = serve_port(s);
    struct reply r = request(
        &f.dir, port, CURL_SSLVERSION_TLSv1_1 | CURL_SSLVERSION_MAX_TLSv1_1, 0);
    cr_expect_neq(r.rc, CURLE_OK);
    cr_expect_eq(r.status, 0);
    r = request(&f.dir, port,
                CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2, 0);
    cr_expect_eq(r.rc, CURLE_OK, "TLS 1.2: %s", curl_easy_strerror(r.rc));
    cr_expect_eq(r.status, 200);
    cr_expect_str_eq(r.body, "ok");
    r = request(&f.dir, port,
                CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3, 0);
    cr_expect_eq(r.rc, CURLE_OK, "TLS 1.3: %s", curl_easy_strerror(r.rc));
    cr_expect_eq(r.status, 200);
    struct serve_tls_status st = state_of(s);
    cr_expect(st.loaded);
    cr_expect_eq(st.not_after, f.leaves[1].not_after);
    cr_expect_eq(st.reloads, 0);
    cr_expect_eq(st.reload_failures, 0);
    cr_expect_str_empty(st.last_error);
    serve_free(s);
    fixture_cleanup(&f, 0);
}

Test(serve_tls, reloads_files_rewritten_in_place)
{
    struct fixture f;
    fixture_init(&f);
    dir_put(&f.dir, &f.leaves[1]);
    struct serve *s = start_tls(&f.dir, 12, 0);
    expect_served_by(&f.dir, serve_port(s), 1);
    /* The key first, then the certificate: in between the pair does not
     * match, which may count one failure. */
    write_file(f.dir.key, f.leaves[2].key_pem);
    write_file(f.dir.cert, f.leaves[2].cert_pem);
    int64_t until = clock_mono_ns() + 5 * (int64_t)1000000000;
    struct serve_tls_status st = state_of(s);
    while (st.reloads < 1 && clock_mono_ns() < until)
        st = wait_attempts(s, st.reloads + st.reload_failures + 1);
    cr_expect_eq(st.reloads, 1);
    cr_expect_eq(st.not_after, f.leaves[2].not_after);
    expect_served_by(&f.dir, serve_port(s), 2);
    /* Same bytes again (a touch): no reload. */
    dir_put(&f.dir, &f.leaves[2]);
    struct timespec ts = {.tv_nsec = 200000000};
    nanosleep(&ts, NULL);
    cr_expect_eq(state_of(s).reloads, 1);
    serve_free(s);
    fixture_cleanup(&f, 0);
}

Test(serve_tls, reloads_after_a_kubelet_symlink_swap)
{
    struct fixture f;
    fixture_init(&f);
    kubelet_put(&f.dir, 1, &f.leaves[1]);
    struct serve *s = start_tls(&f.dir, 12, 0);
    expect_served_by(&f.dir, serve_port(s), 1);
    kubelet_put(&f.dir, 2, &f.leaves[2]);
    struct serve_tls_status st = wait_attempts(s, 1);
    cr_expect_eq(st.reloads, 1);
    cr_expect_eq(st.reload_failures, 0);
    cr_expect_eq(st.not_after, f.leaves[2].not_after);
    expect_served_by(&f.dir, serve_port(s), 2);
    kubelet_put(&f.dir, 3, &f.leaves[3]);
    st = wait_attempts(s, 2);
    cr_expect_eq(st.reloads, 2);
    expect_served_by(&f.dir, serve_port(s), 3);
    serve_free(s);
    fixture_cleanup(&f, 3);
}

/* A bad pair, what it does to the status, and the old leaf still served. */
static void expect_refused(struct fixture *f, struct serve *s, uint64_t n,
                           const char *why)
{
    struct serve_tls_status st = wait_attempts(s, n);
    cr_expect_eq(st.reloads, 0);
    cr_expect_eq(st.reload_failures, n);
    cr_expect(strstr(st.last_error, why) != NULL, "last error \"%s\", want %s",
              st.last_error, why);
    cr_expect(st.loaded);
    cr_expect_eq(st.not_after, f->leaves[1].not_after);
    expect_served_by(&f->dir, serve_port(s), 1);
    /* Tried once per change, not again at every check. */
    struct timespec ts = {.tv_nsec = 150000000};
    nanosleep(&ts, NULL);
    cr_expect_eq(state_of(s).reload_failures, n);
}

Test(serve_tls, a_bad_pair_keeps_the_old_one_serving)
{
    struct fixture f;
    fixture_init(&f);
    dir_put(&f.dir, &f.leaves[1]);
    struct serve *s = start_tls(&f.dir, 12, 0);
    /* One file changes at a time, so each step is one attempt. */
    replace_file(f.dir.key, f.leaves[2].key_pem); /* not leaf 1's key */
    expect_refused(&f, s, 1, "does not match");
    replace_file(f.dir.key, "garbage");
    expect_refused(&f, s, 2, "not an unencrypted PEM private key");
    replace_file(f.dir.cert, "-----BEGIN CERTIFICATE-----\nnot base64\n");
    expect_refused(&f, s, 3, "not a PEM certificate");
    cr_assert_eq(unlink(f.dir.key), 0);
    expect_refused(&f, s, 4, "No such file");
    replace_file(f.dir.key, f.leaves[2].key_pem);
    expect_refused(&f, s, 5, "not a PEM certificate");
    replace_file(f.dir.cert, f.leaves[2].cert_pem);
    struct serve_tls_status st = wait_attempts(s, 6);
    cr_expect_eq(st.reloads, 1);
    cr_expect_eq(st.reload_failures, 5);
    cr_expect_str_empty(st.last_error);
    cr_expect_eq(st.not_after, f.leaves[2].not_after);
    expect_served_by(&f.dir, serve_port(s), 2);
    serve_free(s);
    fixture_cleanup(&f, 0);
}

struct start_case {
    const char *cert; /* NULL: missing */
    const char *key;
    int min_version;
    enum zl_err err;
};

Test(serve_tls, refuses_to_start_without_a_usable_pair)
{
    struct fixture f;
    fixture_init(&f);
    const struct start_case cases[] = {
        {NULL, f.leaves[1].key_pem, 12, ZL_ERR_IO},
        {f.leaves[1].cert_pem, NULL, 12, ZL_ERR_IO},
        {"", f.leaves[1].key_pem, 12, ZL_ERR_PARSE},
        {f.leaves[1].cert_pem, "", 12, ZL_ERR_PARSE},
        {f.leaves[1].cert_pem, f.leaves[2].key_pem, 12, ZL_ERR_PARSE},
        {f.leaves[1].key_pem, f.leaves[1].cert_pem, 12, ZL_ERR_PARSE},
        {f.leaves[1].cert_pem, f.leaves[1].key_pem, 11, ZL_ERR_INVALID},
        {f.leaves[1].cert_pem, f.leaves[1].key_pem, 14, ZL_ERR_INVALID},
        {f.leaves[1].cert_pem, f.leaves[1].key_pem, 13, ZL_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unlink(f.dir.cert);
        unlink(f.dir.key);
        if (cases[i].cert != NULL)
            write_file(f.dir.cert, cases[i].cert);
        if (cases[i].key != NULL)
            write_file(f.dir.key, cases[i].key);
        struct serve_tls tls = {.cert_file = f.dir.cert,
                                .key_file = f.dir.key,
                                .min_version = cases[i].min_version};
        struct serve_options opt = {.bind_address = "127.0.0.1:0", .tls = &tls};
        struct serve *s = NULL;
        enum zl_err err = serve_new(&opt, &s);
        cr_expect_eq(err, cases[i].err, "case %zu: %s", i, zl_err_str(err));
        cr_expect_eq(s == NULL, cases[i].err != ZL_OK, "case %zu", i);
        serve_free(s);
    }
    struct serve_tls no_files = {0};
    struct serve_options opt = {.bind_address = "127.0.0.1:0",
                                .tls = &no_files};
    struct serve *s = NULL;
    cr_expect_eq(serve_new(&opt, &s), ZL_ERR_INVALID);
    opt.tls = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    struct serve_tls_status st;
    cr_expect_eq(serve_tls_state(s, &st), ZL_ERR_INVALID);
    cr_expect_not(st.loaded);
    serve_free(s);
    fixture_cleanup(&f, 0);
}

struct load {
    const struct dir *dir;
    int port;
    atomic_bool stop;
    atomic_int ok;
    atomic_int failed;
    char first_failure[160];
};

static void *load_main(void *arg)
{
    struct load *l = arg;
    while (!atomic_load(&l->stop)) {
        struct reply r = request(l->dir, l->port, ANY_TLS, 0);
        if (r.rc == CURLE_OK && r.status == 200) {
            atomic_fetch_add(&l->ok, 1);
        } else if (atomic_fetch_add(&l->failed, 1) == 0) {
            snprintf(l->first_failure, sizeof(l->first_failure),
                     "status %ld: %s", r.status, curl_easy_strerror(r.rc));
        }
    }
    return NULL;
}

Test(serve_tls, twenty_rotations_under_load_fail_no_request, .timeout = 120)
{
    struct fixture f;
    fixture_init(&f);
    kubelet_put(&f.dir, 1, &f.leaves[0]);
    struct serve *s = start_tls(&f.dir, 12, 0);
    struct load l = {.dir = &f.dir, .port = serve_port(s)};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, load_main, &l), 0);
    int before = 0;
    for (unsigned gen = 2; gen <= 21; gen++) {
        kubelet_put(&f.dir, gen, &f.leaves[gen % 4]);
        wait_attempts(s, gen - 1);
        /* Some handshakes on this pair before the next swap. */
        int64_t until = clock_mono_ns() + 10 * (int64_t)1000000000;
        while (atomic_load(&l.ok) < before + 2 && clock_mono_ns() < until) {
            struct timespec ts = {.tv_nsec = 2000000};
            nanosleep(&ts, NULL);
        }
        before = atomic_load(&l.ok);
    }
    atomic_store(&l.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    struct serve_tls_status st = state_of(s);
    cr_log_info("20 rotations: %d requests, %d failed", atomic_load(&l.ok),
                atomic_load(&l.failed));
    cr_expect_eq(st.reloads, 20);
    cr_expect_eq(st.reload_failures, 0);
    cr_expect_eq(atomic_load(&l.failed), 0, "%d failed, first: %s",
                 atomic_load(&l.failed), l.first_failure);
    cr_expect_geq(atomic_load(&l.ok), 40, "only %d requests",
                  atomic_load(&l.ok));
    expect_served_by(&f.dir, serve_port(s), 21 % 4);
    serve_free(s);
    fixture_cleanup(&f, 21);
}

Test(serve_tls, body_over_the_limit_is_413_before_it_is_read)
{
    struct fixture f;
    fixture_init(&f);
    dir_put(&f.dir, &f.leaves[1]);
    struct serve *s = start_tls(&f.dir, 12, 1024);
    struct reply r = request(&f.dir, serve_port(s), ANY_TLS, 1024);
    cr_expect_eq(r.status, 200);
    cr_expect_str_eq(r.body, "1024");
    cr_expect_eq(r.sent, 1024);
    r = request(&f.dir, serve_port(s), ANY_TLS, (size_t)8 << 20);
    cr_expect_eq(r.status, 413);
    cr_expect_eq(r.sent, 0, "%zu body bytes sent", r.sent);
    serve_free(s);
    fixture_cleanup(&f, 0);
}
