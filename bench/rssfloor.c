/* SPDX-License-Identifier: Apache-2.0 */
/* The memory floor under zen-lead-controller's idle RSS: a process that
 * loads the same libraries (libcurl with OpenSSL, libmicrohttpd with GnuTLS,
 * json-c, libcyaml), loads the kubeconfig, sends one request to the API
 * server over the same client (TLS, HTTP/2) and serves /healthz on plain
 * HTTP, then reads its own /proc/self/status. No informer, store or worker:
 * what the controller adds at idle is its RSS minus this.
 * usage: rssfloor KUBECONFIG */
#include <stdio.h>
#include <string.h>
#include <time.h>

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
    if (argc != 2) {
        fprintf(stderr, "usage: rssfloor KUBECONFIG\n");
        return 2;
    }
    struct kube_config cfg = {0};
    struct kubeconfig_error kerr = {0};
    struct client *c = NULL;
    struct serve *s = NULL;
    struct client_options co = {.max_retries = -1};
    struct serve_options so = {.bind_address = "127.0.0.1:0"};
    int status = 1;
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
    /* Two requests: the second reuses the connection, as at idle. */
    for (int i = 0; i < 2; i++) {
        if (request_once(c) != 0)
            goto out;
    }
    struct timespec pause = {1, 0};
    nanosleep(&pause, NULL);
    printf("rssfloor: VmRSS %ld KiB (RssAnon %ld, RssFile %ld)\n",
           status_kib("VmRSS"), status_kib("RssAnon"), status_kib("RssFile"));
    status = 0;
out:
    serve_free(s);
    client_free(c);
    kubeconfig_cleanup(&cfg);
    return status;
}
