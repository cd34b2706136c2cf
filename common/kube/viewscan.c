/* SPDX-License-Identifier: Apache-2.0 */
/* A Service view from JSON text. One jscan_collect checks the text and
 * finds every field the view keeps; the counts it gives bound one block,
 * and the fields are then read into it in views.c's order, so that a text
 * with several faults is refused for the same one. */
#include "kube/viewscan.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jscan.h"

enum field {
    F_META = 0,
    F_SPEC,
    F_NAMESPACE,
    F_NAME,
    F_UID,
    F_RESOURCE_VERSION,
    F_LABELS,
    F_CREATED,
    F_DELETED,
    F_ANNOTATIONS,
    F_OWNERS,
    F_SELECTOR,
    F_TYPE,
    F_FAMILIES,
    F_CLUSTER_IP,
    F_POLICY,
    F_PORTS,
    F_COUNT,
};

static const struct jscan_field fields[F_COUNT] = {
    [F_META] = {"metadata", JSCAN_TOP},
    [F_SPEC] = {"spec", JSCAN_TOP},
    [F_NAMESPACE] = {"namespace", F_META},
    [F_NAME] = {"name", F_META},
    [F_UID] = {"uid", F_META},
    [F_RESOURCE_VERSION] = {"resourceVersion", F_META},
    [F_LABELS] = {"labels", F_META},
    [F_CREATED] = {"creationTimestamp", F_META},
    [F_DELETED] = {"deletionTimestamp", F_META},
    [F_ANNOTATIONS] = {"annotations", F_META},
    [F_OWNERS] = {"ownerReferences", F_META},
    [F_SELECTOR] = {"selector", F_SPEC},
    [F_TYPE] = {"type", F_SPEC},
    [F_FAMILIES] = {"ipFamilies", F_SPEC},
    [F_CLUSTER_IP] = {"clusterIP", F_SPEC},
    [F_POLICY] = {"ipFamilyPolicy", F_SPEC},
    [F_PORTS] = {"ports", F_SPEC},
};

enum port_field { P_NAME = 0, P_PROTOCOL, P_PORT, P_APP, P_TARGET, P_COUNT };

static const struct jscan_field port_fields[P_COUNT] = {
    [P_NAME] = {"name", JSCAN_TOP},
    [P_PROTOCOL] = {"protocol", JSCAN_TOP},
    [P_PORT] = {"port", JSCAN_TOP},
    [P_APP] = {"appProtocol", JSCAN_TOP},
    [P_TARGET] = {"targetPort", JSCAN_TOP},
};

enum owner_field { O_CONTROLLER = 0, O_API, O_KIND, O_NAME, O_UID, O_COUNT };

static const struct jscan_field owner_fields[O_COUNT] = {
    [O_CONTROLLER] = {"controller", JSCAN_TOP},
    [O_API] = {"apiVersion", JSCAN_TOP},
    [O_KIND] = {"kind", JSCAN_TOP},
    [O_NAME] = {"name", JSCAN_TOP},
    [O_UID] = {"uid", JSCAN_TOP},
};

/* The view's block: sized before the fields are read, from the text's
 * length (every kept string decodes to fewer bytes than it takes there)
 * and the number of members of each map and array. */
struct arena {
    char *base;
    size_t used;
    size_t cap;
};

static void *arena_alloc(struct arena *a, size_t size)
{
    size_t align = alignof(max_align_t);
    size_t off = (a->used + align - 1) / align * align;
    if (off > a->cap || size > a->cap - off)
        return NULL; /* cannot happen: the block was sized for it */
    a->used = off + size;
    return a->base + off;
}

/* Room for a string of raw length n, decoded, with its NUL. */
static char *arena_text(struct arena *a, size_t n)
{
    if (n + 1 > a->cap - a->used)
        return NULL;
    char *p = a->base + a->used;
    a->used += n + 1;
    return p;
}

