/* SPDX-License-Identifier: Apache-2.0 */
/* The patch-webhooks subcommand: bundle file to API server. */
#include "certs/certpatch.h"

#include "base/buf.h"
#include "certs/cabundle.h"
#include "certs/certcmd.h"
#include "certs/certfile.h"
#include "certs/certinfo.h"
#include "certs/whsync.h"
#include "kube/kubeconfig.h"

#ifndef ZL_VERSION
#define ZL_VERSION "0.0.0"
#endif

/* The bundle file as base64, after checking every certificate is a CA. */
static enum zl_err read_bundle(const char *path, struct buf *b64, FILE *err)
{
    struct buf data;
    struct certinfo_list list = {.count = 0};
    buf_init(&data, CERTFILE_MAX);
    enum zl_err rc = certfile_read(path, &data);
    if (rc == ZL_OK)
        rc = certinfo_parse(data.data, data.len, &list);
    for (size_t i = 0; rc == ZL_OK && i < list.count; i++) {
        struct certinfo_list check = {.count = 0};
        bool added = false;
        rc = cabundle_add(&check, list.certs[i], &added);
        certinfo_list_cleanup(&check);
    }
    if (rc == ZL_OK)
        rc = cabundle_base64(data.data, data.len, b64);
    if (rc != ZL_OK)
        fprintf(err,
                "zen-lead-certs: %s: not a bundle of CA certificates (%s)\n",
                path, zl_err_str(rc));
    certinfo_list_cleanup(&list);
    buf_cleanup(&data);
    return rc;
}

static enum zl_err patch_all(struct client *c, const struct client_resource *r,
                             const struct certopts_list *names, const char *b64,
                             FILE *out, FILE *err)
{
    enum zl_err rc = ZL_OK;
    for (size_t i = 0; i < names->count; i++) {
        struct whsync_result res;
        enum zl_err one =
            whsync_patch(c, r, names->items[i], b64, WHSYNC_ATTEMPTS, &res);
        if (one == ZL_OK)
            fprintf(out, "%s %s: %zu webhooks %s\n", r->kind, names->items[i],
                    res.webhooks,
                    res.changed ? "patched" : "already up to date");
        else
            fprintf(err, "zen-lead-certs: %s %s: %s\n", r->kind,
                    names->items[i], zl_err_str(one));
        if (rc == ZL_OK)
            rc = one;
    }
    return rc;
}

enum zl_err certpatch_connect(const char *kubeconfig, struct kube_config *cfg,
                              struct client **c, FILE *err)
{
    struct kubeconfig_error kerr = {{0}};
    enum zl_err rc = kubeconfig_load_kubectl_env(kubeconfig, NULL, cfg, &kerr);
    if (rc != ZL_OK) {
        fprintf(err, "zen-lead-certs: %s\n",
                kerr.text[0] != '\0' ? kerr.text : zl_err_str(rc));
        return rc;
    }
    struct client_options co = {
        .timeout_ms = 30000,
        .connect_timeout_ms = 5000,
        .max_retries = 3,
        .user_agent = "zen-lead-certs/" ZL_VERSION,
    };
    rc = client_new(cfg, &co, c);
    if (rc != ZL_OK)
        fprintf(err, "zen-lead-certs: cannot make an API client: %s\n",
                zl_err_str(rc));
    return rc;
}

int certpatch_run(const struct certopts *o, FILE *out, FILE *err)
{
    struct buf b64;
    struct kube_config cfg = {0};
    struct client *c = NULL;
    bool have_cfg = false;
    buf_init(&b64, (size_t)CERTFILE_MAX * 2);
    enum zl_err rc = read_bundle(o->ca_bundle, &b64, err);
    if (rc == ZL_OK) {
        rc = certpatch_connect(o->kubeconfig, &cfg, &c, err);
        have_cfg = true;
    }
    if (rc == ZL_OK) {
        enum zl_err v = patch_all(c, &WHSYNC_VALIDATING, &o->validating,
                                  b64.data, out, err);
        rc = patch_all(c, &WHSYNC_MUTATING, &o->mutating, b64.data, out, err);
        if (v != ZL_OK)
            rc = v;
    }
    client_free(c);
    if (have_cfg)
        kubeconfig_cleanup(&cfg);
    buf_cleanup(&b64);
    return rc == ZL_OK ? CERTCMD_EXIT_OK : CERTCMD_EXIT_FAIL;
}
