/* SPDX-License-Identifier: Apache-2.0 */
/* The leader Service ownership test shared by the controller and the
 * webhook, one row per way a Service named <L> can be ours or a stranger's. */
#include <criterion/criterion.h>
#include <string.h>

#include "kube/views.h"
#include "zenlead/ownership.h"

struct ownership_case {
    const char *name;
    const char *json; /* the existing Service named web-leader */
    const char *source_uid;
    bool ours;
};

#define OWNER(kind, name, uid)                                                 \
    "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"" kind             \
    "\",\"name\":\"" name "\",\"uid\":\"" uid "\",\"controller\":true}]"
#define LABELS(src)                                                            \
    "\"labels\":{\"app.kubernetes.io/managed-by\":\"zen-lead\","               \
    "\"zen-lead.io/source-service\":\"" src "\"}"
#define SVC(meta) "{\"metadata\":{\"name\":\"web-leader\"," meta "}}"

static const struct ownership_case cases[] = {
    {"owned by the source's uid, labels drifted away",
     SVC(OWNER("Service", "web", "u-web")), "u-web", true},
    {"owned by uid and labelled",
     SVC(OWNER("Service", "web", "u-web") "," LABELS("web")), "u-web", true},
    {"made for an earlier source of that name (labels say so)",
     SVC(OWNER("Service", "web", "u-old") "," LABELS("web")), "u-web", true},
    {"source gone: the labels decide",
     SVC(OWNER("Service", "web", "u-old") "," LABELS("web")), NULL, true},
    {"an earlier owner without our labels is a stranger",
     SVC(OWNER("Service", "web", "u-old")), "u-web", false},
    {"owned by another source",
     SVC(OWNER("Service", "api", "u-web") "," LABELS("web")), "u-web", false},
    {"labelled for another source",
     SVC(OWNER("Service", "web", "u-old") "," LABELS("api")), "u-web", false},
    {"owned by a Deployment named like the source",
     SVC(OWNER("Deployment", "web", "u-web") "," LABELS("web")), "u-web",
     false},
    {"our labels without an owner are copied, not ours", SVC(LABELS("web")),
     "u-web", false},
    {"a plain Service", SVC("\"uid\":\"x\""), "u-web", false},
    {"an empty source uid matches no empty owner uid",
     SVC(OWNER("Service", "web", "")), "", false},
};

Test(ownership, tells_our_leader_services_from_strangers)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct views_service *svc = NULL;
        cr_assert_eq(
            views_service_parse(cases[i].json, strlen(cases[i].json), &svc),
            ZL_OK, "%s", cases[i].name);
        cr_assert_eq(ownership_leader_is_ours(svc, "web", cases[i].source_uid),
                     cases[i].ours, "%s", cases[i].name);
        views_release(svc);
    }
}

struct slice_case {
    const char *name;
    const char *json; /* an EndpointSlice named web-leader-ipv4 */
    const char *leader_uid;
    bool ours;
};

#define SLICE(meta) "{\"metadata\":{\"name\":\"web-leader-ipv4\"," meta "}}"

static const struct slice_case slice_cases[] = {
    {"owned by the leader Service's uid, labels drifted away",
     SLICE(OWNER("Service", "web-leader", "u-l")), "u-l", true},
    {"owned by a Service and labelled for the source by zen-lead",
     SLICE(OWNER("Service", "web-leader", "u-old") "," LABELS("web")), "u-l",
     true},
    {"labelled, leader uid unknown",
     SLICE(OWNER("Service", "web-leader", "u-old") "," LABELS("web")), NULL,
     true},
    {"owned by the leader's name with another uid, no labels",
     SLICE(OWNER("Service", "web-leader", "u-old")), "u-l", false},
    {"labelled for another source",
     SLICE(OWNER("Service", "web-leader", "u-old") "," LABELS("api")), "u-l",
     false},
    {"owned by a Deployment", SLICE(OWNER("Deployment", "web-leader", "u-l")),
     "u-l", false},
    {"labels without an owner are copied", SLICE(LABELS("web")), "u-l", false},
    {"the built-in controller's slice of the source",
     SLICE(OWNER("Service", "web", "u-web") ",\"labels\":{"
                                            "\"kubernetes.io/service-name\":"
                                            "\"web\"}"),
     "u-l", false},
};

Test(ownership, tells_our_slices_from_strangers)
{
    for (size_t i = 0; i < sizeof(slice_cases) / sizeof(slice_cases[0]); i++) {
        const struct slice_case *c = &slice_cases[i];
        struct views_endpointslice *eps = NULL;
        cr_assert_eq(views_endpointslice_parse(c->json, strlen(c->json), &eps),
                     ZL_OK, "%s", c->name);
        cr_assert_eq(
            ownership_slice_is_ours(eps, "web", "web-leader", c->leader_uid),
            c->ours, "%s", c->name);
        views_release(eps);
    }
}
