/* SPDX-License-Identifier: Apache-2.0 */
/* serve's TLS credentials on GnuTLS. A pair (chain + key) is read, checked
 * (parsable, key matching the leaf) and kept as DER and a parsed key; each
 * handshake gets its own copies, which GnuTLS frees, so a pair can be
 * replaced at any moment. A thread polls the files' identity and swaps a
 * new pair in under the lock; a bad new pair leaves the old one serving. */
#include "serve/serve_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/sync.h"

#define TLS_PRIORITIES_12 "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define TLS_PRIORITIES_13 "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define TLS_MAX_CHAIN 16
#define TLS_KEY_ID_MAX 64

/* What identifies a file's content without reading it: the path resolved
 * through every symlink (a kubelet "..data" swap changes it) and the stat
 * of that file. err is the errno when it cannot be had. */
struct file_id {
    int err;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char real[PATH_MAX];
};

/* A certificate chain and its key, as read from the files. */
struct pair {
    gnutls_datum_t der[TLS_MAX_CHAIN]; /* leaf first; gnutls_malloc'd */
    unsigned der_count;
    gnutls_x509_privkey_t key;
    int64_t not_after; /* the leaf's, Unix seconds */
    struct buf cert_pem;
    struct buf key_pem; /* wiped before it is freed */
};

struct serve_tls_creds {
    char *cert_file;
    char *key_file;
    char *where; /* for log lines */
    const char *priorities;
    unsigned interval_ms;
    struct file_id seen[2]; /* of the last attempt; the checker's alone */
    pthread_mutex_t mu;
    pthread_cond_t wake;                  /* stopping */
    struct pair *current;                 /* under mu; never NULL once made */
    uint64_t reloads;                     /* under mu */
    uint64_t failures;                    /* under mu */
    char last_error[SERVE_TLS_ERROR_MAX]; /* under mu */
    bool stopping;                        /* under mu */
    bool running;                         /* thread started */
    pthread_t thread;
};

/* ---- Files ------------------------------------------------------------- */

static void file_id_get(const char *path, struct file_id *id)
{
    memset(id, 0, sizeof(*id));
    struct stat st;
    if (realpath(path, id->real) == NULL || stat(id->real, &st) != 0) {
        id->err = errno != 0 ? errno : ENOENT;
        id->real[0] = '\0';
        return;
    }
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime = st.st_mtim;
}

static bool file_id_same(const struct file_id *a, const struct file_id *b)
{
    return a->err == b->err && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec &&
           strcmp(a->real, b->real) == 0;
}

/* Reads a whole file of at most SERVE_TLS_MAX_FILE bytes into b. */
static enum zl_err read_file(const char *path, struct buf *b, char *why,
                             size_t why_size)
{
    char chunk[4096];
    enum zl_err err = ZL_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_size, "%s: %s", path, strerror(errno));
        return ZL_ERR_IO;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0) {
                snprintf(why, why_size, "%s: %s", path, strerror(errno));
                err = ZL_ERR_IO;
            }
            break;
        }
        if ((err = buf_append(b, chunk, (size_t)n)) != ZL_OK) {
            snprintf(why, why_size, "%s: %s", path,
                     err == ZL_ERR_LIMIT ? "larger than 1 MiB"
                                         : "out of memory");
            break;
        }
    }
    explicit_bzero(chunk, sizeof(chunk));
    close(fd);
    return err;
}

/* ---- Pairs ------------------------------------------------------------- */

/* A GnuTLS failure while reading a pair: out of memory, or bad input. */
static enum zl_err gnutls_err(int rc)
{
    return rc == GNUTLS_E_MEMORY_ERROR ? ZL_ERR_NOMEM : ZL_ERR_PARSE;
}

static void pair_free(struct pair *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < p->der_count; i++)
        gnutls_free(p->der[i].data);
    if (p->key != NULL)
        gnutls_x509_privkey_deinit(p->key);
    buf_cleanup(&p->cert_pem);
    if (p->key_pem.data != NULL)
        explicit_bzero(p->key_pem.data, p->key_pem.len);
    buf_cleanup(&p->key_pem);
    free(p);
}

static gnutls_datum_t datum_of(const struct buf *b)
{
    return (gnutls_datum_t){.data = (unsigned char *)b->data,
                            .size = (unsigned)b->len};
}

