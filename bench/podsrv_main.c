/* SPDX-License-Identifier: Apache-2.0 */
/* zl-podsrv: a pod of e2e/dataplane. Answers every HTTP request on --listen
 * with 200 and body "NAME\n", one request per connection, until SIGTERM or
 * SIGINT; then prints its counts to stderr.
 * usage: zl-podsrv --listen ADDR:PORT --name NAME [--timeout-ms MS] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/signals.h"
#include "podsrv.h"

static int usage(void)
{
    fprintf(stderr, "usage: zl-podsrv --listen ADDR:PORT --name NAME "
                    "[--timeout-ms MS]\n");
    return 2;
}

/* Parses the flags into opts; returns 0, or the exit status on error. */
static int parse_flags(int argc, char **argv, struct podsrv_options *opts)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"name", required_argument, NULL, 'n'},
        {"timeout-ms", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    char *end = NULL;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch == 'l') {
            opts->listen = optarg;
        } else if (ch == 'n') {
            opts->name = optarg;
        } else if (ch == 't') {
            long ms = strtol(optarg, &end, 10);
            if (*end != '\0' || ms <= 0 || ms > 3600000)
                return usage();
            opts->timeout_ms = (int)ms;
        } else {
            return usage();
        }
    }
    if (optind != argc || opts->listen == NULL || opts->name == NULL)
        return usage();
    return 0;
}

int main(int argc, char **argv)
{
    struct podsrv_options opts = {.stop_fd = -1};
    struct podsrv *s = NULL;
    enum zl_err rc;
    int status = parse_flags(argc, argv, &opts);
    if (status != 0)
        return status;
    opts.stop_fd = signals_install();
    if (opts.stop_fd < 0) {
        perror("zl-podsrv: signals");
        return 1;
    }
    rc = podsrv_new(&opts, &s);
    if (rc != ZL_OK) {
        fprintf(stderr, "zl-podsrv: %s: %s\n", opts.listen, zl_err_str(rc));
        signals_close();
        return 1;
    }
    rc = podsrv_run(s);
    struct podsrv_stats st = podsrv_stats(s);
    fprintf(stderr,
            "zl-podsrv: %s: served %llu, timed out %llu, dropped %llu\n",
            opts.name, (unsigned long long)st.served,
            (unsigned long long)st.timed_out, (unsigned long long)st.dropped);
    podsrv_free(s);
    signals_close();
    return rc == ZL_OK ? 0 : 1;
}
