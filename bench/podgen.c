/* SPDX-License-Identifier: Apache-2.0 */
/* Pod documents modelled on a Deployment's pod read back from a real API
 * server (kubectl get -o json --show-managed-fields), with the fields that
 * vary per pod filled in from its number, and an exact heap meter that
 * wraps malloc for the whole program that links this file. */
#include "podgen.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Placeholders (not printf: %<digit> is replaced by that argument):
 * %1 namespace, %2 name, %3 uid, %4 resourceVersion, %5 node, %6 IPv4,
 * %7 IPv6, %8 ReplicaSet uid. */
static const char *const pod_template[] = {
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
    "\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":"
    "\"2026-11-20T08:14:03Z\",\"prometheus.io/scrape\":\"true\","
    "\"prometheus.io/port\":\"9102\"},"
    "\"creationTimestamp\":\"2026-11-26T01:26:19Z\","
    "\"generateName\":\"checkout-api-7d9f8c6b5d-\",\"generation\":1,"
    "\"labels\":{\"app.kubernetes.io/name\":\"checkout-api\","
    "\"app.kubernetes.io/instance\":\"checkout-api-prod\","
    "\"app.kubernetes.io/version\":\"2.14.3\","
    "\"app.kubernetes.io/component\":\"backend\","
    "\"app.kubernetes.io/part-of\":\"storefront\","
    "\"app.kubernetes.io/managed-by\":\"Helm\","
    "\"helm.sh/chart\":\"checkout-api-2.14.3\","
    "\"pod-template-hash\":\"7d9f8c6b5d\",\"team\":\"payments\","
    "\"environment\":\"production\"},"
    "\"managedFields\":[{\"apiVersion\":\"v1\",\"fieldsType\":\"FieldsV1\","
    "\"fieldsV1\":{\"f:metadata\":{\"f:annotations\":{\".\":{},"
    "\"f:kubectl.kubernetes.io/restartedAt\":{},\"f:prometheus.io/port\":{},"
    "\"f:prometheus.io/scrape\":{}},\"f:generateName\":{},\"f:labels\":{"
    "\".\":{},\"f:app.kubernetes.io/component\":{},"
    "\"f:app.kubernetes.io/instance\":{},\"f:app.kubernetes.io/managed-by\":{},"
    "\"f:app.kubernetes.io/name\":{},\"f:app.kubernetes.io/part-of\":{},"
    "\"f:app.kubernetes.io/version\":{},\"f:environment\":{},"
    "\"f:helm.sh/chart\":{},\"f:pod-template-hash\":{},\"f:team\":{}},"
    "\"f:ownerReferences\":{\".\":{},\"k:{\\\"uid\\\":\\\"%8\\\"}\":{}}},"
    "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"app\\\"}\":{\".\":{},"
    "\"f:env\":{\".\":{},\"k:{\\\"name\\\":\\\"GOMAXPROCS\\\"}\":{\".\":{},"
    "\"f:name\":{},\"f:valueFrom\":{}}},\"f:image\":{},\"f:imagePullPolicy\":{}"
    ","
    "\"f:name\":{},\"f:ports\":{\".\":{},\"k:{\\\"containerPort\\\":8080,"
    "\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{},"
    "\"f:name\":{},\"f:protocol\":{}},\"k:{\\\"containerPort\\\":9000,"
    "\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{},"
    "\"f:name\":{},\"f:protocol\":{}}},\"f:readinessProbe\":{\".\":{},"
    "\"f:httpGet\":{\".\":{},\"f:path\":{},\"f:port\":{},\"f:scheme\":{}}},"
    "\"f:resources\":{\".\":{},\"f:limits\":{\".\":{},\"f:memory\":{}},"
    "\"f:requests\":{\".\":{},\"f:cpu\":{},\"f:memory\":{}}}},"
    "\"k:{\\\"name\\\":\\\"metrics-exporter\\\"}\":{\".\":{},\"f:image\":{},"
    "\"f:name\":{},\"f:ports\":{\".\":{},\"k:{\\\"containerPort\\\":9102,"
    "\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{},"
    "\"f:name\":{},\"f:protocol\":{}}}}},\"f:dnsPolicy\":{},"
    "\"f:enableServiceLinks\":{},\"f:restartPolicy\":{},\"f:schedulerName\":{},"
    "\"f:securityContext\":{},\"f:terminationGracePeriodSeconds\":{}}},",
    "\"manager\":\"kube-controller-manager\",\"operation\":\"Update\","
    "\"time\":\"2026-11-26T01:26:19Z\"},{\"apiVersion\":\"v1\","
    "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{"
    "\"f:conditions\":{\"k:{\\\"type\\\":\\\"ContainersReady\\\"}\":{\".\":{},"
    "\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},\"f:status\":{},"
    "\"f:type\":{}},\"k:{\\\"type\\\":\\\"Initialized\\\"}\":{\".\":{},"
    "\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},\"f:status\":{},"
    "\"f:type\":{}},\"k:{\\\"type\\\":\\\"Ready\\\"}\":{\".\":{},"
    "\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},\"f:status\":{},"
    "\"f:type\":{}}},\"f:containerStatuses\":{},\"f:hostIP\":{},"
    "\"f:hostIPs\":{},\"f:phase\":{},\"f:podIP\":{},\"f:podIPs\":{\".\":{},"
    "\"k:{\\\"ip\\\":\\\"%6\\\"}\":{\".\":{},\"f:ip\":{}},"
    "\"k:{\\\"ip\\\":\\\"%7\\\"}\":{\".\":{},\"f:ip\":{}}},"
    "\"f:startTime\":{}}},\"manager\":\"kubelet\",\"operation\":\"Update\","
    "\"subresource\":\"status\",\"time\":\"2026-11-26T01:26:31Z\"}],"
    "\"name\":\"%2\",\"namespace\":\"%1\","
    "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"blockOwnerDeletion\":"
    "true,\"controller\":true,\"kind\":\"ReplicaSet\","
    "\"name\":\"checkout-api-7d9f8c6b5d\",\"uid\":\"%8\"}],"
    "\"resourceVersion\":\"%4\",\"uid\":\"%3\"},",
    "\"spec\":{\"containers\":[{\"env\":[{\"name\":\"GOMAXPROCS\","
    "\"valueFrom\":{\"resourceFieldRef\":{\"divisor\":\"0\",\"resource\":"
    "\"limits.cpu\"}}}],\"image\":"
    "\"registry.example.com/storefront/checkout-api:2.14.3\","
    "\"imagePullPolicy\":\"IfNotPresent\",\"name\":\"app\",\"ports\":["
    "{\"containerPort\":8080,\"name\":\"http\",\"protocol\":\"TCP\"},"
    "{\"containerPort\":9000,\"name\":\"grpc\",\"protocol\":\"TCP\"}],"
    "\"readinessProbe\":{\"failureThreshold\":3,\"httpGet\":{\"path\":"
    "\"/healthz\",\"port\":\"http\",\"scheme\":\"HTTP\"},\"periodSeconds\":"
    "10,\"successThreshold\":1,\"timeoutSeconds\":1},\"resources\":{"
    "\"limits\":{\"memory\":\"512Mi\"},\"requests\":{\"cpu\":\"250m\","
    "\"memory\":\"256Mi\"}},\"terminationMessagePath\":"
    "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
    "\"volumeMounts\":[{\"mountPath\":"
    "\"/var/run/secrets/kubernetes.io/serviceaccount\",\"name\":"
    "\"kube-api-access-8x7vq\",\"readOnly\":true}]},{\"image\":"
    "\"registry.example.com/observability/metrics-exporter:0.9.1\","
    "\"imagePullPolicy\":\"IfNotPresent\",\"name\":\"metrics-exporter\","
    "\"ports\":[{\"containerPort\":9102,\"name\":\"metrics\",\"protocol\":"
    "\"TCP\"}],\"resources\":{},\"terminationMessagePath\":"
    "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\"}],"
    "\"dnsPolicy\":\"ClusterFirst\",\"enableServiceLinks\":true,"
    "\"nodeName\":\"%5\",\"preemptionPolicy\":\"PreemptLowerPriority\","
    "\"priority\":0,\"restartPolicy\":\"Always\",\"schedulerName\":"
    "\"default-scheduler\",\"securityContext\":{},\"serviceAccount\":"
    "\"checkout-api\",\"serviceAccountName\":\"checkout-api\","
    "\"terminationGracePeriodSeconds\":30,\"tolerations\":[{\"effect\":"
    "\"NoExecute\",\"key\":\"node.kubernetes.io/not-ready\",\"operator\":"
    "\"Exists\",\"tolerationSeconds\":300},{\"effect\":\"NoExecute\","
    "\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
    "\"tolerationSeconds\":300}]},",
    "\"status\":{\"conditions\":[{\"lastProbeTime\":null,"
    "\"lastTransitionTime\":\"2026-11-26T01:26:20Z\",\"status\":\"True\","
    "\"type\":\"PodReadyToStartContainers\"},{\"lastProbeTime\":null,"
    "\"lastTransitionTime\":\"2026-11-26T01:26:19Z\",\"status\":\"True\","
    "\"type\":\"Initialized\"},{\"lastProbeTime\":null,"
    "\"lastTransitionTime\":\"2026-11-26T01:26:31Z\",\"status\":\"True\","
    "\"type\":\"Ready\"},{\"lastProbeTime\":null,\"lastTransitionTime\":"
    "\"2026-11-26T01:26:31Z\",\"status\":\"True\",\"type\":"
    "\"ContainersReady\"},{\"lastProbeTime\":null,\"lastTransitionTime\":"
    "\"2026-11-26T01:26:19Z\",\"status\":\"True\",\"type\":"
    "\"PodScheduled\"}],\"containerStatuses\":[{\"containerID\":"
    "\"containerd://4f1e9a7c2b\",\"image\":"
    "\"registry.example.com/storefront/checkout-api:2.14.3\",\"imageID\":"
    "\"registry.example.com/storefront/checkout-api@sha256:9c1d\","
    "\"lastState\":{},\"name\":\"app\",\"ready\":true,\"restartCount\":0,"
    "\"started\":true,\"state\":{\"running\":{\"startedAt\":"
    "\"2026-11-26T01:26:21Z\"}}}],\"hostIP\":\"10.0.12.34\",\"hostIPs\":["
    "{\"ip\":\"10.0.12.34\"}],\"phase\":\"Running\",\"podIP\":\"%6\","
    "\"podIPs\":[{\"ip\":\"%6\"},{\"ip\":\"%7\"}],\"qosClass\":"
    "\"Burstable\",\"startTime\":\"2026-11-26T01:26:19Z\"}}",
};