/* Parses the chain into DER; the leaf's expiry into p->not_after. */
static enum zl_err pair_parse_chain(struct pair *p, const char *path,
                                    gnutls_x509_crt_t *leaf_out, char *why,
                                    size_t why_size)
{
    gnutls_x509_crt_t *crts = NULL;
    unsigned n = 0;
    gnutls_datum_t pem = datum_of(&p->cert_pem);
    int rc = p->cert_pem.len == 0 ? GNUTLS_E_BASE64_DECODING_ERROR
                                  : gnutls_x509_crt_list_import2(
                                        &crts, &n, &pem, GNUTLS_X509_FMT_PEM,
                                        GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
    if (rc >= 0 && (n == 0 || n > TLS_MAX_CHAIN))
        rc = GNUTLS_E_CERTIFICATE_LIST_UNSORTED;
    for (unsigned i = 0; rc >= 0 && i < n; i++) {
        rc = gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &p->der[i]);
        if (rc >= 0)
            p->der_count = i + 1;
    }
    if (rc >= 0) {
        p->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crts[0]);
        *leaf_out = crts[0];
    }
    for (unsigned i = rc >= 0 ? 1 : 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    if (rc < 0) {
        snprintf(why, why_size, "%s: not a PEM certificate chain (%s)", path,
                 gnutls_strerror(rc));
        return gnutls_err(rc);
    }
    return ZL_OK;
}

static enum zl_err pair_parse_key(struct pair *p, const char *path, char *why,
                                  size_t why_size)
{
    gnutls_datum_t pem = datum_of(&p->key_pem);
    int rc = gnutls_x509_privkey_init(&p->key);
    if (rc >= 0)
        rc =
            p->key_pem.len == 0
                ? GNUTLS_E_BASE64_DECODING_ERROR
                : gnutls_x509_privkey_import2(p->key, &pem, GNUTLS_X509_FMT_PEM,
                                              NULL, GNUTLS_PKCS_PLAIN);
    if (rc < 0) {
        snprintf(why, why_size, "%s: not an unencrypted PEM private key (%s)",
                 path, gnutls_strerror(rc));
        return gnutls_err(rc);
    }
    return ZL_OK;
}

/* True when key is the private half of leaf's public key. */
static bool key_matches(gnutls_x509_crt_t leaf, gnutls_x509_privkey_t key)
{
    unsigned char a[TLS_KEY_ID_MAX];
    unsigned char b[TLS_KEY_ID_MAX];
    size_t a_len = sizeof(a);
    size_t b_len = sizeof(b);
    return gnutls_x509_crt_get_key_id(leaf, GNUTLS_KEYID_USE_SHA256, a,
                                      &a_len) >= 0 &&
           gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b,
                                          &b_len) >= 0 &&
           a_len == b_len && memcmp(a, b, a_len) == 0;
}

/* Fresh copies of p for one handshake, in GnuTLS's allocations. */
static int pair_copy(const struct pair *p, gnutls_pcert_st **pcert_out,
                     gnutls_privkey_t *key_out)
{
    gnutls_pcert_st *pcert = gnutls_calloc(p->der_count, sizeof(*pcert));
    gnutls_privkey_t key = NULL;
    unsigned done = 0;
    int rc = pcert == NULL ? GNUTLS_E_MEMORY_ERROR : 0;
    for (; rc >= 0 && done < p->der_count; done++) {
        rc = gnutls_pcert_import_x509_raw(&pcert[done], &p->der[done],
                                          GNUTLS_X509_FMT_DER, 0);
        if (rc < 0)
            break;
    }
    if (rc >= 0)
        rc = gnutls_privkey_init(&key);
    if (rc >= 0)
        rc =
            gnutls_privkey_import_x509(key, p->key, GNUTLS_PRIVKEY_IMPORT_COPY);
    if (rc < 0) {
        for (unsigned i = 0; i < done; i++)
            gnutls_pcert_deinit(&pcert[i]);
        gnutls_free(pcert);
        gnutls_privkey_deinit(key);
        return rc;
    }
    *pcert_out = pcert;
    *key_out = key;
    return 0;
}

/* Checks that a handshake could use p: its copies are made once. */
static enum zl_err pair_try(const struct pair *p, char *why, size_t why_size)
{
    gnutls_pcert_st *pcert = NULL;
    gnutls_privkey_t key = NULL;
    int rc = pair_copy(p, &pcert, &key);
    if (rc < 0) {
        snprintf(why, why_size, "the pair cannot be used: %s",
                 gnutls_strerror(rc));
        return gnutls_err(rc);
    }
    for (unsigned i = 0; i < p->der_count; i++)
        gnutls_pcert_deinit(&pcert[i]);
    gnutls_free(pcert);
    gnutls_privkey_deinit(key);
    return ZL_OK;
}

