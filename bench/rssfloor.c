/* SPDX-License-Identifier: Apache-2.0 */
/* The memory floor under zen-lead-controller's idle RSS: a process that
 * loads the same libraries (libcurl with OpenSSL, libmicrohttpd with GnuTLS,
 * json-c, libcyaml), loads the kubeconfig, sends one request to the API
 * server over the same client (TLS, HTTP/2) and serves /healthz on plain
 * HTTP, then reads its own /proc/self/status. No informer, store or worker:
 * what the controller adds at idle is its RSS minus this. It prints three
 * stages (the libraries loaded and their constructors run, at the entry of
 * main; the client and the server made, which initialises libcurl and
 * OpenSSL; the requests sent) and then the mappings that hold the most of
 * the last figure, from /proc/self/smaps. With OUT_DIR it also writes them to
 * OUT_DIR/rssfloor-<UTC time>.json.
 * usage: rssfloor KUBECONFIG [OUT_DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchkube.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "serve/serve.h"

/* A field of /proc/self/status in KiB, -1 when absent. */
static long status_kib(const char *field)
{
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            sscanf(line + n + 1, "%ld", &v);
            break;
        }
    }
    fclose(f);
    return v;
}

struct stage {
    const char *name;
    long rss;
    long anon;
    long file;
};

struct mapping_rss {
    char name[128];
    long kib;
};

#define RF_STAGES 3
#define RF_TOP 12

struct floor {
    struct stage stages[RF_STAGES];
    size_t n_stages;
    struct mapping_rss top[RF_TOP];
    size_t n_top;
};

/* Reads and prints the process's RSS now as stage `name`. */
static void take_stage(struct floor *fl, const char *name)
{
    struct stage *st = &fl->stages[fl->n_stages++];
    st->name = name;
    st->rss = status_kib("VmRSS");
    st->anon = status_kib("RssAnon");
    st->file = status_kib("RssFile");
    printf("rssfloor: %-8s VmRSS %ld KiB (RssAnon %ld, RssFile %ld)\n", name,
           st->rss, st->anon, st->file);
}

static int by_kib_desc(const void *a, const void *b)
{
    long x = ((const struct mapping_rss *)a)->kib;
    long y = ((const struct mapping_rss *)b)->kib;
    return (x < y) - (x > y);
}

/* The name a mapping line of smaps ends with: the file's base name, else
 * the pseudo name ("[heap]"), else "[anon]". */
static void mapping_name(const char *line, char *out, size_t size)
{
    const char *p = line;
    for (int field = 0; field < 5 && p != NULL; field++) {
        p = strchr(p, ' ');
        while (p != NULL && *p == ' ')
            p++;
    }
    if (p == NULL || *p == '\n' || *p == '\0') {
        snprintf(out, size, "[anon]");
        return;
    }
    const char *base = strrchr(p, '/');
    snprintf(out, size, "%s", base != NULL ? base + 1 : p);
    out[strcspn(out, "\n")] = '\0';
}

/* Adds the Rss of one mapping to its name's total in maps[]. */
static void add_mapping(struct mapping_rss *maps, size_t *n, size_t cap,
                        const char *name, long kib)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(maps[i].name, name) == 0) {
            maps[i].kib += kib;
            return;
        }
    }
    if (*n < cap) {
        snprintf(maps[*n].name, sizeof(maps[*n].name), "%s", name);
        maps[(*n)++].kib = kib;
    }
}

/* Keeps and prints the RF_TOP names (files, heap, anonymous) with the most
 * resident KiB in /proc/self/smaps, each library's segments summed. */
static void take_top_mappings(struct floor *fl)
{
    static struct mapping_rss maps[256];
    size_t n = 0;
    char line[512];
    char name[128] = "[anon]";
    long kib;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t hex = strspn(line, "0123456789abcdef");
        if (hex > 0 && line[hex] == '-')
            mapping_name(line, name, sizeof(name));
        else if (sscanf(line, "Rss: %ld kB", &kib) == 1)
            add_mapping(maps, &n, sizeof(maps) / sizeof(maps[0]), name, kib);
    }
    fclose(f);
    qsort(maps, n, sizeof(maps[0]), by_kib_desc);
    for (size_t i = 0; i < n && i < RF_TOP; i++) {
        fl->top[fl->n_top++] = maps[i];
        printf("rssfloor:   %6ld KiB  %s\n", maps[i].kib, maps[i].name);
    }
}

/* OUT_DIR/rssfloor-<stamp>.json: the stages and the top mappings. */
static int write_json(const struct floor *fl, const char *dir)
{
    char date[32];
    char path[512];
    bk_now_stamp(date);
    snprintf(path, sizeof(path), "%s/rssfloor-%s.json", dir, date);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "rssfloor: cannot write %s\n", path);
        return 1;
    }
    fprintf(f, "{\"bench\":\"rssfloor\",\"date\":\"%s\",\"stages\":[", date);
    for (size_t i = 0; i < fl->n_stages; i++) {
        const struct stage *st = &fl->stages[i];
        fprintf(f,
                "%s{\"stage\":\"%s\",\"rss_kib\":%ld,\"anon_kib\":%ld,"
                "\"file_kib\":%ld}",
                i ? "," : "", st->name, st->rss, st->anon, st->file);
    }
    fprintf(f, "],\"top\":[");
    for (size_t i = 0; i < fl->n_top; i++)
        fprintf(f, "%s{\"name\":\"%s\",\"kib\":%ld}", i ? "," : "",
                fl->top[i].name, fl->top[i].kib);
    fprintf(f, "]}\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "rssfloor: cannot write %s\n", path);
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}

static int request_once(struct client *c)
{
    struct client_response resp;
    client_response_init(&resp);
    enum zl_err rc = client_request(c, "GET", "/readyz", NULL, NULL, 0, &resp);
    client_response_cleanup(&resp);
    if (rc != ZL_OK) {
        fprintf(stderr, "rssfloor: GET /readyz: %s\n", zl_err_str(rc));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: rssfloor KUBECONFIG [OUT_DIR]\n");
        return 2;
    }
    static struct floor fl;
    struct kube_config cfg = {0};
    struct kubeconfig_error kerr = {0};
    struct client *c = NULL;
    struct serve *s = NULL;
    struct client_options co = {.max_retries = -1};
    struct serve_options so = {.bind_address = "127.0.0.1:0"};
    int status = 1;
    take_stage(&fl, "loaded");
    if (kubeconfig_load_file(argv[1], NULL, &cfg, &kerr) != ZL_OK) {
        fprintf(stderr, "rssfloor: %s\n", kerr.text);
        return 1;
    }
    if (client_new(&cfg, &co, &c) != ZL_OK || serve_new(&so, &s) != ZL_OK ||
        serve_route(s, "GET", "/healthz", serve_handle_health, NULL) != ZL_OK ||
        serve_start(s) != ZL_OK) {
        fprintf(stderr, "rssfloor: cannot set up the client or server\n");
        goto out;
    }
    take_stage(&fl, "setup");
    /* Two requests: the second reuses the connection, as at idle. */
    for (int i = 0; i < 2; i++) {
        if (request_once(c) != 0)
            goto out;
    }
    struct timespec pause = {1, 0};
    nanosleep(&pause, NULL);
    take_stage(&fl, "serving");
    take_top_mappings(&fl);
    status = argc == 3 ? write_json(&fl, argv[2]) : 0;
out:
    serve_free(s);
    client_free(c);
    kubeconfig_cleanup(&cfg);
    return status;
}