/* Appends one template piece at out + n; SIZE_MAX once out is full. */
static size_t expand_piece(const char *piece_text, const char *const args[9],
                           char out[static PODGEN_JSON_MAX], size_t n)
{
    if (n == SIZE_MAX)
        return n;
    for (const char *t = piece_text; *t != '\0'; t++) {
        const char *piece = t;
        size_t len = 1;
        if (t[0] == '%' && t[1] >= '1' && t[1] <= '8') {
            piece = args[t[1] - '0'];
            len = strlen(piece);
            t++;
        }
        if (n + len >= PODGEN_JSON_MAX)
            return SIZE_MAX;
        memcpy(out + n, piece, len);
        n += len;
    }
    return n;
}

/* Copies the template with the placeholders filled in; 0 if too long. */
static size_t expand(const char *const args[9],
                     char out[static PODGEN_JSON_MAX])
{
    size_t n = 0;
    for (size_t k = 0; k < sizeof(pod_template) / sizeof(*pod_template); k++)
        n = expand_piece(pod_template[k], args, out, n);
    if (n == SIZE_MAX)
        return 0;
    out[n] = '\0';
    return n;
}

void podgen_namespace(size_t k, char out[static 32])
{
    snprintf(out, 32, "team-%04zu", k);
}

size_t podgen_json(size_t i, size_t per_ns, unsigned long rv,
                   char out[static PODGEN_JSON_MAX])
{
    char ns[32], name[64], uid[40], rs_uid[40], node[64], ip4[16], ip6[40];
    podgen_namespace(per_ns > 0 ? i / per_ns : 0, ns);
    /* Deployment pods: <deployment>-<template hash>-<5 random chars>. */
    snprintf(name, sizeof(name), "checkout-api-7d9f8c6b5d-%05zx", i & 0xfffffu);
    snprintf(uid, sizeof(uid), "%08zx-3f1d-4e8a-9c7b-1a2b3c4d5e6f", i);
    snprintf(rs_uid, sizeof(rs_uid), "%08zx-8e7b-48d3-88d4-5bdd2e22a91f",
             per_ns > 0 ? i / per_ns : 0);
    snprintf(node, sizeof(node), "ip-10-0-%zu-%zu.eu-west-1.compute.internal",
             i / 110 / 250 % 250, i / 110 % 250);
    snprintf(ip4, sizeof(ip4), "10.%zu.%zu.%zu", 64 + i / 65536 % 64,
             i / 256 % 256, i % 256);
    snprintf(ip6, sizeof(ip6), "fd00:10:%zx::%zx", i / 65536, i % 65536);
    char rvs[24];
    snprintf(rvs, sizeof(rvs), "%lu", rv);
    const char *args[] = {NULL, ns, name, uid, rvs, node, ip4, ip6, rs_uid};
    return expand(args, out);
}

