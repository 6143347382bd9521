/* One-call assembly of the detection runtime (see include/pbxguard/detect/runtime.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/event.h"
#include "pbxguard/core/log.h"
#include "pbxguard/detect/runtime.h"

#define PRUNE_EVERY_MS (3600 * 1000)

int det_runtime_open(const struct det_config *dc, const struct ban_section *bs,
                     const struct store_config *sc, const struct geo_config *gc,
                     const char *data_dir, bool kernel, int64_t now_ms, char *err, size_t errcap,
                     struct det_runtime **out)
{
    struct det_config dcd;
    struct ban_config bcd;
    struct store_config scd;
    struct det_runtime *r;
    int rc;

    err[0] = '\0';
    if (!dc) {
        det_config_defaults(&dcd);
        dc = &dcd;
    }
    if (!bs)
        ban_config_defaults(&bcd);
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    if ((rc = ban_table_new(bs ? &bs->cfg : &bcd, &r->bans)) != 0) {
        snprintf(err, errcap, "ban: cannot create the ban table: %s", strerror(-rc));
        goto out;
    }
    for (size_t i = 0; bs && i < bs->nallow; i++) {
        if ((rc = ban_allow_add(r->bans, &bs->allow[i])) != 0) {
            snprintf(err, errcap, "ban.allow: too many networks");
            goto out;
        }
    }
    if (gc && gc->database && (rc = geo_open(gc->database, &r->geo)) != 0) {
        snprintf(err, errcap, "geo.database: %s: %s", gc->database,
                 rc == -EINVAL ? "not a MaxMind DB file" : strerror(-rc));
        goto out;
    }
    if ((rc = det_engine_new(dc, r->bans, r->geo, err, errcap, &r->engine)) != 0)
        goto out;
    if (!sc) {
        store_config_defaults(&scd);
        sc = &scd;
    }
    if (sc->path || data_dir) {
        struct store_config s = *sc;
        if (!s.path) {
            snprintf(r->db_path, sizeof(r->db_path), "%s/pbxguard.db", data_dir);
            s.path = r->db_path;
        }
        if ((rc = store_open(&s, &r->store)) != 0) {
            snprintf(err, errcap, "store: cannot open %s: %s", s.path, strerror(-rc));
            goto out;
        }
    }
    if (kernel && (!bs || bs->nft)) {
        rc = ban_nft_open(bs ? bs->table : NULL, &r->nft);
        if (rc != 0) {
            snprintf(err, errcap, "ban.nftables: cannot create the table: %s", strerror(-rc));
            goto out;
        }
    }
    det_attach_default_hook(r->engine, r->store, r->nft);
    if (r->store) {
        rc = det_restore(r->engine, r->store, now_ms);
        if (rc < 0) {
            snprintf(err, errcap, "store: cannot read bans: %s", strerror(-rc));
            goto out;
        }
        r->restored = rc;
        if ((rc = ev_subscribe(store_ev_subscriber, r->store)) != 0) {
            snprintf(err, errcap, "events: cannot subscribe the store");
            goto out;
        }
    }
    r->last_prune_ms = now_ms;
    *out = r;
    return 0;
out:
    det_runtime_close(r);
    return rc;
}

static bool cidr_listed(const struct ban_section *bs, const struct pbx_cidr *c)
{
    for (size_t i = 0; bs && i < bs->nallow; i++)
        if (bs->allow[i].prefix == c->prefix && pbx_addr_eq(&bs->allow[i].base, &c->base, false))
            return true;
    return false;
}

static const char *table_name(const struct ban_section *bs)
{
    return bs && bs->table ? bs->table : "pbxguard";
}

int det_runtime_reload_bans(struct det_runtime *r, const struct ban_section *old,
                            const struct ban_section *new_, char *note, size_t cap)
{
    struct ban_config dflt;
    int rc = 0;

    note[0] = '\0';
    ban_config_defaults(&dflt);
    if (ban_table_set_policy(r->bans, new_ ? &new_->cfg : &dflt) == -EBUSY) {
        snprintf(note, cap, "ban.capacity");
        rc = 1;
    }
    for (size_t i = 0; old && i < old->nallow; i++) {
        if (cidr_listed(new_, &old->allow[i]))
            continue;
        int del = ban_allow_del(r->bans, &old->allow[i]);
        (void)del; /* -ENOENT: already taken out with ctl allow del */
    }
    for (size_t i = 0; new_ && i < new_->nallow; i++)
        if (ban_allow_add(r->bans, &new_->allow[i]) < 0)
            return -ENOSPC;
    bool nft_old = !old || old->nft, nft_new = !new_ || new_->nft;
    if (nft_old != nft_new || strcmp(table_name(old), table_name(new_)) != 0) {
        size_t n = strlen(note);
        snprintf(note + n, cap - n, "%sban.nftables", n ? ", " : "");
        rc = 1;
    }
    return rc;
}

void det_runtime_tick(struct det_runtime *r, int64_t now_ms)
{
    det_tick(r->engine, now_ms);
    if (!r->store)
        return;
    if (store_tick(r->store, now_ms) < 0)
        log_error("store: commit failed; records stay queued");
    if (now_ms - r->last_prune_ms >= PRUNE_EVERY_MS) {
        r->last_prune_ms = now_ms;
        if (store_prune(r->store, now_ms) < 0)
            log_error("store: pruning events failed");
    }
}

void det_runtime_close(struct det_runtime *r)
{
    if (!r)
        return;
    if (r->store && ev_unsubscribe(store_ev_subscriber, r->store) != 0) {
        /* Not subscribed (open failed before that step): nothing to undo. */
    }
    ban_nft_close(r->nft, true);
    store_close(r->store);
    det_engine_free(r->engine);
    geo_close(r->geo);
    ban_table_free(r->bans);
    free(r);
}
