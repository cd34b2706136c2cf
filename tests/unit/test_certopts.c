/* SPDX-License-Identifier: Apache-2.0 */
/* certopts: each subcommand's flags, repeated flags, --flag=value,
 * defaults, and the one-line errors of bad command lines. */
#include <criterion/criterion.h>
#include <string.h>

#include "certs/certopts.h"
#include "testutil.h"

static const struct {
    const char *line;
    enum zl_err want;
    enum certopts_cmd cmd;
    const char *err; /* part of the message */
} CASES[] = {
    {"--help", ZL_OK, CERTOPTS_HELP, NULL},
    {"--version", ZL_OK, CERTOPTS_VERSION, NULL},
    {"ca --out-cert c --out-key k", ZL_OK, CERTOPTS_CA, NULL},
    {"ca --out-cert=c --out-key=k --key-type rsa --rsa-bits 3072", ZL_OK,
     CERTOPTS_CA, NULL},
    {"ca --out-cert c", ZL_ERR_INVALID, CERTOPTS_CA, "needs --out-key"},
    {"ca --out-cert c --out-key k --rsa-bits 1024", ZL_ERR_INVALID, CERTOPTS_CA,
     "--rsa-bits 1024"},
    {"ca --out-cert c --out-key k --key-type dsa", ZL_ERR_INVALID, CERTOPTS_CA,
     "--key-type dsa"},
    {"ca --out-cert c --out-key k --days x", ZL_ERR_INVALID, CERTOPTS_CA,
     "--days x"},
    {"ca --out-cert c --out-key k --days 99999", ZL_ERR_INVALID, CERTOPTS_CA,
     "out of range"},
    {"ca --out-cert c --out-key k --dns a", ZL_ERR_INVALID, CERTOPTS_CA,
     "unknown flag --dns for ca"},
    {"ca --out-cert", ZL_ERR_INVALID, CERTOPTS_CA, "--out-cert needs a value"},
    {"ca --out-cert c --out-key k extra", ZL_ERR_INVALID, CERTOPTS_CA,
     "takes no file"},
    {"serve --ca-cert a --ca-key b --dns x --dns y --ip 1.2.3.4 --out-cert c "
     "--out-key k --days -1",
     ZL_OK, CERTOPTS_SERVE, NULL},
    {"serve --ca-cert a --ca-key b --out-cert c --out-key k", ZL_ERR_INVALID,
     CERTOPTS_SERVE, "needs --dns"},
    {"inspect a.pem b.pem --warn-days 30 --key k", ZL_OK, CERTOPTS_INSPECT,
     NULL},
    {"inspect", ZL_ERR_INVALID, CERTOPTS_INSPECT, "needs a file"},
    {"cabundle a.pem --base64", ZL_OK, CERTOPTS_CABUNDLE, NULL},
    {"cabundle a.pem --base64=yes", ZL_ERR_INVALID, CERTOPTS_CABUNDLE,
     "takes no value"},
    {"patch-webhooks --ca-bundle b --validating v --mutating m", ZL_OK,
     CERTOPTS_PATCH_WEBHOOKS, NULL},
    {"patch-webhooks --ca-bundle b", ZL_ERR_INVALID, CERTOPTS_PATCH_WEBHOOKS,
     "--validating or --mutating"},
    {"rotate --ca-cert a --ca-key b --cert c --key k --dns x --renew-days 30",
     ZL_OK, CERTOPTS_ROTATE, NULL},
    {"rotate --ca-cert a --ca-key b --cert c --key k --dns x", ZL_ERR_INVALID,
     CERTOPTS_ROTATE, "needs --renew-days"},
    {"frob", ZL_ERR_INVALID, CERTOPTS_NONE, "unknown command frob"},
    {"--bogus", ZL_ERR_INVALID, CERTOPTS_NONE, "unknown command --bogus"},
    {"", ZL_ERR_INVALID, CERTOPTS_NONE, "no command"},
};

Test(certopts, command_lines)
{
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        struct testutil_argv args;
        struct certopts o;
        char err[CERTOPTS_ERR];
        testutil_argv(&args, "zen-lead-certs", CASES[i].line);
        enum zl_err rc =
            certopts_parse(args.argc, args.argv, &o, err, sizeof(err));
        cr_expect_eq(rc, CASES[i].want, "%s: %s", CASES[i].line, err);
        cr_expect_eq(o.cmd, CASES[i].cmd, "%s", CASES[i].line);
        if (CASES[i].err != NULL)
            cr_expect(strstr(err, CASES[i].err) != NULL, "%s: got '%s'",
                      CASES[i].line, err);
        else
            cr_expect_str_eq(err, "", "%s", CASES[i].line);
        cr_expect(strchr(err, '\n') == NULL);
        certopts_cleanup(&o);
    }
}

Test(certopts, values_defaults_and_repeats)
{
    struct testutil_argv args;
    struct certopts o;
    char err[CERTOPTS_ERR];
    testutil_argv(&args, "zen-lead-certs",
                  "serve --ca-cert a --ca-key b --dns x --dns=y --ip 1.2.3.4 "
                  "--ip ::1 --out-cert c --out-key k --key-type rsa");
    cr_assert_eq(certopts_parse(args.argc, args.argv, &o, err, sizeof(err)),
                 ZL_OK, "%s", err);
    cr_expect_eq(o.dns.count, 2);
    cr_expect_str_eq(o.dns.items[1], "y");
    cr_expect_eq(o.ips.count, 2);
    cr_expect_str_eq(o.ips.items[1], "::1");
    cr_expect_eq(o.key_type, CERTKEY_RSA);
    cr_expect_eq(o.rsa_bits, CERTKEY_RSA_DEFAULT_BITS);
    cr_expect_eq(o.days, CERTOPTS_DEFAULT_SERVE_DAYS);
    cr_expect_eq(o.ca_cert, args.argv[3]);
    certopts_cleanup(&o);

    testutil_argv(&args, "zen-lead-certs", "ca --out-cert c --out-key k");
    cr_assert_eq(certopts_parse(args.argc, args.argv, &o, err, sizeof(err)),
                 ZL_OK);
    cr_expect_eq(o.days, CERTOPTS_DEFAULT_CA_DAYS);
    cr_expect_eq(o.key_type, CERTKEY_ECDSA);
    cr_expect_str_eq(o.subject, CERTOPTS_DEFAULT_SUBJECT);
    certopts_cleanup(&o);

    testutil_argv(&args, "zen-lead-certs", "serve --help");
    cr_assert_eq(certopts_parse(args.argc, args.argv, &o, err, sizeof(err)),
                 ZL_OK);
    cr_expect(o.help);
    cr_expect(strstr(certopts_usage(o.cmd), "--ca-cert") != NULL);
    certopts_cleanup(&o);
}
