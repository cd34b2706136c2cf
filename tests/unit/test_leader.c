/* SPDX-License-Identifier: Apache-2.0 */
/* Leader choice, table-driven: every case of every .json file in
 * tests/data/leader builds a Service, settings, pods and a current leader
 * from a compact form, runs leader_choose and checks the whole decision. A
 * new case needs no C. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "zenlead/leader.h"

/* Every allocation of one case, freed together. Strings are borrowed from
 * the case's JSON, which outlives the views. */
struct arena {
    void **ptrs;
    size_t count;
    size_t cap;
};

static void *arena_alloc(struct arena *a, size_t size)
{
    if (a->count == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->ptrs = realloc(a->ptrs, a->cap * sizeof(void *));
        cr_assert_not_null(a->ptrs);
    }
    void *p = calloc(1, size ? size : 1);
    cr_assert_not_null(p);
    a->ptrs[a->count++] = p;
    return p;
}

static void arena_free(struct arena *a)
{
    for (size_t i = 0; i < a->count; i++)
        free(a->ptrs[i]);
    free(a->ptrs);
}

static struct json_object *get(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

static bool has(struct json_object *obj, const char *key)
{
    return obj != NULL && json_object_object_get_ex(obj, key, NULL);
}

static const char *str_or(struct json_object *obj, const char *key,
                          const char *def)
{
    struct json_object *v = get(obj, key);
    return v != NULL ? json_object_get_string(v) : def;
}

static int64_t time_or(struct json_object *obj, const char *key, int64_t def)
{
    struct json_object *v = get(obj, key);
    return v != NULL ? json_object_get_int64(v) : def;
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct views_kv *)a)->key,
                  ((const struct views_kv *)b)->key);
}

static struct views_map build_map(struct arena *a, struct json_object *obj)
{
    struct views_map map = {0};
    size_t n = obj != NULL ? (size_t)json_object_object_length(obj) : 0;
    map.items = arena_alloc(a, n * sizeof(*map.items));
    json_object_object_foreach(obj, key, val)
    {
        map.items[map.count].key = key;
        map.items[map.count].value = json_object_get_string(val);
        map.count++;
    }
    qsort(map.items, map.count, sizeof(*map.items), cmp_kv);
    return map;
}

static enum views_protocol build_proto(struct json_object *obj)
{
    enum views_protocol proto = VIEWS_PROTO_TCP;
    const char *text = str_or(obj, "protocol", "TCP");
    cr_assert_eq(views_protocol_parse(text, &proto), ZL_OK, "protocol %s",
                 text);
    return proto;
}

static enum views_ip_family build_family(const char *text)
{
    if (strcmp(text, "IPv6") == 0)
        return VIEWS_IPV6;
    cr_assert_str_eq(text, "IPv4");
    return VIEWS_IPV4;
}

/* service: {namespace, selector, ipFamilies, ports[{name, port,
 * targetPort (number or name), protocol}]}, with defaults for each. */
static struct views_service *build_service(struct arena *a,
                                           struct json_object *obj,
                                           struct json_object *defaults)
{
    struct views_service *svc = arena_alloc(a, sizeof(*svc));
    struct json_object *sel = get(obj, "selector");
    struct json_object *fams = get(obj, "ipFamilies");
    struct json_object *ports = get(obj, "ports");

    svc->meta.namespace_name = str_or(obj, "namespace", "ns");
    svc->meta.name = "db";
    svc->meta.uid = "uid-svc";
    svc->selector = build_map(a, sel != NULL ? sel : get(defaults, "sel"));
    svc->has_selector = svc->selector.count > 0;
    svc->meta.created_ms = VIEWS_TIME_NONE;
    svc->meta.deleted_ms = VIEWS_TIME_NONE;
    for (size_t i = 0; fams != NULL && i < json_object_array_length(fams); i++)
        svc->ip_families[svc->ip_family_count++] = build_family(
            json_object_get_string(json_object_array_get_idx(fams, i)));
    if (ports == NULL)
        ports = get(defaults, "ports");
    svc->port_count = json_object_array_length(ports);
    svc->ports = arena_alloc(a, svc->port_count * sizeof(*svc->ports));
    for (size_t i = 0; i < svc->port_count; i++) {
        struct json_object *p = json_object_array_get_idx(ports, i);
        struct json_object *tp = get(p, "targetPort");
        struct views_service_port *sp = &svc->ports[i];
        sp->name = str_or(p, "name", "");
        sp->port = json_object_get_int(get(p, "port"));
        sp->protocol = build_proto(p);
        if (tp != NULL && json_object_is_type(tp, json_type_string))
            sp->target_port_name = json_object_get_string(tp);
        else
            sp->target_port = tp != NULL ? json_object_get_int(tp) : sp->port;
    }
    return svc;
}

