/* SPDX-License-Identifier: Apache-2.0 */
/* certcmd: every subcommand but patch-webhooks (tests/integration) run as
 * users run them, on files in a temporary folder: both key types, inspect's
 * thresholds and exit codes, expired certificates, keys that do not match,
 * bundles of several CAs, and each reason rotate renews for. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certs/cabundle.h"
#include "certs/certcmd.h"
#include "certs/certfile.h"
#include "certs/certinfo.h"
#include "certs/certopts.h"
#include "testutil.h"

static char dir[] = "/tmp/zl-certcmd-XXXXXX";
/* Every command of a test runs at this one time, so day counts are exact
 * however slowly the test runs (valgrind). */
static time_t now;

struct run {
    int code;
    char *out;
    char *err;
    size_t out_len;
    size_t err_len;
};

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(chdir(dir), 0);
    now = time(NULL);
}

static void teardown(void)
{
    testutil_remove_dir(dir);
}

TestSuite(certcmd, .init = setup, .fini = teardown);

/* Runs "zen-lead-certs <line>" at now; r's texts are freed
 * by run_free. */
static void run(struct run *r, const char *line)
{
    struct testutil_argv args;
    struct certopts o;
    char err[CERTOPTS_ERR];
    memset(r, 0, sizeof(*r));
    testutil_argv(&args, "zen-lead-certs", line);
    cr_assert_eq(certopts_parse(args.argc, args.argv, &o, err, sizeof(err)),
                 ZL_OK, "%s: %s", line, err);
    FILE *out = open_memstream(&r->out, &r->out_len);
    FILE *errf = open_memstream(&r->err, &r->err_len);
    cr_assert(out != NULL && errf != NULL);
    r->code = certcmd_run(&o, now, out, errf);
    fclose(out);
    fclose(errf);
    certopts_cleanup(&o);
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

/* Runs line and expects exit code want, and needle in its output (out or
 * err) when not NULL. */
static void expect_run(const char *line, int want, const char *needle)
{
    struct run r;
    run(&r, line);
    cr_expect_eq(r.code, want, "%s: exit %d\nout: %s\nerr: %s", line, r.code,
                 r.out, r.err);
    if (needle != NULL)
        cr_expect(strstr(r.out, needle) != NULL || strstr(r.err, needle),
                  "%s: no '%s' in\nout: %s\nerr: %s", line, needle, r.out,
                  r.err);
    run_free(&r);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s", path);
    return st.st_mode & 0777;
}

static char *slurp(const char *path)
{
    struct buf b;
    buf_init(&b, CERTFILE_MAX);
    cr_assert_eq(certfile_read(path, &b), ZL_OK, "%s", path);
    return buf_take(&b);
}

#define SERVE_NAMES "--dns a.svc --dns localhost --ip 127.0.0.1"

Test(certcmd, ca_serve_inspect_for_each_key_type)
{
    static const char *const types[] = {"ecdsa", "rsa"};
    for (size_t i = 0; i < 2; i++) {
        char line[512];
        snprintf(line, sizeof(line),
                 "ca --out-cert ca.pem --out-key ca.key --key-type %s "
                 "--subject Test-CA",
                 types[i]);
        expect_run(line, 0, "CN=Test-CA");
        cr_expect_eq(mode_of("ca.key"), 0600);
        cr_expect_eq(mode_of("ca.pem"), 0644);
        snprintf(line, sizeof(line),
                 "serve --ca-cert ca.pem --ca-key ca.key " SERVE_NAMES
                 " --out-cert tls.crt --out-key tls.key --days 90 "
                 "--key-type %s",
                 types[i]);
        expect_run(line, 0, "for a.svc");
        cr_expect_eq(mode_of("tls.key"), 0600);
        expect_run("inspect tls.crt --key tls.key --warn-days 30", 0,
                   "sans:       DNS:a.svc, DNS:localhost, IP:127.0.0.1");
        expect_run("inspect tls.crt", 0, "issuer:     CN=Test-CA");
        expect_run("inspect tls.crt --warn-days 90", 0, "days-left:  90");
        expect_run("inspect tls.crt --warn-days 91", 1, "under --warn-days");
        expect_run("inspect ca.pem", 0, "ca:         true");
    }
}

Test(certcmd, issued_certificate_verifies_against_the_ca_file)
{
    expect_run("ca --out-cert ca.pem --out-key ca.key", 0, NULL);
    expect_run("serve --ca-cert ca.pem --ca-key ca.key " SERVE_NAMES
               " --out-cert tls.crt --out-key tls.key",
               0, NULL);
    char *ca_pem = slurp("ca.pem");
    char *tls_pem = slurp("tls.crt");
    struct certinfo_list ca = {.count = 0};
    struct certinfo_list tls = {.count = 0};
    char why[128] = "";
    cr_assert_eq(certinfo_parse(ca_pem, strlen(ca_pem), &ca), ZL_OK);
    cr_assert_eq(certinfo_parse(tls_pem, strlen(tls_pem), &tls), ZL_OK);
    cr_expect_eq(
        certinfo_verify(tls.certs[0], ca.certs[0], true, now, why, sizeof(why)),
        ZL_OK, "%s", why);
    certinfo_list_cleanup(&ca);
    certinfo_list_cleanup(&tls);
    free(ca_pem);
    free(tls_pem);
}

Test(certcmd, expired_and_mismatched_fail_inspect)
{
    expect_run("ca --out-cert ca.pem --out-key ca.key", 0, NULL);
    expect_run("serve --ca-cert ca.pem --ca-key ca.key " SERVE_NAMES
               " --out-cert old.crt --out-key old.key --days -1",
               0, NULL);
    expect_run("inspect old.crt", 1, "(expired)");
    expect_run("inspect old.crt --warn-days -5", 1, "days-left:  -1");
    expect_run("serve --ca-cert ca.pem --ca-key ca.key " SERVE_NAMES
               " --out-cert tls.crt --out-key tls.key",
               0, NULL);
    expect_run("inspect tls.crt --key old.key", 1, "does NOT match");
    expect_run("inspect tls.crt --key tls.key", 0, "matches certificate 1");
    expect_run("inspect missing.crt", 1, "cannot read");
    expect_run("inspect tls.key", 1, "no certificate");
}

Test(certcmd, bundles_of_several_cas)
{
    expect_run("ca --out-cert a.pem --out-key a.key --subject A", 0, NULL);
    expect_run("ca --out-cert b.pem --out-key b.key --subject B", 0, NULL);
    expect_run("ca --out-cert c.pem --out-key c.key --subject C", 0, NULL);
    expect_run("cabundle a.pem b.pem a.pem --out ab.pem", 0, NULL);
    expect_run("cabundle ab.pem c.pem b.pem --out abc.pem", 0, NULL);
    expect_run("inspect abc.pem", 0, "certificate 3 of 3");
    expect_run("inspect abc.pem", 0, "subject:    CN=C");

    struct run plain;
    struct run b64;
    struct buf want;
    run(&plain, "cabundle abc.pem");
    run(&b64, "cabundle abc.pem --base64");
    cr_assert_eq(plain.code, 0);
    cr_assert_eq(b64.code, 0);
    buf_init(&want, 1u << 20);
    cr_assert_eq(cabundle_base64(plain.out, plain.out_len, &want), ZL_OK);
    cr_assert_eq(buf_putc(&want, '\n'), ZL_OK);
    cr_expect_str_eq(b64.out, want.data);
    char *file = slurp("abc.pem");
    cr_expect_str_eq(plain.out, file);
    free(file);
    buf_cleanup(&want);
    run_free(&plain);
    run_free(&b64);
}

Test(certcmd, cabundle_refuses_a_serving_certificate)
{
    expect_run("ca --out-cert ca.pem --out-key ca.key", 0, NULL);
    expect_run("serve --ca-cert ca.pem --ca-key ca.key --dns x.svc "
               "--out-cert tls.crt --out-key tls.key",
               0, NULL);
    expect_run("cabundle ca.pem tls.crt", 1,
               "tls.crt: certificate 1 is not a CA");
    expect_run("cabundle ca.pem tls.crt --out out.pem", 1, NULL);
    cr_expect_eq(access("out.pem", F_OK), -1);
}

Test(certcmd, serve_refuses_a_bad_ca_pair_and_bad_names)
{
    expect_run("ca --out-cert ca.pem --out-key ca.key", 0, NULL);
    expect_run("ca --out-cert other.pem --out-key other.key", 0, NULL);
    expect_run("serve --ca-cert ca.pem --ca-key other.key --dns x "
               "--out-cert t.crt --out-key t.key",
               1, "does not match the CA certificate");
    expect_run("serve --ca-cert ca.pem --ca-key ca.key --dns x "
               "--out-cert t.crt --out-key t.key",
               0, NULL);
    expect_run("serve --ca-cert t.crt --ca-key t.key --dns y "
               "--out-cert u.crt --out-key u.key",
               1, "not a CA certificate");
    expect_run("serve --ca-cert ca.pem --ca-key ca.key --dns a,b "
               "--out-cert u.crt --out-key u.key",
               2, "not a DNS name");
    expect_run("serve --ca-cert ca.pem --ca-key ca.key --dns a --ip 300.1.1.1 "
               "--out-cert u.crt --out-key u.key",
               2, "not an IPv4 or IPv6 address");
    cr_expect_eq(access("u.crt", F_OK), -1);
}

#define ROTATE                                                                 \
    "rotate --ca-cert ca.pem --ca-key ca.key --cert tls.crt --key "            \
    "tls.key " SERVE_NAMES " --renew-days 30"

static ino_t inode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return st.st_ino;
}

