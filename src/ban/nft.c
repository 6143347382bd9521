/*
 * nftables enforcement (see include/pbxguard/ban/nft.h). Commands are built as text for
 * libnftables from values pbxguard formatted itself (addresses from inet_ntop, a validated
 * table name), never from attacker bytes.
 */
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/ban/nft.h"

struct ban_nft {
    struct nft_ctx *ctx;
    char table[BAN_NFT_TABLE_MAX + 1];
    char err[512];
};

static bool table_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > BAN_NFT_TABLE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static int run(struct ban_nft *n, const char *cmd)
{
    int rc = nft_run_cmd_from_buffer(n->ctx, cmd);
    const char *e = nft_ctx_get_error_buffer(n->ctx);

    snprintf(n->err, sizeof(n->err), "%s", e ? e : "");
    /* The error buffer accumulates; reading it is not enough to reset it. */
    nft_ctx_unbuffer_error(n->ctx);
    nft_ctx_buffer_error(n->ctx);
    if (rc != 0)
        return strstr(n->err, "Operation not permitted") ? -EPERM : -EIO;
    return 0;
}

int ban_nft_open(const char *table, struct ban_nft **out)
{
    struct ban_nft *n;
    char cmd[1024];
    int rc;

    if (!table)
        table = "pbxguard";
    if (!table_name_ok(table))
        return -EINVAL;
    n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!n->ctx) {
        free(n);
        return -ENOMEM;
    }
    nft_ctx_buffer_output(n->ctx);
    nft_ctx_buffer_error(n->ctx);
    snprintf(n->table, sizeof(n->table), "%s", table);
    /* "add" then "delete" clears a leftover table from a crashed run in the same
     * transaction that creates the new one. Priority filter - 10: before other filters. */
    snprintf(cmd, sizeof(cmd),
             "add table inet %s\n"
             "delete table inet %s\n"
             "table inet %s {\n"
             " set ban4 { type ipv4_addr; flags timeout; }\n"
             " set ban6 { type ipv6_addr; flags timeout; }\n"
             " set ban6net { type ipv6_addr; flags interval,timeout; }\n"
             " chain input {\n"
             "  type filter hook input priority filter - 10; policy accept;\n"
             "  ip saddr @ban4 drop\n"
             "  ip6 saddr @ban6 drop\n"
             "  ip6 saddr @ban6net drop\n"
             " }\n"
             "}\n",
             table, table, table);
    rc = run(n, cmd);
    if (rc != 0) {
        ban_nft_close(n, false);
        return rc;
    }
    *out = n;
    return 0;
}

void ban_nft_close(struct ban_nft *n, bool remove)
{
    char cmd[128];

    if (!n)
        return;
    if (remove) {
        snprintf(cmd, sizeof(cmd), "delete table inet %s\n", n->table);
        (void)run(n, cmd);
    }
    nft_ctx_free(n->ctx);
    free(n);
}

static void element(const struct ban_entry *e, const char **set, char *buf, size_t cap)
{
    char ip[PBX_ADDR_STRLEN];

    pbx_addr_fmt_ip(&e->addr, ip, sizeof(ip));
    if (e->addr.family == AF_INET) {
        *set = "ban4";
        snprintf(buf, cap, "%s", ip);
    } else if (e->prefix == 64) {
        *set = "ban6net";
        snprintf(buf, cap, "%s/64", ip);
    } else {
        *set = "ban6";
        snprintf(buf, cap, "%s", ip);
    }
}

int ban_nft_add(struct ban_nft *n, const struct ban_entry *e, int64_t now_ms)
{
    char el[PBX_ADDR_STRLEN + 8], to[48], cmd[512];
    const char *set;

    if (e->expires_ms <= now_ms)
        return -ESTALE;
    element(e, &set, el, sizeof(el));
    if (e->expires_ms == BAN_PERMANENT)
        to[0] = '\0';
    else
        snprintf(to, sizeof(to), " timeout %lldms", (long long)(e->expires_ms - now_ms));
    /* add (no-op if present), delete, add: replaces the timeout atomically. */
    snprintf(cmd, sizeof(cmd),
             "add element inet %s %s { %s }\n"
             "delete element inet %s %s { %s }\n"
             "add element inet %s %s { %s%s }\n",
             n->table, set, el, n->table, set, el, n->table, set, el, to);
    return run(n, cmd);
}

int ban_nft_del(struct ban_nft *n, const struct ban_entry *e)
{
    char el[PBX_ADDR_STRLEN + 8], cmd[512];
    const char *set;

    element(e, &set, el, sizeof(el));
    snprintf(cmd, sizeof(cmd),
             "add element inet %s %s { %s }\n"
             "delete element inet %s %s { %s }\n",
             n->table, set, el, n->table, set, el);
    return run(n, cmd);
}

const char *ban_nft_error(const struct ban_nft *n)
{
    return n->err;
}
