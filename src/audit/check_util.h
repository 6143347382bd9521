/*
 * Mechanics shared by several checks and configuration readers of the audit library. Each
 * check keeps its own file and decides what it looks for; only the loops live here.
 */
#ifndef PBXGUARD_AUDIT_CHECK_UTIL_H
#define PBXGUARD_AUDIT_CHECK_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "pbxguard/audit/audit.h"
#include "pbxguard/core/compiler.h"

struct ast_conf;
struct ast_var;
struct audit_ctx;
struct host_listen;

/* Selects the listening sockets a check is about. */
typedef bool audit_listen_pred_fn(const struct host_listen *l);
/* Selects the installed products (host_version.product) a check is about. */
typedef bool audit_product_pred_fn(const char *product);

/*
 * Appends a copy of path to the list files[0..*nfiles) (grown by realloc) and returns the copy,
 * owned by the list and valid until audit_file_list_free. NULL on allocation failure (the list
 * is unchanged). Not thread-safe.
 */
const char *audit_file_list_add(char ***files, size_t *nfiles, const char *path);
/* Frees every entry and the list; leaves *files NULL and *nfiles 0. */
void audit_file_list_free(char ***files, size_t *nfiles);

/*
 * Reports "<proto> <addr>:<port> listening" (IPv6 addresses bracketed) for every socket of the
 * host that is not on loopback and that wanted selects. 0, or the first -errno of
 * audit_report_add.
 */
PBX_WUR int audit_report_listeners(const struct audit_check *self, const struct audit_ctx *ctx,
                                   struct audit_report *r, audit_listen_pred_fn *wanted);

/*
 * Reports "<name> installed, end of life N days ago" for every installed product that wanted
 * selects and whose end of life (host_eol_lookup) lies before ctx->today. 0, or the first
 * -errno of audit_report_add.
 */
PBX_WUR int audit_report_eol(const struct audit_check *self, const struct audit_ctx *ctx,
                             struct audit_report *r, audit_product_pred_fn *wanted);

/*
 * For an Asterisk file with a [general] enabled=yes and a bindaddr that is not private (or
 * unset): returns the variable to cite (bindaddr, or enabled when bindaddr is unset) and sets
 * *bind to the bindaddr value or NULL. Returns NULL when the service is off or private. Both
 * results borrow from conf.
 */
const struct ast_var *audit_ast_general_public(const struct ast_conf *conf, const char **bind);

#endif