static enum views_pod_phase build_phase(const char *text)
{
    static const char *const names[] = {"Unknown", "Pending", "Running",
                                        "Succeeded", "Failed"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(text, names[i]) == 0)
            return (enum views_pod_phase)i;
    }
    cr_assert_fail("unknown phase %s", text);
    return VIEWS_PHASE_UNKNOWN;
}

/* pod: {name, uid (uid-<name>), namespace (ns), labels ({app: db}),
 * created, deleted, phase (Running), ready (true), readySince, ipv4
 * (10.0.0.<n>; null for none), ipv6, ports[{name, port, protocol}],
 * node}. */
static struct views_pod *build_pod(struct arena *a, struct json_object *obj,
                                   size_t index, struct json_object *defaults)
{
    struct views_pod *pod = arena_alloc(a, sizeof(*pod));
    struct json_object *labels = get(obj, "labels");
    struct json_object *ports = get(obj, "ports");
    char *text;

    pod->meta.name = str_or(obj, "name", NULL);
    cr_assert_not_null(pod->meta.name, "pod %zu has no name", index);
    text = arena_alloc(a, strlen(pod->meta.name) + 5);
    snprintf(text, strlen(pod->meta.name) + 5, "uid-%s", pod->meta.name);
    pod->meta.uid = str_or(obj, "uid", text);
    pod->meta.namespace_name = str_or(obj, "namespace", "ns");
    pod->node_name = str_or(obj, "node", "");
    pod->meta.labels =
        build_map(a, labels != NULL ? labels : get(defaults, "sel"));
    cr_assert(has(obj, "created"), "pod %s has no created", pod->meta.name);
    pod->meta.created_ms = time_or(obj, "created", 0);
    pod->meta.deleted_ms = time_or(obj, "deleted", VIEWS_TIME_NONE);
    pod->phase = build_phase(str_or(obj, "phase", "Running"));
    pod->ready =
        has(obj, "ready") ? json_object_get_boolean(get(obj, "ready")) : true;
    pod->ready_changed_ms = time_or(obj, "readySince", VIEWS_TIME_NONE);
    text = arena_alloc(a, 32);
    snprintf(text, 32, "10.0.0.%zu", index + 1);
    pod->ip[VIEWS_IPV4] = has(obj, "ipv4") ? str_or(obj, "ipv4", NULL) : text;
    pod->ip[VIEWS_IPV6] = str_or(obj, "ipv6", NULL);
    pod->port_count = ports != NULL ? json_object_array_length(ports) : 0;
    pod->ports = arena_alloc(a, pod->port_count * sizeof(*pod->ports));
    for (size_t i = 0; i < pod->port_count; i++) {
        struct json_object *p = json_object_array_get_idx(ports, i);
        pod->ports[i].name = str_or(p, "name", "");
        pod->ports[i].port = json_object_get_int(get(p, "port"));
        pod->ports[i].protocol = build_proto(p);
    }
    return pod;
}

static bool check_str(const char *label, const char *what, const char *got,
                      const char *want)
{
    if ((got == NULL && want == NULL) ||
        (got != NULL && want != NULL && strcmp(got, want) == 0))
        return true;
    fprintf(stderr, "%s: %s is \"%s\", want \"%s\"\n", label, what,
            got ? got : "(null)", want ? want : "(null)");
    return false;
}

static bool check_int(const char *label, const char *what, int64_t got,
                      int64_t want)
{
    if (got == want)
        return true;
    fprintf(stderr, "%s: %s is %lld, want %lld\n", label, what, (long long)got,
            (long long)want);
    return false;
}

static bool check_decision(const char *label, const struct leader_decision *d,
                           struct json_object *want)
{
    bool ok = true;
    const char *want_leader = str_or(want, "leader", NULL);
    struct json_object *next = get(want, "next");

