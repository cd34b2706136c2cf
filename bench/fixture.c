/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark objects (see fixture.h). */
#include "fixture.h"

#include <stdio.h>

#define FIXTURE_JSON_MAX 2048

void fixture_ipv4(unsigned n, char out[FIXTURE_IP_MAX])
{
    snprintf(out, FIXTURE_IP_MAX, "10.244.%u.%u", (n / 250) % 256, n % 250 + 1);
}

enum zl_err fixture_namespace(struct bk *b, const char *ns)
{
    char json[256];
    snprintf(json, sizeof(json),
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
             "\"metadata\":{\"name\":\"%s\"}}",
             ns);
    enum zl_err rc = bk_create(b, BK_NAMESPACE, NULL, json);
    return rc == ZL_ERR_EXISTS ? ZL_OK : rc;
}

void fixture_namespace_delete(struct bk *b, const char *ns)
{
    bk_delete_all(b, BK_POD, ns, 0);
    bk_delete(b, BK_NAMESPACE, NULL, ns, -1);
}

enum zl_err fixture_node(struct bk *b, const char *node)
{
    char json[FIXTURE_JSON_MAX];
    char now[32];
    snprintf(json, sizeof(json),
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":"
             "{\"name\":\"%s\",\"labels\":{\"kubernetes.io/hostname\":\"%s\","
             "\"kubernetes.io/os\":\"linux\"}}}",
             node, node);
    enum zl_err rc = bk_create(b, BK_NODE, NULL, json);
    if (rc != ZL_OK && rc != ZL_ERR_EXISTS)
        return rc;
    bk_now_rfc3339(now);
    snprintf(json, sizeof(json),
             "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
             "\"True\",\"reason\":\"ZlBench\",\"lastHeartbeatTime\":\"%s\","
             "\"lastTransitionTime\":\"%s\"}]}}",
             now, now);
    return bk_patch(b, BK_NODE, NULL, node, "status", json);
}

enum zl_err fixture_service(struct bk *b, const char *ns, const char *name)
{
    char json[FIXTURE_JSON_MAX];
    snprintf(json, sizeof(json),
             "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
             "{\"name\":\"%s\",\"annotations\":{\"zen-lead.io/enabled\":"
             "\"true\"}},\"spec\":{\"selector\":{\"app\":\"%s\"},"
             "\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":%d,"
             "\"protocol\":\"TCP\"}]}}",
             name, name, FIXTURE_PORT);
    return bk_create(b, BK_SERVICE, ns, json);
}

enum zl_err fixture_pod(struct bk *b, const char *ns, const char *name,
                        const char *app, const char *node)
{
    char json[FIXTURE_JSON_MAX];
    snprintf(json, sizeof(json),
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
             "{\"name\":\"%s\",\"labels\":{\"app\":\"%s\"}},\"spec\":"
             "{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":30,"
             "\"containers\":[{\"name\":\"app\",\"image\":"
             "\"zl-test.invalid/app:0\",\"ports\":[{\"containerPort\":%d,"
             "\"protocol\":\"TCP\"}]}]}}",
             name, app, node, FIXTURE_PORT);
    return bk_create(b, BK_POD, ns, json);
}

enum zl_err fixture_pod_status(struct bk *b, const char *ns, const char *name,
                               bool ready, const char *ip)
{
    char json[FIXTURE_JSON_MAX];
    char ips[128] = "";
    char now[32];
    const char *s = ready ? "True" : "False";
    bk_now_rfc3339(now);
    if (ip != NULL)
        snprintf(ips, sizeof(ips),
                 ",\"podIP\":\"%s\",\"podIPs\":[{\"ip\":"
                 "\"%s\"}]",
                 ip, ip);
    snprintf(json, sizeof(json),
             "{\"status\":{\"phase\":\"Running\"%s,\"conditions\":["
             "{\"type\":\"PodScheduled\",\"status\":\"True\","
             "\"lastTransitionTime\":\"%s\"},"
             "{\"type\":\"Initialized\",\"status\":\"True\","
             "\"lastTransitionTime\":\"%s\"},"
             "{\"type\":\"ContainersReady\",\"status\":\"%s\","
             "\"lastTransitionTime\":\"%s\"},"
             "{\"type\":\"Ready\",\"status\":\"%s\","
             "\"lastTransitionTime\":\"%s\"}]}}",
             ips, now, now, s, now, s, now);
    return bk_patch(b, BK_POD, ns, name, "status", json);
}

enum zl_err fixture_pod_clear_ip(struct bk *b, const char *ns, const char *name)
{
    return bk_patch(b, BK_POD, ns, name, "status",
                    "{\"status\":{\"podIP\":null,\"podIPs\":null}}");
}

enum zl_err fixture_ready_pod(struct bk *b, const char *ns, const char *name,
                              const char *app, const char *node, const char *ip)
{
    enum zl_err rc = fixture_pod(b, ns, name, app, node);
    if (rc == ZL_OK)
        rc = fixture_pod_status(b, ns, name, true, ip);
    return rc;
}
