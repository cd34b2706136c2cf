/* SPDX-License-Identifier: Apache-2.0 */
/* The event recorder against a real API server: the same warning recorded
 * three times quickly is one Event with count 3; another message is a
 * second Event. Needs KUBECONFIG (run by tests/integration/run). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/kubeconfig.h"

struct found {
    int events;
    long count;
    char type[16], component[64], reporting[64], reason[64];
};

/* Looks at the Events of the object uid carrying message. */
static void find_events(struct client *c, const char *uid, const char *message,
                        struct found *out)
{
    char selector[128];
    snprintf(selector, sizeof(selector), "involvedObject.uid=%s", uid);
    struct client_list_options lo = {.field_selector = selector};
    struct client_response r;
    client_response_init(&r);
    cr_assert_eq(client_list(c, &CLIENT_EVENTS, "default", &lo, &r), ZL_OK);
    struct json_object *root = NULL, *items;
    cr_assert_eq(json_parse_object(r.body.data, r.body.len, &root), ZL_OK);
    cr_assert(json_object_object_get_ex(root, "items", &items));
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        struct json_object *ev = json_object_array_get_idx(items, i), *v, *src;
        json_object_object_get_ex(ev, "message", &v);
        if (strcmp(json_object_get_string(v), message) != 0)
            continue;
        out->events++;
        json_object_object_get_ex(ev, "count", &v);
        out->count = (long)json_object_get_int64(v);
        json_object_object_get_ex(ev, "type", &v);
        snprintf(out->type, sizeof(out->type), "%s", json_object_get_string(v));
        json_object_object_get_ex(ev, "reason", &v);
        snprintf(out->reason, sizeof(out->reason), "%s",
                 json_object_get_string(v));
        json_object_object_get_ex(ev, "reportingComponent", &v);
        snprintf(out->reporting, sizeof(out->reporting), "%s",
                 json_object_get_string(v));
        json_object_object_get_ex(ev, "source", &src);
        json_object_object_get_ex(src, "component", &v);
        snprintf(out->component, sizeof(out->component), "%s",
                 json_object_get_string(v));
    }
    json_object_put(root);
    client_response_cleanup(&r);
}

Test(events_it, repeats_aggregate_into_one_event, .timeout = 60)
{
    struct kube_config cfg;
    struct kubeconfig_error err;
    const char *path = getenv("KUBECONFIG");
    cr_assert(path != NULL, "KUBECONFIG is not set");
    cr_assert_eq(kubeconfig_load_file(path, NULL, &cfg, &err), ZL_OK, "%s",
                 err.text);
    struct client_options copt = {.qps = 50, .burst = 100};
    struct client *c = NULL;
    cr_assert_eq(client_new(&cfg, &copt, &c), ZL_OK);
    struct events_options opt = {
        .source = {"zen-lead-controller", "it-host", "events-it"}};
    struct events_recorder *r = NULL;
    cr_assert_eq(events_recorder_new(c, &opt, &r), ZL_OK);

    char name[64], uid[64];
    snprintf(name, sizeof(name), "events-it-%d", (int)getpid());
    snprintf(uid, sizeof(uid), "0e5a1c2d-%04x-4000-8000-%012lx",
             (unsigned)getpid() & 0xffff, (unsigned long)random());
    struct events_object obj = {"Service", "v1", "default", name, uid, "1"};
    for (int i = 0; i < 3; i++)
        events_record(r, &obj, EVENTS_WARNING, "NoReadyPods",
                      "no ready pods for %s", name);
    events_record(r, &obj, EVENTS_WARNING, "NoReadyPods",
                  "no pods at all for %s", name);
    cr_assert_eq(events_flush(r, 30000), ZL_OK);
    cr_assert_eq(events_dropped(r), 0);
    cr_assert_eq(events_written(r), 4);

    char msg[128];
    struct found f;
    snprintf(msg, sizeof(msg), "no ready pods for %s", name);
    find_events(c, uid, msg, &f);
    cr_assert_eq(f.events, 1, "one Event for the repeated warning");
    cr_assert_eq(f.count, 3);
    cr_assert_str_eq(f.type, "Warning");
    cr_assert_str_eq(f.reason, "NoReadyPods");
    cr_assert_str_eq(f.component, "zen-lead-controller");
    cr_assert_str_eq(f.reporting, "zen-lead-controller");
    snprintf(msg, sizeof(msg), "no pods at all for %s", name);
    find_events(c, uid, msg, &f);
    cr_assert_eq(f.events, 1, "a different message is a second Event");
    cr_assert_eq(f.count, 1);
    printf("events_it: 3 repeats -> 1 Event count 3; other message -> "
           "second Event\n");

    events_recorder_free(r);
    client_free(c);
    kubeconfig_cleanup(&cfg);
}