    cr_assert(has(want, "leader") && has(want, "changed") &&
                  has(want, "candidates") && has(want, "next"),
              "%s: expect needs leader, changed, candidates, next", label);
    ok &= check_str(label, "leader", d->leader ? d->leader->meta.name : NULL,
                    want_leader);
    ok &= check_int(label, "endpoint_ready", d->endpoint_ready,
                    has(want, "ready")
                        ? json_object_get_boolean(get(want, "ready"))
                        : want_leader != NULL);
    ok &= check_int(label, "grace", d->grace,
                    json_object_get_boolean(get(want, "grace")));
    ok &= check_int(label, "changed", d->changed,
                    json_object_get_boolean(get(want, "changed")));
    ok &= check_str(label, "reason", leader_reason_name(d->reason),
                    str_or(want, "reason", ""));
    ok &= check_str(label, "problem", leader_problem_name(d->problem),
                    str_or(want, "problem", ""));
    ok &= check_str(label, "problem_port", d->problem_port,
                    str_or(want, "problemPort", NULL));
    ok &= check_str(label, "problem_message", d->problem_message,
                    str_or(want, "message", NULL));
    ok &= check_int(label, "candidates", (int64_t)d->candidate_count,
                    json_object_get_int64(get(want, "candidates")));
    ok &=
        check_int(label, "next_check_ms", d->next_check_ms,
                  next != NULL ? json_object_get_int64(next) : VIEWS_TIME_NONE);
    return ok;
}

/* leader_check_pod, which explanations use, agrees with the decision on
 * every pod of the case: the candidates are the pods without a fault, a
 * leader is a candidate (eligible unless it was the current leader) or
 * the current leader kept in grace with only notReady against it, and a
 * port fault names the port that is missing. */
static bool check_pods_agree(const char *label, const struct leader_input *in,
                             const struct leader_decision *d)
{
    size_t candidates = 0;
    bool ok = true;
    for (size_t i = 0; i < in->pod_count; i++) {
        struct leader_pod_check c;
        const struct views_pod *pod = in->pods[i];
        cr_assert_eq(leader_check_pod(in->service, in->settings, pod, &c),
                     ZL_OK);
        if (strcmp(pod->meta.namespace_name, "ns") == 0 &&
            c.fault == LEADER_REASON_NONE)
            candidates++;
        if (c.fault == LEADER_REASON_PORT_RESOLUTION && c.missing_port == NULL)
            ok = false;
        if (pod != d->leader)
            continue;
        bool current = in->current.uid != NULL &&
                       strcmp(in->current.uid, pod->meta.uid) == 0;
        if (d->grace)
            ok &= c.fault == LEADER_REASON_NOT_READY;
        else
            ok &= c.fault == LEADER_REASON_NONE &&
                  (current || c.eligible_at_ms <= in->now_ms);
    }
    ok &= candidates == d->candidate_count;
    if (!ok)
        fprintf(stderr, "%s: leader_check_pod disagrees with the decision\n",
                label);
    return ok;
}

static bool run_case(const char *file, struct json_object *c,
                     struct json_object *defaults)
{
    struct arena a = {0};
    struct annotations_settings settings = {.enabled = true, .sticky = true};
    struct leader_input in = {0};
    struct leader_decision d;
    struct json_object *pods = get(c, "pods");
    struct json_object *cur = get(c, "current");
    char label[512];
    bool ok;

    snprintf(label, sizeof(label), "%s: %s", file, str_or(c, "name", "?"));
    if (has(c, "sticky"))
        settings.sticky = json_object_get_boolean(get(c, "sticky"));
    settings.min_ready_ms = time_or(c, "minReady", 0);
    settings.failover_min_delay_ms = time_or(c, "failoverDelay", 0);
    in.service = build_service(&a, get(c, "service"), defaults);
    in.settings = &settings;
    in.pod_count = pods != NULL ? json_object_array_length(pods) : 0;
    const struct views_pod **list =
        arena_alloc(&a, in.pod_count * sizeof(*list));
    for (size_t i = 0; i < in.pod_count; i++)
        list[i] =
            build_pod(&a, json_object_array_get_idx(pods, i), i, defaults);
    in.pods = list;
    in.current.uid = str_or(cur, "uid", NULL);
    in.current.name = str_or(cur, "name", NULL);
    cr_assert(has(c, "now"), "%s: no now", label);
    in.now_ms = time_or(c, "now", 0);

    cr_assert_eq(leader_choose(&in, &d), ZL_OK, "%s", label);
    ok = check_decision(label, &d, get(c, "expect"));
    ok &= check_pods_agree(label, &in, &d);
    leader_decision_cleanup(&d);
    arena_free(&a);
    return ok;
}