static bool absent(const struct jscan_value *v)
{
    return v->type == JSCAN_ERROR || v->type == JSCAN_NULL;
}

/* Decodes the string value v into the arena: *len is its decoded length
 * (an escaped NUL counts). ZL_ERR_PARSE when v is not a string. */
static enum zl_err decode(struct arena *a, const struct jscan_value *v,
                          const char **out, size_t *len)
{
    struct jscan_str str;
    if (!jscan_value_str(v, &str))
        return ZL_ERR_PARSE;
    char *text = arena_text(a, str.len);
    if (text == NULL)
        return ZL_ERR_INTERNAL;
    *len = jscan_decode(&str, text);
    a->used -= str.len - *len; /* give back what the escapes saved */
    *out = text;
    return ZL_OK;
}

/* views.c's check_string: at most max bytes, no NUL. */
static enum zl_err checked(const char *text, size_t len, size_t max)
{
    if (len > max)
        return ZL_ERR_LIMIT;
    return strlen(text) != len ? ZL_ERR_PARSE : ZL_OK;
}

/* A string field: "" when absent (NULL with opt), else checked. */
static enum zl_err get_string(struct arena *a, const struct jscan_value *v,
                              bool opt, const char **out)
{
    size_t len;
    *out = opt ? NULL : "";
    if (absent(v))
        return ZL_OK;
    enum zl_err err = decode(a, v, out, &len);
    if (err == ZL_OK)
        err = checked(*out, len, VIEWS_MAX_STRING);
    return err;
}

/* A string compared as json-c's C string would be (up to a NUL). */
static enum zl_err get_word(struct arena *a, const struct jscan_value *v,
                            const char **out)
{
    size_t len;
    *out = NULL;
    if (absent(v))
        return ZL_OK;
    return decode(a, v, out, &len);
}

static enum zl_err get_time(struct arena *a, const struct jscan_value *v,
                            int64_t *out)
{
    const char *text;
    size_t len;
    size_t mark = a->used;
    *out = VIEWS_TIME_NONE;
    if (absent(v))
        return ZL_OK;
    enum zl_err err = decode(a, v, &text, &len);
    if (err == ZL_OK)
        err = checked(text, len, 64);
    if (err == ZL_OK)
        err = clock_parse_rfc3339(text, out);
    a->used = mark; /* not kept */
    return err != ZL_OK ? ZL_ERR_PARSE : ZL_OK;
}

static enum zl_err get_int32(const struct jscan_value *v, bool *present,
                             int32_t *out)
{
    struct jscan s;
    int64_t n;
    *present = false;
    *out = 0;
    if (absent(v))
        return ZL_OK;
    jscan_init_value(&s, v);
    if (v->type != JSCAN_NUMBER || !jscan_int64(&s, &n) || n < INT32_MIN ||
        n > INT32_MAX)
        return ZL_ERR_PARSE;
    *present = true;
    *out = (int32_t)n;
    return ZL_OK;
}

/* ---- maps ---------------------------------------------------------------- */

/* One member of a map as scanned; first is where its key first appeared
 * (json-c keeps a repeated key there, with the last value). */
struct entry {
    const char *key;
    struct jscan_value value;
    size_t index;
};

static int by_key_then_index(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c != 0 ? c : (a->index > b->index) - (a->index < b->index);
}

static int by_index(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    return (a->index > b->index) - (a->index < b->index);
}

static int kv_cmp(const void *x, const void *y)
{
    const struct views_kv *a = x, *b = y;
    return strcmp(a->key, b->key);
}

/* The members of a map, keys decoded (as C strings, like json-c's) and
 * repeats folded into one entry each. Returns how many remain. */
