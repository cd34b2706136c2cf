/* SPDX-License-Identifier: Apache-2.0 */
/* Leader Service naming and the DNS-1035 label check, from static tables. */
#include <criterion/criterion.h>
#include <string.h>

#include "zenlead/naming.h"

#define S56 "ssssssssssssssssssssssssssssssssssssssssssssssssssssssss"
#define A63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
    const char *name;
    bool valid;
} label_cases[] = {
    {"a", true},           {"web", true},         {"web-leader", true},
    {"a1", true},          {"a-1-b", true},       {"a--b", true},
    {A63, true},           {A63 "a", false},      {"", false},
    {"1web", false},       {"-web", false},       {"web-", false},
    {"Web", false},        {"wEb", false},        {"web.leader", false},
    {"web_leader", false}, {"web leader", false}, {"wéb", false},
    {"web\n", false},
};

Test(naming, dns1035_label_table)
{
    for (size_t i = 0; i < sizeof(label_cases) / sizeof(label_cases[0]); i++)
        cr_expect_eq(naming_is_dns1035_label(label_cases[i].name),
                     label_cases[i].valid, "\"%s\"", label_cases[i].name);
    cr_expect_not(naming_is_dns1035_label(NULL));
}

static const struct {
    const char *label;
    const char *source;
    const char *explicit_name;
    enum zl_err want;
    const char *out;
} name_cases[] = {
    {"default is <source>-leader", "web", NULL, ZL_OK, "web-leader"},
    {"explicit name wins", "web", "primary", ZL_OK, "primary"},
    {"56-character source derives 63 characters", S56, NULL, ZL_OK,
     S56 "-leader"},
    {"57-character source needs the annotation", S56 "s", NULL, ZL_ERR_LIMIT,
     ""},
    {"long source with explicit name is fine", S56 "sssss", "short", ZL_OK,
     "short"},
    {"explicit 63 characters is fine", "web", A63, ZL_OK, A63},
    {"explicit 64 characters is invalid", "web", A63 "a", ZL_ERR_INVALID, ""},
    {"explicit name equal to source is invalid", "web", "web", ZL_ERR_INVALID,
     ""},
    {"explicit empty name is invalid", "web", "", ZL_ERR_INVALID, ""},
    {"explicit upper case is invalid", "web", "Primary", ZL_ERR_INVALID, ""},
    {"explicit name may equal the default", "web", "web-leader", ZL_OK,
     "web-leader"},
    {"source that is not a label cannot derive", "Web", NULL, ZL_ERR_PARSE, ""},
    {"empty source cannot derive", "", NULL, ZL_ERR_PARSE, ""},
};

Test(naming, leader_name_table)
{
    for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
        char out[NAMING_MAX_LABEL + 1];
        memset(out, 'x', sizeof(out));
        enum zl_err err = naming_leader_name(name_cases[i].source,
                                             name_cases[i].explicit_name, out);
        cr_expect_eq(err, name_cases[i].want, "%s: %s", name_cases[i].label,
                     zl_err_str(err));
        cr_expect_str_eq(out, name_cases[i].out, "%s", name_cases[i].label);
    }
}

Test(naming, derived_names_are_always_labels)
{
    char src[NAMING_MAX_DERIVED_SOURCE + 2];
    for (size_t len = 1; len <= NAMING_MAX_DERIVED_SOURCE + 1; len++) {
        char out[NAMING_MAX_LABEL + 1];
        memset(src, 'q', len);
        src[len] = '\0';
        enum zl_err err = naming_leader_name(src, NULL, out);
        if (len <= NAMING_MAX_DERIVED_SOURCE) {
            cr_expect_eq(err, ZL_OK, "%zu", len);
            cr_expect(naming_is_dns1035_label(out), "%s", out);
            cr_expect_eq(strlen(out), len + strlen(NAMING_SUFFIX));
        } else {
            cr_expect_eq(err, ZL_ERR_LIMIT, "%zu", len);
        }
    }
}
