/* SPDX-License-Identifier: Apache-2.0 */
/* The TLS Secret zen-lead-certs secret writes: its JSON, with and without
 * the CA and the resourceVersion of a replace, and what the command line
 * requires. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "certs/certopts.h"
#include "certs/certsecret.h"

static struct json_object *render(const struct certsecret_pems *p,
                                  const char *rv)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    cr_assert_eq(certsecret_render("zen-lead-system", "tls", p, rv, &b), ZL_OK);
    struct json_object *o = json_tokener_parse(b.data);
    cr_assert_not_null(o, "not JSON: %s", b.data);
    buf_cleanup(&b);
    return o;
}

static const char *at(struct json_object *o, const char *a, const char *b)
{
    struct json_object *x = NULL, *y = NULL;
    if (!json_object_object_get_ex(o, a, &x))
        return NULL;
    if (b == NULL)
        return json_object_get_string(x);
    if (!json_object_object_get_ex(x, b, &y))
        return NULL;
    return json_object_get_string(y);
}

Test(certsecret, renders_a_tls_secret_with_base64_data)
{
    struct certsecret_pems p = {"CERT", 4, "KEY\n", 4, "CA", 2};
    struct json_object *o = render(&p, NULL);
    cr_expect_str_eq(at(o, "type", NULL), "kubernetes.io/tls");
    cr_expect_str_eq(at(o, "kind", NULL), "Secret");
    cr_expect_str_eq(at(o, "metadata", "name"), "tls");
    cr_expect_str_eq(at(o, "metadata", "namespace"), "zen-lead-system");
    cr_expect_null(at(o, "metadata", "resourceVersion"));
    cr_expect_str_eq(at(o, "data", "tls.crt"), "Q0VSVA==");
    cr_expect_str_eq(at(o, "data", "tls.key"), "S0VZCg==");
    cr_expect_str_eq(at(o, "data", "ca.crt"), "Q0E=");
    json_object_put(o);
}

Test(certsecret, a_replace_carries_the_version_and_the_ca_is_optional)
{
    struct certsecret_pems p = {"C", 1, "K", 1, NULL, 0};
    struct json_object *o = render(&p, "42");
    cr_expect_str_eq(at(o, "metadata", "resourceVersion"), "42");
    cr_expect_null(at(o, "data", "ca.crt"));
    cr_expect_str_eq(at(o, "data", "tls.crt"), "Qw==");
    json_object_put(o);
}

Test(certsecret, the_command_line_needs_namespace_name_cert_and_key)
{
    static const struct {
        const char *args[12];
        const char *err; /* NULL: parses */
    } cases[] = {
        {{"secret", "--namespace", "n", "--name", "s", "--cert", "c", "--key",
          "k", NULL},
         NULL},
        {{"secret", "--namespace=n", "--name=s", "--cert=c", "--key=k",
          "--ca-cert=a", "--kubeconfig=kc", NULL},
         NULL},
        {{"secret", "--name", "s", "--cert", "c", "--key", "k", NULL},
         "--namespace"},
        {{"secret", "--namespace", "n", "--cert", "c", "--key", "k", NULL},
         "--name"},
        {{"secret", "--namespace", "n", "--name", "s", "--key", "k", NULL},
         "--cert"},
        {{"secret", "--namespace", "n", "--name", "s", "--cert", "c", "--dns",
          "x", NULL},
         "--dns"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[13] = {(char *)(uintptr_t) "zen-lead-certs"};
        int argc = 1;
        for (; cases[i].args[argc - 1] != NULL; argc++)
            argv[argc] = (char *)(uintptr_t)cases[i].args[argc - 1];
        struct certopts o;
        char err[CERTOPTS_ERR] = "";
        enum zl_err rc = certopts_parse(argc, argv, &o, err, sizeof(err));
        if (cases[i].err == NULL) {
            cr_expect_eq(rc, ZL_OK, "case %zu: %s", i, err);
            cr_expect_eq(o.cmd, CERTOPTS_SECRET);
        } else {
            cr_expect_eq(rc, ZL_ERR_INVALID, "case %zu", i);
            cr_expect(strstr(err, cases[i].err) != NULL, "case %zu: %s", i,
                      err);
        }
        certopts_cleanup(&o);
    }
}