static size_t run_file(const char *file, size_t *failed)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "leader/%s", file);
    char *text = testutil_read(rel, NULL);
    cr_assert_not_null(text);
    struct json_object *root = testutil_json(text);
    cr_assert_not_null(root, "%s is not JSON", rel);
    struct json_object *cases = get(root, "cases");
    struct json_object *defaults = testutil_json(
        "{\"sel\": {\"app\": \"db\"}, \"ports\": "
        "[{\"name\": \"\", \"port\": 80, \"targetPort\": 8080}]}");
    size_t n = json_object_array_length(cases);

    for (size_t i = 0; i < n; i++) {
        if (!run_case(file, json_object_array_get_idx(cases, i), defaults))
            (*failed)++;
    }
    json_object_put(defaults);
    json_object_put(root);
    free(text);
    return n;
}

Test(leader, data_driven_cases)
{
    char **files;
    size_t file_count = testutil_list("leader", ".json", &files);
    size_t total = 0, failed = 0;

    cr_assert_gt(file_count, 0, "no files in tests/data/leader");
    for (size_t i = 0; i < file_count; i++)
        total += run_file(files[i], &failed);
    testutil_free_names(files, file_count);
    fprintf(stderr, "leader: %zu cases, %zu failed\n", total, failed);
    cr_expect_geq(total, 40);
    cr_expect_eq(failed, 0, "%zu of %zu leader cases failed", failed, total);
}

Test(leader, check_pod_rejects_missing_inputs)
{
    struct leader_pod_check c;
    struct annotations_settings settings = {.sticky = true};
    struct views_service svc = {0};
    struct views_pod pod = {0};
    cr_expect_eq(leader_check_pod(NULL, &settings, &pod, &c), ZL_ERR_INVALID);
    cr_expect_eq(leader_check_pod(&svc, NULL, &pod, &c), ZL_ERR_INVALID);
    cr_expect_eq(leader_check_pod(&svc, &settings, NULL, &c), ZL_ERR_INVALID);
    cr_expect_eq(leader_check_pod(&svc, &settings, &pod, NULL), ZL_ERR_INVALID);
}

Test(leader, rejects_missing_inputs)
{
    struct leader_decision d;
    struct annotations_settings settings = {.sticky = true};
    struct views_service svc = {0};
    struct leader_input in = {.service = &svc, .settings = &settings};

    cr_expect_eq(leader_choose(NULL, &d), ZL_ERR_INVALID);
    cr_expect_eq(leader_choose(&in, NULL), ZL_ERR_INVALID);
    in.pod_count = 1;
    cr_expect_eq(leader_choose(&in, &d), ZL_ERR_INVALID);
    in.pod_count = 0;
    in.settings = NULL;
    cr_expect_eq(leader_choose(&in, &d), ZL_ERR_INVALID);
    leader_decision_cleanup(&d);
    leader_decision_cleanup(NULL);
}

Test(leader, selectorless_service_has_no_pods)
{
    struct leader_decision d;
    struct annotations_settings settings = {.sticky = true};
    struct views_service svc = {.meta = {.namespace_name = "ns"}};
    struct views_kv kv = {"app", "db"};
    struct views_pod pod = {.meta = {.namespace_name = "ns",
                                     .name = "a",
                                     .uid = "uid-a",
                                     .labels = {&kv, 1},
                                     .deleted_ms = VIEWS_TIME_NONE},
                            .phase = VIEWS_PHASE_RUNNING,
                            .ready = true,
                            .ready_changed_ms = VIEWS_TIME_NONE,
                            .ip = {"10.0.0.1", NULL}};
    const struct views_pod *pods[] = {&pod};
    struct leader_input in = {
        .service = &svc, .settings = &settings, .pods = pods, .pod_count = 1};

    cr_assert_eq(leader_choose(&in, &d), ZL_OK);
    cr_expect_null(d.leader);
    cr_expect_eq(d.problem, LEADER_PROBLEM_NO_PODS_FOUND);
    leader_decision_cleanup(&d);
}

Test(leader, names_every_reason_and_problem)
{
    static const char *const reasons[] = {
        "",        "terminating", "notReady",       "noIP",
        "deleted", "relabeled",   "portResolution", "preempted"};
    static const char *const problems[] = {
        "", "NoPodsFound", "PortResolutionFailed", "NoReadyPods"};
    for (int i = 0; i <= LEADER_REASON_PREEMPTED; i++)
        cr_expect_str_eq(leader_reason_name((enum leader_reason)i), reasons[i]);
    for (int i = 0; i <= LEADER_PROBLEM_NO_READY_PODS; i++)
        cr_expect_str_eq(leader_problem_name((enum leader_problem)i),
                         problems[i]);
}