/* Reads and checks a pair. why says what is wrong when it fails. */
static enum zl_err pair_load(const char *cert_file, const char *key_file,
                             struct pair **out, char *why, size_t why_size)
{
    gnutls_x509_crt_t leaf = NULL;
    struct pair *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(why, why_size, "out of memory");
        return ZL_ERR_NOMEM;
    }
    buf_init(&p->cert_pem, SERVE_TLS_MAX_FILE);
    buf_init(&p->key_pem, SERVE_TLS_MAX_FILE);
    enum zl_err err = read_file(cert_file, &p->cert_pem, why, why_size);
    if (err == ZL_OK)
        err = read_file(key_file, &p->key_pem, why, why_size);
    if (err == ZL_OK)
        err = pair_parse_chain(p, cert_file, &leaf, why, why_size);
    if (err == ZL_OK)
        err = pair_parse_key(p, key_file, why, why_size);
    if (err == ZL_OK && !key_matches(leaf, p->key)) {
        snprintf(why, why_size, "%s does not match the certificate in %s",
                 key_file, cert_file);
        err = ZL_ERR_PARSE;
    }
    if (err == ZL_OK)
        err = pair_try(p, why, why_size);
    if (leaf != NULL)
        gnutls_x509_crt_deinit(leaf);
    if (err != ZL_OK) {
        pair_free(p);
        return err;
    }
    *out = p;
    return ZL_OK;
}

