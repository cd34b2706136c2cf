/* SPDX-License-Identifier: Apache-2.0 */
/* Event mapping, table-driven: pods to the enabled Services whose selector
 * matches old or new labels, Services to themselves or their source (and
 * to sources claiming their name), managed slices to their source, and
 * which pod updates are relevant. Views are parsed from JSON as the
 * informers parse them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "controller/mapping.h"
#include "kube/views.h"

#define MAX_KEYS 8

struct seen {
    char keys[MAX_KEYS][MAPPING_MAX_KEY];
    size_t count;
};

static void collect(void *ctx, const char *key)
{
    struct seen *s = ctx;
    cr_assert_lt(s->count, MAX_KEYS);
    snprintf(s->keys[s->count++], MAPPING_MAX_KEY, "%s", key);
}

/* "k1,k2" joined keys for one-line comparisons. */
static void joined(const struct seen *s, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < s->count; i++) {
        strncat(out, i ? "," : "", n - strlen(out) - 1);
        strncat(out, s->keys[i], n - strlen(out) - 1);
    }
}

static struct views_pod *pod(const char *ns, const char *labels)
{
    char json[1024];
    struct views_pod *p = NULL;
    snprintf(json, sizeof(json),
             "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"p\",\"uid\":"
             "\"u1\",\"labels\":{%s}},\"status\":{\"phase\":\"Running\"}}",
             ns, labels);
    cr_assert_eq(views_pod_parse(json, strlen(json), &p), ZL_OK, "%s", json);
    return p;
}

static struct views_service *service(const char *ns, const char *name,
                                     const char *annotations,
                                     const char *labels, const char *selector)
{
    char json[2048];
    struct views_service *s = NULL;
    snprintf(json, sizeof(json),
             "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"uid\":"
             "\"u-%s\",\"annotations\":{%s},\"labels\":{%s}},\"spec\":{"
             "\"selector\":{%s},\"ports\":[{\"port\":80}]}}",
             ns, name, name, annotations, labels, selector);
    cr_assert_eq(views_service_parse(json, strlen(json), &s), ZL_OK, "%s",
                 json);
    return s;
}

#define ON "\"zen-lead.io/enabled\":\"true\""

struct svc_def {
    const char *name;
    const char *annotations;
    const char *selector;
};

struct pod_case {
    const char *title;
    const char *old_labels; /* NULL: no old pod (add) */
    const char *new_labels; /* NULL: no new pod (delete) */
    const char *want;
};

static const struct svc_def pod_services[] = {
    {"web", ON, "\"app\":\"web\""},
    {"web2", "\"zen-lead.io/enabled\":\" TRUE \"", "\"app\":\"web\""},
    {"off", "", "\"app\":\"web\""},
    {"bad", "\"zen-lead.io/enabled\":\"yes\"", "\"app\":\"web\""},
    {"db", ON, "\"app\":\"db\",\"tier\":\"x\""},
    {"nosel", ON, ""},
};

static const struct pod_case pod_cases[] = {
    {"add matching", NULL, "\"app\":\"web\"", "t/web,t/web2"},
    {"delete matching", "\"app\":\"web\"", NULL, "t/web,t/web2"},
    {"relabel out: old labels count", "\"app\":\"web\"", "\"app\":\"x\"",
     "t/web,t/web2"},
    {"relabel in: new labels count", "\"app\":\"x\"", "\"app\":\"web\"",
     "t/web,t/web2"},
    {"moves between Services", "\"app\":\"web\"",
     "\"app\":\"db\",\"tier\":\"x\"", "t/web,t/web2,t/db"},
    {"partial selector match", NULL, "\"app\":\"db\"", ""},
    {"no labels", NULL, "", ""},
};