static size_t map_entries(struct arena *a, const struct jscan_value *v,
                          struct entry *ents)
{
    struct jscan s;
    struct jscan_str key;
    size_t n = 0;
    jscan_init_value(&s, v);
    for (jscan_object(&s); jscan_member(&s, &key); n++) {
        char *text = arena_text(a, key.len);
        jscan_decode(&key, text);
        a->used -= key.len - strlen(text);
        ents[n].key = text;
        ents[n].index = n;
        ents[n].value.type = jscan_peek(&s);
        ents[n].value.start = jscan_pos(&s);
        jscan_skip(&s);
        ents[n].value.len = (size_t)(jscan_pos(&s) - ents[n].value.start);
    }
    qsort(ents, n, sizeof(*ents), by_key_then_index);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && strcmp(ents[kept - 1].key, ents[i].key) == 0)
            ents[kept - 1].value = ents[i].value;
        else
            ents[kept++] = ents[i];
    }
    qsort(ents, kept, sizeof(*ents), by_index);
    return kept;
}

/* Members of an object value, as scanned (repeats counted). */
static size_t count_members(const struct jscan_value *v)
{
    struct jscan s;
    struct jscan_str key;
    size_t n = 0;
    if (v->type != JSCAN_OBJECT)
        return 0;
    jscan_init_value(&s, v);
    for (jscan_object(&s); jscan_member(&s, &key); n++)
        jscan_skip(&s);
    return n;
}

static enum zl_err fill_map(struct arena *a, struct entry *ents, size_t n,
                            size_t value_max, size_t total_max,
                            struct views_map *map)
{
    size_t total = 0;
    map->items = arena_alloc(a, n * sizeof(*map->items));
    if (map->items == NULL)
        return ZL_ERR_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        size_t klen = strlen(ents[i].key), vlen;
        const char *value;
        if (ents[i].value.type != JSCAN_STRING)
            return ZL_ERR_PARSE;
        if (klen > VIEWS_MAX_STRING)
            return ZL_ERR_LIMIT;
        enum zl_err err = decode(a, &ents[i].value, &value, &vlen);
        if (err == ZL_OK)
            err = checked(value, vlen, value_max);
        if (err != ZL_OK)
            return err;
        total += klen + vlen;
        if (total > total_max)
            return ZL_ERR_LIMIT;
        map->items[i] = (struct views_kv){ents[i].key, value};
    }
    map->count = n;
    qsort(map->items, n, sizeof(*map->items), kv_cmp);
    return ZL_OK;
}

/* views.c's copy_map; raw is count_members(v). */
static enum zl_err get_map(struct arena *a, const struct jscan_value *v,
                           size_t raw, size_t value_max, size_t total_max,
                           struct views_map *map)
{
    struct entry small[16];
    map->items = NULL;
    map->count = 0;
    if (absent(v))
        return ZL_OK;
    if (v->type != JSCAN_OBJECT)
        return ZL_ERR_PARSE;
    struct entry *ents = raw <= 16 ? small : malloc(raw * sizeof(*ents));
    if (ents == NULL)
        return ZL_ERR_NOMEM;
    size_t n = map_entries(a, v, ents);
    enum zl_err err = ZL_OK;
    if (n > VIEWS_MAX_LABELS)
        err = ZL_ERR_LIMIT;
    else if (n > 0)
        err = fill_map(a, ents, n, value_max, total_max, map);
    if (ents != small)
        free(ents);
    return err;
}

/* ---- arrays -------------------------------------------------------------- */

/* Items of an array value (0 for another type). */
static size_t count_items(const struct jscan_value *v)
{
    struct jscan s;
    size_t n = 0;
    if (v->type != JSCAN_ARRAY)
        return 0;
    jscan_init_value(&s, v);
    for (jscan_array(&s); jscan_item(&s); n++)
        jscan_skip(&s);
    return n;
}

/* The next item of an array as a value of its own. */
static void next_value(struct jscan *s, struct jscan_value *out)
{
    out->type = jscan_peek(s);
    out->start = jscan_pos(s);
    jscan_skip(s);
    out->len = (size_t)(jscan_pos(s) - out->start);
}