Test(certcmd, rotate_keeps_a_good_pair)
{
    expect_run("ca --out-cert ca.pem --out-key ca.key", 0, NULL);
    expect_run("serve --ca-cert ca.pem --ca-key ca.key " SERVE_NAMES
               " --out-cert tls.crt --out-key tls.key",
               0, NULL);
    ino_t cert = inode_of("tls.crt");
    ino_t key = inode_of("tls.key");
    expect_run(ROTATE, 0, "kept tls.crt: 365 days left");
    cr_expect_eq(inode_of("tls.crt"), cert);
    cr_expect_eq(inode_of("tls.key"), key);
}

/* Each way a pair goes bad: rotate renews it (exit 0), the new pair
 * passes inspect, and a second rotate keeps it. */
Test(certcmd, rotate_renews_for_each_reason)
{
    static const struct {
        const char *spoil; /* a command that spoils the pair, or NULL */
        const char *spoil2;
        const char *reason;
    } cases[] = {
        {"serve --ca-cert ca.pem --ca-key ca.key " SERVE_NAMES
         " --out-cert tls.crt --out-key tls.key --days 10",
         NULL, "10 days left, under --renew-days 30"},
        {"serve --ca-cert ca.pem --ca-key ca.key " SERVE_NAMES
         " --out-cert tls.crt --out-key tls.key --days -3",
         NULL, "-3 days left"},
        {"ca --out-cert o.pem --out-key tls.key", NULL,
         "does not match its key"},
        {"ca --out-cert o.pem --out-key o.key",
         "serve --ca-cert o.pem --ca-key o.key " SERVE_NAMES
         " --out-cert tls.crt --out-key tls.key",
         "not signed by the CA"},
        {"serve --ca-cert ca.pem --ca-key ca.key --dns a.svc "
         "--out-cert tls.crt --out-key tls.key",
         NULL, "names differ"},
        {NULL, NULL, "cannot be read"},
    };
    expect_run("ca --out-cert ca.pem --out-key ca.key", 0, NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unlink("tls.crt");
        unlink("tls.key");
        expect_run("serve --ca-cert ca.pem --ca-key ca.key " SERVE_NAMES
                   " --out-cert tls.crt --out-key tls.key",
                   0, NULL);
        if (cases[i].spoil != NULL)
            expect_run(cases[i].spoil, 0, NULL);
        else
            unlink("tls.crt");
        if (cases[i].spoil2 != NULL)
            expect_run(cases[i].spoil2, 0, NULL);
        expect_run(ROTATE, 0, cases[i].reason);
        expect_run("inspect tls.crt --key tls.key --warn-days 300", 0, NULL);
        expect_run(ROTATE, 0, "kept tls.crt");
        cr_expect_eq(mode_of("tls.key"), 0600);
    }
}