static bool buf_same(const struct buf *a, const struct buf *b)
{
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool pair_same(const struct pair *a, const struct pair *b)
{
    return buf_same(&a->cert_pem, &b->cert_pem) &&
           buf_same(&a->key_pem, &b->key_pem);
}

/* ---- Lifecycle --------------------------------------------------------- */

static enum zl_err check_options(const struct serve_tls *opt, const char *where)
{
    if (opt->cert_file == NULL || opt->cert_file[0] == '\0' ||
        opt->key_file == NULL || opt->key_file[0] == '\0') {
        log_error("serve: %s: TLS needs a certificate file and a key file",
                  where);
        return ZL_ERR_INVALID;
    }
    if (opt->min_version != 0 && opt->min_version != 12 &&
        opt->min_version != 13) {
        log_error("serve: %s: TLS minimum version %d: want 12 (TLS 1.2) or "
                  "13 (TLS 1.3)",
                  where, opt->min_version);
        return ZL_ERR_INVALID;
    }
    if (opt->reload_interval_ms > SERVE_TLS_MAX_RELOAD_MS) {
        log_error("serve: %s: TLS reload interval %u ms: at most %u", where,
                  opt->reload_interval_ms, SERVE_TLS_MAX_RELOAD_MS);
        return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

static void log_in_service(const struct serve_tls_creds *c,
                           const struct pair *p, const char *what)
{
    char when[CLOCK_RFC3339_MAX];
    clock_format_ms(p->not_after * 1000, CLOCK_PREC_S, when);
    log_info("serve: %s: TLS certificate %s from %s (chain of %u, valid "
             "until %s)",
             c->where, what, c->cert_file, p->der_count, when);
}

static void creds_free_fields(struct serve_tls_creds *c)
{
    pair_free(c->current);
    free(c->cert_file);
    free(c->key_file);
    free(c->where);
    free(c);
}

/* The first pair: as a pair_load, with the files' identity taken first
 * (so a change while reading is seen by the next check). */
static enum zl_err creds_first_load(struct serve_tls_creds *c)
{
    char why[SERVE_TLS_ERROR_MAX];
    file_id_get(c->cert_file, &c->seen[0]);
    file_id_get(c->key_file, &c->seen[1]);
    enum zl_err err =
        pair_load(c->cert_file, c->key_file, &c->current, why, sizeof(why));
    if (err != ZL_OK) {
        log_error("serve: %s: TLS: %s", c->where, why);
        return err;
    }
    log_in_service(c, c->current, "loaded");
    return ZL_OK;
}

enum zl_err serve_tls_creds_new(const struct serve_tls *opt, const char *where,
                                struct serve_tls_creds **out)
{
    *out = NULL;
    enum zl_err err = check_options(opt, where);
    if (err != ZL_OK)
        return err;
    struct serve_tls_creds *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ZL_ERR_NOMEM;
    c->priorities =
        opt->min_version == 13 ? TLS_PRIORITIES_13 : TLS_PRIORITIES_12;
    c->interval_ms = opt->reload_interval_ms ? opt->reload_interval_ms
                                             : SERVE_TLS_DEFAULT_RELOAD_MS;
    c->cert_file = strdup(opt->cert_file);
    c->key_file = strdup(opt->key_file);
    c->where = strdup(where);
    pthread_cond_t *conds[] = {&c->wake};
    if (c->cert_file == NULL || c->key_file == NULL || c->where == NULL ||
        sync_init(&c->mu, conds, 1) != ZL_OK) {
        creds_free_fields(c);
        return ZL_ERR_NOMEM;
    }
    if ((err = creds_first_load(c)) != ZL_OK) {
        sync_destroy(&c->mu, conds, 1);
        creds_free_fields(c);
        return err;
    }
    *out = c;
    return ZL_OK;
}

/* Records a failed attempt: kept for the status, logged once (the caller
 * tries again only when the files change). */
static void creds_failed(struct serve_tls_creds *c, const char *why)
{
    pthread_mutex_lock(&c->mu);
    c->failures++;
    snprintf(c->last_error, sizeof(c->last_error), "%s", why);
    pthread_mutex_unlock(&c->mu);
    log_warn("serve: %s: TLS: new certificate not used, the previous one "
             "stays in service: %s",
             c->where, why);
}

bool serve_tls_creds_check(struct serve_tls_creds *c)
{
    struct file_id now[2];
    file_id_get(c->cert_file, &now[0]);
    file_id_get(c->key_file, &now[1]);
    if (file_id_same(&now[0], &c->seen[0]) &&
        file_id_same(&now[1], &c->seen[1]))
        return false;
    c->seen[0] = now[0];
    c->seen[1] = now[1];
    char why[SERVE_TLS_ERROR_MAX];
    struct pair *p = NULL;
    if (pair_load(c->cert_file, c->key_file, &p, why, sizeof(why)) != ZL_OK) {
        creds_failed(c, why);
        return false;
    }
    pthread_mutex_lock(&c->mu);
    struct pair *old = c->current;
    bool changed = !pair_same(old, p);
    if (changed) {
        c->current = p;
        c->reloads++;
    }
    c->last_error[0] = '\0';
    pthread_mutex_unlock(&c->mu);
    if (changed)
        log_in_service(c, p, "reloaded");
    /* No handshake holds a pair: each took its own copies under mu. */
    pair_free(changed ? old : p);
    return changed;
}

static void *creds_main(void *arg)
{
    struct serve_tls_creds *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        int64_t at = clock_mono_ns() + (int64_t)c->interval_ms * 1000000;
        struct timespec ts = sync_timespec(at);
        pthread_cond_timedwait(&c->wake, &c->mu, &ts);
        if (c->stopping)
            break;
        pthread_mutex_unlock(&c->mu);
        serve_tls_creds_check(c);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

enum zl_err serve_tls_creds_start(struct serve_tls_creds *c)
{
    if (c->running)
        return ZL_OK;
    c->stopping = false;
    int rc = pthread_create(&c->thread, NULL, creds_main, c);
    if (rc != 0) {
        log_error("serve: %s: cannot start the TLS reload thread: %s", c->where,
                  strerror(rc));
        return ZL_ERR_NOMEM;
    }
    c->running = true;
    return ZL_OK;
}

void serve_tls_creds_stop(struct serve_tls_creds *c)
{
    if (c == NULL || !c->running)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    c->running = false;
}

void serve_tls_creds_free(struct serve_tls_creds *c)
{
    if (c == NULL)
        return;
    serve_tls_creds_stop(c);
    pthread_cond_t *conds[] = {&c->wake};
    sync_destroy(&c->mu, conds, 1);
    creds_free_fields(c);
}

/* ---- Use --------------------------------------------------------------- */

const char *serve_tls_creds_priorities(const struct serve_tls_creds *c)
{
    return c->priorities;
}

int serve_tls_creds_retrieve(struct serve_tls_creds *c, gnutls_pcert_st **pcert,
                             unsigned int *pcert_length,
                             gnutls_privkey_t *privkey, unsigned int *flags)
{
    *pcert = NULL;
    *pcert_length = 0;
    *privkey = NULL;
    *flags = 0;
    pthread_mutex_lock(&c->mu);
    unsigned n = c->current->der_count;
    int rc = pair_copy(c->current, pcert, privkey);
    pthread_mutex_unlock(&c->mu);
    if (rc < 0) {
        log_warn("serve: %s: TLS handshake without a certificate: %s", c->where,
                 gnutls_strerror(rc));
        return rc;
    }
    *pcert_length = n;
    *flags = GNUTLS_CERT_RETR_DEINIT_ALL;
    return 0;
}

void serve_tls_creds_status(struct serve_tls_creds *c,
                            struct serve_tls_status *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&c->mu);
    out->loaded = c->current != NULL;
    out->not_after = c->current != NULL ? c->current->not_after : 0;
    out->reloads = c->reloads;
    out->reload_failures = c->failures;
    memcpy(out->last_error, c->last_error, sizeof(out->last_error));
    pthread_mutex_unlock(&c->mu);
}