Test(mapping, pod_to_enabled_matching_services)
{
    struct views_service *svcs[6];
    size_t n = sizeof(pod_services) / sizeof(*pod_services);
    for (size_t i = 0; i < n; i++)
        svcs[i] =
            service("t", pod_services[i].name, pod_services[i].annotations, "",
                    pod_services[i].selector);
    struct views_service *elsewhere =
        service("u", "web", ON, "", "\"app\":\"web\"");
    const struct views_service *list[7];
    for (size_t i = 0; i < n; i++)
        list[i] = svcs[i];
    list[n] = elsewhere; /* another namespace: never matched */
    for (size_t c = 0; c < sizeof(pod_cases) / sizeof(*pod_cases); c++) {
        const struct pod_case *pc = &pod_cases[c];
        struct views_pod *o = pc->old_labels ? pod("t", pc->old_labels) : NULL;
        struct views_pod *w = pc->new_labels ? pod("t", pc->new_labels) : NULL;
        struct seen s = {0};
        char got[512];
        size_t k = mapping_pod(o, w, list, n + 1, collect, &s);
        joined(&s, got, sizeof(got));
        cr_expect_str_eq(got, pc->want, "%s", pc->title);
        cr_expect_eq(k, s.count, "%s", pc->title);
        views_release(o);
        views_release(w);
    }
    for (size_t i = 0; i < n; i++)
        views_release(svcs[i]);
    views_release(elsewhere);
}

#define MANAGED                                                                \
    "\"app.kubernetes.io/managed-by\":\"zen-lead\",\"zen-lead.io/source-"      \
    "service\":\"web\""

struct service_case {
    const char *title;
    const char *name;
    const char *labels;
    const char *want;
};

static const struct service_case service_cases[] = {
    {"a source maps to itself", "web", "", "t/web"},
    {"our leader Service maps to its source", "web-leader", MANAGED, "t/web"},
    {"an unrelated Service maps to itself and to sources claiming it", "custom",
     "", "t/custom,t/named"},
    {"a foreign Service named like a default leader name", "other-leader", "",
     "t/other-leader,t/other"},
    {"managed-by someone else is not ours", "x-leader",
     "\"app.kubernetes.io/managed-by\":\"helm\",\"zen-lead.io/source-"
     "service\":\"web\"",
     "t/x-leader"},
};

Test(mapping, service_to_keys)
{
    struct views_service *others[] = {
        service("t", "web", ON, "", "\"app\":\"web\""),
        service("t", "named",
                ON ",\"zen-lead.io/leader-service-name\":\" "
                   "custom \"",
                "", "\"app\":\"web\""),
        service("t", "other", ON, "", "\"app\":\"o\""),
        service("t", "x", "", "", "\"app\":\"o\""), /* not enabled */
    };
    const struct views_service *list[4];
    for (size_t i = 0; i < 4; i++)
        list[i] = others[i];
    for (size_t c = 0; c < sizeof(service_cases) / sizeof(*service_cases);
         c++) {
        const struct service_case *sc = &service_cases[c];
        struct views_service *svc = service("t", sc->name, "", sc->labels, "");
        struct seen s = {0};
        char got[512];
        mapping_service(svc, list, 4, collect, &s);
        joined(&s, got, sizeof(got));
        cr_expect_str_eq(got, sc->want, "%s", sc->title);
        views_release(svc);
    }
    for (size_t i = 0; i < 4; i++)
        views_release(others[i]);
}

Test(mapping, drifted_leader_service_to_its_owner)
{
    const char *json =
        "{\"metadata\":{\"namespace\":\"t\",\"name\":\"web-leader\","
        "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Service\","
        "\"name\":\"web\",\"uid\":\"u\",\"controller\":true}]},\"spec\":{}}";
    struct views_service *svc = NULL;
    cr_assert_eq(views_service_parse(json, strlen(json), &svc), ZL_OK);
    struct seen s = {0};
    char got[256];
    mapping_service(svc, NULL, 0, collect, &s);
    joined(&s, got, sizeof(got));
    cr_expect_str_eq(got, "t/web-leader,t/web");
    views_release(svc);
}