/* The fields of an object item (ZL_ERR_PARSE for another type). */
static enum zl_err item_fields(const struct jscan_value *item,
                               const struct jscan_field *f, size_t n,
                               struct jscan_value *out)
{
    struct jscan s;
    memset(out, 0, n * sizeof(*out));
    if (item->type != JSCAN_OBJECT)
        return ZL_ERR_PARSE;
    jscan_init_value(&s, item);
    return jscan_collect(&s, f, n, out) ? ZL_OK : ZL_ERR_PARSE;
}

/* views.c's read_owner: the first ownerReference with controller: true. */
static enum zl_err get_owner(struct arena *a, const struct jscan_value *v,
                             struct views_service *svc)
{
    struct jscan s;
    svc->has_owner = false;
    memset(&svc->owner, 0, sizeof(svc->owner));
    if (absent(v))
        return ZL_OK;
    if (v->type != JSCAN_ARRAY)
        return ZL_ERR_PARSE;
    jscan_init_value(&s, v);
    for (jscan_array(&s); jscan_item(&s);) {
        struct jscan_value item, f[O_COUNT];
        next_value(&s, &item);
        enum zl_err err = item_fields(&item, owner_fields, O_COUNT, f);
        if (err == ZL_OK && !absent(&f[O_CONTROLLER]) &&
            f[O_CONTROLLER].type != JSCAN_BOOL)
            err = ZL_ERR_PARSE;
        if (err != ZL_OK)
            return err;
        if (absent(&f[O_CONTROLLER]) || f[O_CONTROLLER].start[0] != 't' ||
            svc->has_owner)
            continue;
        svc->has_owner = true;
        struct views_owner *o = &svc->owner;
        err = get_string(a, &f[O_API], false, &o->api_version);
        if (err == ZL_OK)
            err = get_string(a, &f[O_KIND], false, &o->kind);
        if (err == ZL_OK)
            err = get_string(a, &f[O_NAME], false, &o->name);
        if (err == ZL_OK)
            err = get_string(a, &f[O_UID], false, &o->uid);
        if (err != ZL_OK)
            return err;
    }
    return ZL_OK;
}

static enum zl_err get_type(struct arena *a, const struct jscan_value *v,
                            struct views_service *svc)
{
    const char *text;
    size_t mark = a->used;
    svc->type = VIEWS_SVC_CLUSTER_IP;
    enum zl_err err = get_word(a, v, &text);
    if (err == ZL_OK && text != NULL)
        err = views_service_type_parse(text, &svc->type);
    a->used = mark;
    return err;
}

/* views.c's read_families (clusterIP "None" is headless). */
static enum zl_err get_families(struct arena *a, const struct jscan_value *fam,
                                const struct jscan_value *cip,
                                struct views_service *svc)
{
    const char *text;
    size_t mark = a->used;
    svc->ip_family_count = 0;
    if (!absent(fam) && fam->type != JSCAN_ARRAY)
        return ZL_ERR_PARSE;
    enum zl_err err = get_word(a, cip, &text);
    if (err != ZL_OK)
        return err;
    svc->headless = text != NULL && strcmp(text, "None") == 0;
    a->used = mark; /* the words are compared, not kept */
    size_t n = count_items(fam);
    if (n > 2)
        return ZL_ERR_LIMIT;
    if (n == 0)
        return ZL_OK;
    struct jscan s;
    jscan_init_value(&s, fam);
    size_t i = 0;
    for (jscan_array(&s); i < n && jscan_item(&s); i++) {
        struct jscan_value item;
        next_value(&s, &item);
        err = get_word(a, &item, &text);
        if (err == ZL_OK)
            err = text != NULL
                      ? views_ip_family_parse(text, &svc->ip_families[i])
                      : ZL_ERR_PARSE;
        a->used = mark;
        if (err != ZL_OK)
            return ZL_ERR_PARSE;
    }
    svc->ip_family_count = n;
    return ZL_OK;
}