#if defined(__SANITIZE_ADDRESS__)
#define PODGEN_NO_COUNT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PODGEN_NO_COUNT 1
#endif
#endif

#ifndef PODGEN_NO_COUNT
/* The allocator is counted by wrapping it: every live block is charged its
 * usable size plus the 8-byte chunk header glibc keeps in front of it. This
 * is exact, where mallinfo2 also counts blocks parked in the per-thread
 * cache as in use. Sanitizers replace malloc themselves: no counting there
 * (podgen_heap_measurable says so). */
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void __libc_free(void *p);

#define PODGEN_HEADER 8

static _Atomic long long live_bytes;

static void charge(void *p, long long sign)
{
    if (p != NULL)
        live_bytes += sign * (long long)(malloc_usable_size(p) + PODGEN_HEADER);
}

void *malloc(size_t size)
{
    void *p = __libc_malloc(size);
    charge(p, 1);
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p = __libc_calloc(n, size);
    charge(p, 1);
    return p;
}

void *realloc(void *old, size_t size)
{
    long long before =
        old != NULL ? (long long)(malloc_usable_size(old) + PODGEN_HEADER) : 0;
    void *p = __libc_realloc(old, size);
    if (p != NULL) {
        live_bytes -= before;
        charge(p, 1);
    } else if (size == 0) {
        live_bytes -= before; /* freed */
    }
    return p;
}

void free(void *p)
{
    charge(p, -1);
    __libc_free(p);
}
#endif

size_t podgen_heap_bytes(void)
{
#ifndef PODGEN_NO_COUNT
    long long n = live_bytes;
    return n > 0 ? (size_t)n : 0;
#else
    return 0;
#endif
}

bool podgen_heap_measurable(void)
{
    size_t before = podgen_heap_bytes();
    void *volatile p = malloc(4096);
    size_t after = podgen_heap_bytes();
    free(p);
    return p != NULL && after >= before + 4096;
}