Test(mapping, slice_to_source)
{
    static const char *const cases[][2] = {
        {"\"zen-lead.io/source-service\":\"web\"", "t/web"},
        {"\"zen-lead.io/source-service\":\"\"", ""},
        {"", ""},
    };
    for (size_t c = 0; c < 3; c++) {
        char json[512];
        struct views_endpointslice *eps = NULL;
        snprintf(json, sizeof(json),
                 "{\"metadata\":{\"namespace\":\"t\",\"name\":\"s\","
                 "\"labels\":{%s}},\"addressType\":\"IPv4\"}",
                 cases[c][0]);
        cr_assert_eq(views_endpointslice_parse(json, strlen(json), &eps),
                     ZL_OK);
        struct seen s = {0};
        char got[256];
        mapping_slice(eps, collect, &s);
        joined(&s, got, sizeof(got));
        cr_expect_str_eq(got, cases[c][1], "labels {%s}", cases[c][0]);
        views_release(eps);
    }
}

/* The pods a managed slice routes to: ready endpoints whose targetRef
 * is a Pod, in order. */
Test(mapping, slice_pods)
{
    static const char *const cases[][2] = {
        {"", ""},
        {"{\"addresses\":[\"10.0.0.1\"],\"targetRef\":{\"kind\":\"Pod\","
         "\"name\":\"db-0\"}}",
         "t/db-0"},
        {"{\"addresses\":[\"10.0.0.1\"],\"conditions\":{\"ready\":false},"
         "\"targetRef\":{\"kind\":\"Pod\",\"name\":\"db-0\"}}",
         ""},
        {"{\"addresses\":[\"10.0.0.1\"],\"targetRef\":{\"kind\":\"Node\","
         "\"name\":\"n1\"}}",
         ""},
        {"{\"addresses\":[\"10.0.0.1\"]},"
         "{\"addresses\":[\"10.0.0.2\"],\"targetRef\":{\"name\":\"db-9\"}}",
         ""},
        {"{\"addresses\":[\"10.0.0.1\"],\"targetRef\":{\"kind\":\"Pod\","
         "\"name\":\"db-0\"}},{\"addresses\":[\"10.0.0.2\"],"
         "\"targetRef\":{\"kind\":\"Pod\",\"name\":\"db-1\"}}",
         "t/db-0,t/db-1"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
        char json[1024];
        struct views_endpointslice *eps = NULL;
        snprintf(json, sizeof(json),
                 "{\"metadata\":{\"namespace\":\"t\",\"name\":\"s\"},"
                 "\"addressType\":\"IPv4\",\"endpoints\":[%s]}",
                 cases[c][0]);
        cr_assert_eq(views_endpointslice_parse(json, strlen(json), &eps), ZL_OK,
                     "%s", json);
        struct seen s = {0};
        char got[256];
        size_t n = mapping_slice_pods(eps, collect, &s);
        joined(&s, got, sizeof(got));
        cr_expect_str_eq(got, cases[c][1], "endpoints [%s]", cases[c][0]);
        cr_expect_eq(n, s.count);
        views_release(eps);
    }
}

struct relevant_case {
    const char *title;
    const char *patch; /* JSON of the new pod's extra status/metadata */
    bool want;
};

static struct views_pod *pod_with(const char *status, const char *meta)
{
    char json[2048];
    struct views_pod *p = NULL;
    snprintf(json, sizeof(json),
             "{\"metadata\":{\"namespace\":\"t\",\"name\":\"p\",\"uid\":"
             "\"u1\",\"labels\":{\"app\":\"web\"}%s},\"spec\":{\"nodeName\":"
             "\"n1\",\"containers\":[{\"name\":\"c\",\"ports\":[{\"name\":"
             "\"http\",\"containerPort\":8080}]}]},\"status\":{\"phase\":"
             "\"Running\",\"podIP\":\"10.0.0.1\",\"conditions\":[{\"type\":"
             "\"Ready\",\"status\":\"True\",\"lastTransitionTime\":"
             "\"2024-01-01T00:00:00Z\"}]%s}}",
             meta, status);
    cr_assert_eq(views_pod_parse(json, strlen(json), &p), ZL_OK, "%s", json);
    return p;
}

Test(mapping, pod_relevant)
{
    static const struct {
        const char *title;
        const char *status;
        const char *meta;
        bool want;
    } cases[] = {
        {"identical (a resync or an unrelated field)", "", "", false},
        {"annotations only", "",
         ",\"annotations\":{\"x\":\"y\"},\"resourceVersion\":\"9\"", false},
        {"deletionTimestamp", "",
         ",\"deletionTimestamp\":\"2024-01-01T00:00:01Z\"", true},
        {"labels", "", ",\"labels\":{\"app\":\"x\"}", true},
        {"uid (recreated)", "", ",\"uid\":\"u2\"", true},
    };
    struct views_pod *base = pod_with("", "");
    for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
        struct views_pod *p = pod_with(cases[c].status, cases[c].meta);
        cr_expect_eq(mapping_pod_relevant(base, p), cases[c].want, "%s",
                     cases[c].title);
        views_release(p);
    }
    cr_expect(mapping_pod_relevant(NULL, base), "an add counts");
    cr_expect(mapping_pod_relevant(base, NULL), "a delete counts");
    views_release(base);
}