static enum zl_err get_protocol(struct arena *a, const struct jscan_value *v,
                                enum views_protocol *out)
{
    const char *text;
    size_t mark = a->used;
    *out = VIEWS_PROTO_TCP;
    enum zl_err err = get_word(a, v, &text);
    a->used = mark;
    if (err != ZL_OK || text == NULL)
        return err;
    return views_protocol_parse(text, out);
}

/* views.c's read_service_port: targetPort 0 or "" means unset. */
static enum zl_err get_port(struct arena *a, const struct jscan_value *item,
                            struct views_service_port *sp)
{
    struct jscan_value f[P_COUNT];
    bool present;
    enum zl_err err = item_fields(item, port_fields, P_COUNT, f);
    if (err == ZL_OK)
        err = get_string(a, &f[P_NAME], false, &sp->name);
    if (err == ZL_OK)
        err = get_protocol(a, &f[P_PROTOCOL], &sp->protocol);
    if (err == ZL_OK)
        err = get_int32(&f[P_PORT], &present, &sp->port);
    if (err == ZL_OK)
        err = get_string(a, &f[P_APP], true, &sp->app_protocol);
    if (err != ZL_OK)
        return err;
    const struct jscan_value *tp = &f[P_TARGET];
    sp->target_port = sp->port;
    sp->target_port_name = NULL;
    if (absent(tp))
        return ZL_OK;
    if (tp->type == JSCAN_NUMBER) {
        err = get_int32(tp, &present, &sp->target_port);
        if (err == ZL_OK && sp->target_port == 0)
            sp->target_port = sp->port;
        return err;
    }
    if (tp->type != JSCAN_STRING)
        return ZL_ERR_PARSE;
    if (tp->len == 2) /* "" */
        return ZL_OK;
    return get_string(a, tp, true, &sp->target_port_name);
}

/* n is count_items(v). */
static enum zl_err get_ports(struct arena *a, const struct jscan_value *v,
                             size_t n, struct views_service *svc)
{
    struct jscan s;
    svc->ports = NULL;
    svc->port_count = 0;
    if (absent(v))
        return ZL_OK;
    if (v->type != JSCAN_ARRAY)
        return ZL_ERR_PARSE;
    if (n > VIEWS_MAX_PORTS)
        return ZL_ERR_LIMIT;
    if (n == 0)
        return ZL_OK;
    struct views_service_port *ports = arena_alloc(a, n * sizeof(*ports));
    if (ports == NULL)
        return ZL_ERR_INTERNAL;
    memset(ports, 0, n * sizeof(*ports));
    jscan_init_value(&s, v);
    size_t i = 0;
    for (jscan_array(&s); i < n && jscan_item(&s); i++) {
        struct jscan_value item;
        next_value(&s, &item);
        enum zl_err err = get_port(a, &item, &ports[i]);
        if (err != ZL_OK)
            return err;
    }
    svc->ports = ports;
    svc->port_count = n;
    return ZL_OK;
}

/* ---- the view ------------------------------------------------------------ */

/* f: the fields found; n: the members or items of the maps and arrays. */
static enum zl_err read_meta(struct arena *a, const struct jscan_value *f,
                             const size_t *n, struct views_meta *m)
{
    enum zl_err err = get_string(a, &f[F_NAMESPACE], false, &m->namespace_name);
    if (err == ZL_OK)
        err = get_string(a, &f[F_NAME], false, &m->name);
    if (err == ZL_OK)
        err = get_string(a, &f[F_UID], false, &m->uid);
    if (err == ZL_OK)
        err =
            get_string(a, &f[F_RESOURCE_VERSION], false, &m->resource_version);
    if (err == ZL_OK)
        err = get_map(a, &f[F_LABELS], n[F_LABELS], VIEWS_MAX_STRING,
                      (size_t)VIEWS_MAX_LABELS * 2 * VIEWS_MAX_STRING,
                      &m->labels);
    if (err == ZL_OK)
        err = get_time(a, &f[F_CREATED], &m->created_ms);
    if (err == ZL_OK)
        err = get_time(a, &f[F_DELETED], &m->deleted_ms);
    return err;
}

