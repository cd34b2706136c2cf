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
