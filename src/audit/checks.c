/* The check registry: every descriptor in ID order. */
#include <string.h>

#include "checks.h"

#define AUDIT_CHECK_REF(sym) &sym,
static const struct audit_check *const registry[] = {AUDIT_CHECK_LIST(AUDIT_CHECK_REF)};

const struct audit_check *const *audit_checks(size_t *n)
{
    *n = PBX_ARRAY_SIZE(registry);
    return registry;
}

const struct audit_check *audit_check_by_id(const char *id)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(registry); i++)
        if (strcmp(registry[i]->id, id) == 0)
            return registry[i];
    return NULL;
}