Test(mapping, pod_relevant_status)
{
    static const char *const json[] = {
        /* Ready flips */
        "{\"metadata\":{\"namespace\":\"t\",\"name\":\"p\",\"uid\":\"u1\"},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\","
        "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}",
        /* IP lost */
        "{\"metadata\":{\"namespace\":\"t\",\"name\":\"p\",\"uid\":\"u1\"},"
        "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
        "\"Ready\",\"status\":\"True\"}]}}",
        /* phase */
        "{\"metadata\":{\"namespace\":\"t\",\"name\":\"p\",\"uid\":\"u1\"},"
        "\"status\":{\"phase\":\"Failed\",\"podIP\":\"10.0.0.1\","
        "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
    };
    const char *base_json =
        "{\"metadata\":{\"namespace\":\"t\",\"name\":\"p\",\"uid\":\"u1\"},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\","
        "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}";
    struct views_pod *base = NULL;
    cr_assert_eq(views_pod_parse(base_json, strlen(base_json), &base), ZL_OK);
    for (size_t c = 0; c < 3; c++) {
        struct views_pod *p = NULL;
        cr_assert_eq(views_pod_parse(json[c], strlen(json[c]), &p), ZL_OK);
        cr_expect(mapping_pod_relevant(base, p), "case %zu", c);
        views_release(p);
    }
    views_release(base);
}

Test(mapping, keys)
{
    char key[MAPPING_MAX_KEY], ns[MAPPING_MAX_KEY], name[MAPPING_MAX_KEY];
    cr_assert_eq(mapping_key("ns", "svc", key), ZL_OK);
    cr_expect_str_eq(key, "ns/svc");
    cr_assert_eq(mapping_split(key, ns, name), ZL_OK);
    cr_expect_str_eq(ns, "ns");
    cr_expect_str_eq(name, "svc");
    cr_expect_eq(mapping_key("", "svc", key), ZL_ERR_LIMIT);
    static const char *const bad[] = {"nosep", "/x", "x/", ""};
    for (size_t i = 0; i < 4; i++)
        cr_expect_eq(mapping_split(bad[i], ns, name), ZL_ERR_INVALID, "%s",
                     bad[i]);
}

Test(mapping, claimed_name)
{
    struct views_service *a = service("t", "web", ON, "", "\"app\":\"w\"");
    struct views_service *b = service(
        "t", "web", ON ",\"zen-lead.io/leader-service-name\":\" lead \"", "",
        "\"app\":\"w\"");
    char out[MAPPING_MAX_KEY];
    mapping_claimed_name(a, out);
    cr_expect_str_eq(out, "web-leader");
    mapping_claimed_name(b, out);
    cr_expect_str_eq(out, "lead");
    views_release(a);
    views_release(b);
}