static enum zl_err read_service(struct arena *a, const struct jscan_value *f,
                                const size_t *n, struct views_service *svc)
{
    enum zl_err err = read_meta(a, f, n, &svc->meta);
    if (err == ZL_OK && !absent(&f[F_SPEC]) && f[F_SPEC].type != JSCAN_OBJECT)
        err = ZL_ERR_PARSE;
    if (err == ZL_OK)
        err = get_map(a, &f[F_ANNOTATIONS], n[F_ANNOTATIONS],
                      VIEWS_MAX_ANNOTATIONS_BYTES, VIEWS_MAX_ANNOTATIONS_BYTES,
                      &svc->annotations);
    if (err == ZL_OK)
        err = get_owner(a, &f[F_OWNERS], svc);
    if (err == ZL_OK)
        err = get_map(a, &f[F_SELECTOR], n[F_SELECTOR], VIEWS_MAX_STRING,
                      (size_t)VIEWS_MAX_LABELS * 2 * VIEWS_MAX_STRING,
                      &svc->selector);
    if (err == ZL_OK)
        err = get_type(a, &f[F_TYPE], svc);
    if (err == ZL_OK)
        err = get_families(a, &f[F_FAMILIES], &f[F_CLUSTER_IP], svc);
    if (err == ZL_OK)
        err = get_string(a, &f[F_POLICY], true, &svc->ip_family_policy);
    if (err == ZL_OK)
        err = get_ports(a, &f[F_PORTS], n[F_PORTS], svc);
    svc->has_selector = err == ZL_OK && svc->selector.count > 0;
    return err;
}

/* The block: the view, the strings (at most the text's length), the
 * arrays and their alignment. */
static size_t block_size(size_t json_len, const size_t *n)
{
    size_t kv = n[F_LABELS] + n[F_ANNOTATIONS] + n[F_SELECTOR];
    return sizeof(struct views_service) + json_len + 16 +
           kv * sizeof(struct views_kv) +
           n[F_PORTS] * (sizeof(struct views_service_port) + 1) +
           8 * alignof(max_align_t);
}

enum zl_err viewscan_service(const char *json, size_t json_len,
                             struct views_service **out)
{
    struct jscan s;
    struct jscan_value f[F_COUNT] = {0};
    *out = NULL;
    jscan_init(&s, json, json_len);
    bool object = jscan_peek(&s) == JSCAN_OBJECT;
    if (object ? jscan_collect(&s, fields, F_COUNT, f) : jscan_skip(&s))
        jscan_finish(&s);
    enum zl_err err = jscan_error(&s);
    if (err == ZL_OK &&
        (!object || (!absent(&f[F_META]) && f[F_META].type != JSCAN_OBJECT)))
        err = ZL_ERR_PARSE;
    if (err != ZL_OK)
        return err;
    /* Counted once: they size the block and the arrays in it. */
    size_t n[F_COUNT] = {0};
    n[F_LABELS] = count_members(&f[F_LABELS]);
    n[F_ANNOTATIONS] = count_members(&f[F_ANNOTATIONS]);
    n[F_SELECTOR] = count_members(&f[F_SELECTOR]);
    n[F_PORTS] = count_items(&f[F_PORTS]);
    struct arena a = {.cap = block_size(json_len, n)};
    a.base = malloc(a.cap);
    if (a.base == NULL)
        return ZL_ERR_NOMEM;
    struct views_service *svc = arena_alloc(&a, sizeof(*svc));
    memset(svc, 0, sizeof(*svc));
    err = read_service(&a, f, n, svc);
    if (err != ZL_OK) {
        free(a.base);
        return err;
    }
    svc->meta.mem = a.base;
    svc->meta.kind = VIEWS_KIND_SERVICE;
    atomic_init(&svc->meta.ref.extra, 0);
    *out = svc;
    return ZL_OK;
}