Test(certcmd, rotate_fails_without_its_ca)
{
    expect_run(ROTATE, 1, "ca.pem: cannot read");
}

/* The program itself: --help and --version exit 0; a bad command line
 * prints one line on stderr and exits 2, as the daemons do. */
Test(certcmd, program_exit_codes)
{
    static const struct {
        const char *args;
        int code;
        const char *first; /* start of the first line printed */
    } cases[] = {
        {"--version", 0, "zen-lead-certs "},
        {"--help", 0, "usage: zen-lead-certs COMMAND"},
        {"serve --help", 0, "usage: zen-lead-certs serve --ca-cert"},
        {"", 2, "zen-lead-certs: no command"},
        {"--bogus", 2, "zen-lead-certs: unknown command --bogus"},
        {"ca --out-cert c --out-key k --frob", 2,
         "zen-lead-certs: unknown flag --frob for ca"},
        {"inspect", 2, "zen-lead-certs: inspect needs a file"},
        {"inspect missing.pem", 1, "zen-lead-certs: missing.pem: cannot read"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char cmd[512];
        char line[512] = "";
        snprintf(cmd, sizeof(cmd), "%s %s 2>&1", ZL_CERTS_BIN, cases[i].args);
        FILE *f = popen(cmd, "r");
        cr_assert_not_null(f);
        cr_expect_not_null(fgets(line, sizeof(line), f), "%s", cases[i].args);
        size_t lines = line[0] != '\0';
        char more[512];
        while (fgets(more, sizeof(more), f) != NULL)
            lines++;
        int status = pclose(f);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == cases[i].code,
                  "%s: status %d", cases[i].args, status);
        cr_expect(strncmp(line, cases[i].first, strlen(cases[i].first)) == 0,
                  "%s: got '%s'", cases[i].args, line);
        if (cases[i].code == 2)
            cr_expect_eq(lines, 1, "%s: %zu lines", cases[i].args, lines);
    }
}
