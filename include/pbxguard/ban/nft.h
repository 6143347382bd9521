/*
 * Kernel enforcement through libnftables: pbxguard's own table ("inet <name>") holding
 * timeout sets ban4 (ipv4_addr), ban6 (ipv6_addr) and ban6net (ipv6 interval set, for /64
 * bans), and one input-hook chain that drops their sources. The table is (re)created by
 * ban_nft_open and deleted by ban_nft_close; nothing outside it is touched.
 *
 * Needs CAP_NET_ADMIN in the network namespace of the calling process. Every call is one
 * nftables transaction (atomic). Calls block for the netlink round trip (well under a
 * millisecond on an idle host); the daemon makes them from its loop when a ban starts or
 * ends, never per packet. Not thread-safe: one owner.
 */
#ifndef PBXGUARD_BAN_NFT_H
#define PBXGUARD_BAN_NFT_H

#include <stdbool.h>
#include <stdint.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/core/compiler.h"

#define BAN_NFT_TABLE_MAX 32u

struct ban_nft;

/*
 * Creates (replacing any leftover of a previous run) table inet <table> with its sets and
 * chain. table: [a-z0-9_], 1..BAN_NFT_TABLE_MAX bytes; NULL = "pbxguard".
 * Returns 0, -EINVAL (name), -ENOMEM, -EPERM/-EIO (nftables refused: see ban_nft_error).
 */
PBX_WUR int ban_nft_open(const char *table, struct ban_nft **out);

/* Deletes the table (if remove) and frees. NULL is a no-op. */
void ban_nft_close(struct ban_nft *n, bool remove);

/* Adds or refreshes the kernel element for an active ban; the timeout is expires - now
 * (none for a permanent ban). 0, -ESTALE (already expired), -EIO. */
PBX_WUR int ban_nft_add(struct ban_nft *n, const struct ban_entry *e, int64_t now_ms);

/* Removes the element if present. 0 or -EIO. */
PBX_WUR int ban_nft_del(struct ban_nft *n, const struct ban_entry *e);

/* Last error text from nftables ("" if none); valid until the next call. */
const char *ban_nft_error(const struct ban_nft *n);

#endif
