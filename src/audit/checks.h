/* Every check descriptor, one per file; registered in checks.c. */
#ifndef PBXGUARD_AUDIT_CHECKS_H
#define PBXGUARD_AUDIT_CHECKS_H

#include "pbxguard/audit/audit.h"

#define AUDIT_CHECK(sym) extern const struct audit_check sym;
#define AUDIT_CHECK_LIST(X)                                                                        \
    X(check_ast_ami_001)                                                                           \
    X(check_ast_ami_002)                                                                           \
    X(check_ast_ami_003)                                                                           \
    X(check_ast_ari_001)                                                                           \
    X(check_ast_dial_001)                                                                          \
    X(check_ast_http_001)                                                                          \
    X(check_ast_pjsip_001)                                                                         \
    X(check_ast_pjsip_002)                                                                         \
    X(check_ast_pjsip_003)                                                                         \
    X(check_ast_pjsip_004)                                                                         \
    X(check_ast_pjsip_005)                                                                         \
    X(check_ast_pjsip_006)                                                                         \
    X(check_ast_pjsip_007)                                                                         \
    X(check_ast_rtp_001)                                                                           \
    X(check_ast_sip_001)                                                                           \
    X(check_ast_sip_002)                                                                           \
    X(check_ast_sip_003)                                                                           \
    X(check_ast_sip_004)                                                                           \
    X(check_ast_sip_005)                                                                           \
    X(check_ast_sip_006)                                                                           \
    X(check_ast_sip_007)                                                                           \
    X(check_ast_sip_008)                                                                           \
    X(check_fs_esl_001)                                                                            \
    X(check_fs_esl_002)                                                                            \
    X(check_fs_sofia_001)                                                                          \
    X(check_fs_sofia_002)                                                                          \
    X(check_fs_vars_001)                                                                           \
    X(check_host_db_001)                                                                           \
    X(check_host_fw_001)                                                                           \
    X(check_host_fw_002)                                                                           \
    X(check_host_os_001)                                                                           \
    X(check_host_os_002)                                                                           \
    X(check_host_php_001)                                                                          \
    X(check_host_port_001)                                                                         \
    X(check_host_port_002)                                                                         \
    X(check_host_port_003)                                                                         \
    X(check_host_ssh_001)                                                                          \
    X(check_host_ssh_002)                                                                          \
    X(check_host_ssh_003)                                                                          \
    X(check_host_tls_001)                                                                          \
    X(check_host_tls_002)                                                                          \
    X(check_host_tls_003)                                                                          \
    X(check_host_tls_004)                                                                          \
    X(check_kam_auth_001)                                                                          \
    X(check_kam_flood_001)                                                                         \
    X(check_kam_scan_001)

AUDIT_CHECK_LIST(AUDIT_CHECK)

/* Helpers shared by the checks. */
struct ast_section;
/* True when an address string binds every interface ("0.0.0.0", "::", "[::]", empty). */
bool audit_addr_is_any(const char *addr);
/* True for loopback or RFC 1918 / RFC 4193 private addresses (not reachable from outside). */
bool audit_addr_is_private(const char *addr);

#endif
