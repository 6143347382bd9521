/*
 * The `fraud:` section of the configuration file (keys in docs/fraud.md). The loader
 * follows cfg_section_load_fn: it validates the whole section, reports every problem as
 * "file:line:column: fraud.<path>: reason", and on success returns a heap-allocated
 * struct fraud_policy (free with fraud_config_free). An absent section yields the
 * built-in defaults.
 */
#ifndef PBXGUARD_FRAUD_CONFIG_H
#define PBXGUARD_FRAUD_CONFIG_H

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/config.h"
#include "pbxguard/fraud/policy.h"

/* *out receives a struct fraud_policy *. -EINVAL (errors in d) or -ENOMEM. */
PBX_WUR int fraud_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void fraud_config_free(void *obj);
/* The policy of a snapshot built with the application's section table, or NULL. */
const struct fraud_policy *fraud_config_get(const struct cfg_snapshot *s);

#endif
