/* SPDX-License-Identifier: Apache-2.0 */
/* Named targetPort resolution, as kube-proxy's FindPort does it: the first
 * declared port with the same name and protocol wins. The pod view already
 * lists container ports before restartable init container ports. */
#include "zenlead/ports.h"

#include <assert.h>
#include <string.h>

static bool valid_port(int32_t port)
{
    return port >= 1 && port <= 65535;
}

enum zl_err ports_resolve_one(const struct views_service_port *sp,
                              const struct views_pod *pod, int32_t *out)
{
    assert(sp != NULL && pod != NULL && out != NULL);
    *out = 0;
    if (sp->target_port_name == NULL) {
        if (!valid_port(sp->target_port))
            return ZL_ERR_NOTFOUND;
        *out = sp->target_port;
        return ZL_OK;
    }
    for (size_t i = 0; i < pod->port_count; i++) {
        const struct views_container_port *cp = &pod->ports[i];
        if (cp->protocol != sp->protocol ||
            strcmp(cp->name, sp->target_port_name) != 0)
            continue;
        /* First match wins, even when its number is unusable. */
        if (!valid_port(cp->port))
            return ZL_ERR_NOTFOUND;
        *out = cp->port;
        return ZL_OK;
    }
    return ZL_ERR_NOTFOUND;
}

enum zl_err ports_resolve_all(const struct views_service *svc,
                              const struct views_pod *pod, int32_t *targets,
                              size_t *failed_index)
{
    for (size_t i = 0; i < svc->port_count; i++) {
        enum zl_err err = ports_resolve_one(&svc->ports[i], pod, &targets[i]);
        if (err != ZL_OK) {
            if (failed_index != NULL)
                *failed_index = i;
            return err;
        }
    }
    return ZL_OK;
}

bool ports_pod_declares_all(const struct views_service *svc,
                            const struct views_pod *pod)
{
    for (size_t i = 0; i < svc->port_count; i++) {
        int32_t target;
        if (svc->ports[i].target_port_name != NULL &&
            ports_resolve_one(&svc->ports[i], pod, &target) != ZL_OK)
            return false;
    }
    return true;
}

bool ports_has_named(const struct views_service *svc)
{
    for (size_t i = 0; i < svc->port_count; i++)
        if (svc->ports[i].target_port_name != NULL)
            return true;
    return false;
}
