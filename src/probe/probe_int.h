/* Private interface between the probe's orchestration and its measurements (one per file;
 * a measurement may yield several check IDs, e.g. the TLS handshake). */
#ifndef PBXGUARD_PROBE_INT_H
#define PBXGUARD_PROBE_INT_H

#include <stddef.h>

#include "pbxguard/audit/audit.h"
#include "pbxguard/core/compiler.h"

#include "txn.h"

extern const struct audit_check prb_ver_001;
extern const struct audit_check prb_opt_001;
extern const struct audit_check prb_enum_001;
extern const struct audit_check prb_enum_002;
extern const struct audit_check prb_reg_001;
extern const struct audit_check prb_route_001;
extern const struct audit_check prb_flood_001;
extern const struct audit_check prb_pass_001;
extern const struct audit_check prb_tls_001;
extern const struct audit_check prb_tls_002;
extern const struct audit_check prb_tls_003;
extern const struct audit_check prb_tls_004;
extern const struct audit_check prb_tls_005;

/* Each returns 0 or a negative errno for local failures (-ENOMEM); unreachable targets
 * are findings or silence, not errors. */
PBX_WUR int probe_check_options(struct probe_ctx *pc, struct audit_report *r);
PBX_WUR int probe_check_route(struct probe_ctx *pc, struct audit_report *r);
PBX_WUR int probe_check_enum(struct probe_ctx *pc, const unsigned *ext, size_t n,
                             struct audit_report *r);
PBX_WUR int probe_check_passwords(struct probe_ctx *pc, const unsigned *ext, size_t n,
                                  struct audit_report *r);
PBX_WUR int probe_check_tls(struct probe_ctx *pc, struct audit_report *r);
PBX_WUR int probe_check_flood(struct probe_ctx *pc, struct audit_report *r);

/*
 * RFC 2617 digest response for a challenge value (WWW-/Proxy-Authenticate), writing the
 * whole credentials header line ("Authorization: Digest ...\r\n") into out.
 * 0, -EBADMSG (challenge unusable), -EMSGSIZE.
 */
PBX_WUR int probe_digest_header(const char *challenge, bool proxy, const char *user,
                                const char *password, const char *method, const char *uri,
                                char *out, size_t cap);

#endif
