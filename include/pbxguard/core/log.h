/*
 * Diagnostic log: what the program is doing and what went wrong, for the operator.
 * Never used for security decisions; those are events (pbxguard/core/event.h).
 *
 * One line per call: "2026-11-27T08:00:00.123Z warn message\n" on stderr or in a file,
 * or syslog(3) with the matching priority. Lines longer than LOG_LINE_MAX are cut with a
 * "…" marker. Bytes that came from the network must go through esc_s()/esc_untrusted().
 *
 * Thread-safety: log_write and friends may be called from any thread; each line is written
 * with one write(2) (O_APPEND for files), so lines never interleave. log_configure/
 * log_set_level/log_close are meant for start-up and reload, from one thread.
 * Before log_configure the log goes to stderr at level info.
 */
#ifndef PBXGUARD_CORE_LOG_H
#define PBXGUARD_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "pbxguard/core/compiler.h"

#define LOG_LINE_MAX 2048u

enum log_level {
    LOG_LEVEL_ERROR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

enum log_dest {
    LOG_DEST_STDERR,
    LOG_DEST_SYSLOG,
    LOG_DEST_FILE,
};

/* The "log" configuration section (see docs/configuration.md). */
struct log_config {
    enum log_level level; /* default info */
    enum log_dest dest;   /* default stderr */
    const char *path;     /* LOG_DEST_FILE only; borrowed from the snapshot */
    const char *ident;    /* syslog ident, default "pbxguard" */
};

struct cfg_node;
struct cfg_diag;
/* Section loader / free for the config table (pbxguard/core/config.h). */
PBX_WUR int log_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void log_config_free(void *obj);

/*
 * Switches the log to cfg (copied; strings too). Opens the file (O_APPEND|O_CREAT, 0640)
 * before closing the old destination, so a failure leaves the log as it was.
 * Returns 0, or -errno from open(2).
 */
PBX_WUR int log_configure(const struct log_config *cfg);
/* Reopens the log file (after external rotation). Returns 0 or -errno. */
PBX_WUR int log_reopen(void);
/* Back to stderr, closes a file / syslog. */
void log_close(void);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* True if a message at level would be written (to skip expensive argument building). */
bool log_enabled(enum log_level level);
/* "error", "warn", "info", "debug". */
const char *log_level_name(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...) PBX_PRINTF(2, 3);
void log_vwrite(enum log_level level, const char *fmt, va_list ap) PBX_PRINTF(2, 0);
void log_error(const char *fmt, ...) PBX_PRINTF(1, 2);
void log_warn(const char *fmt, ...) PBX_PRINTF(1, 2);
void log_info(const char *fmt, ...) PBX_PRINTF(1, 2);
void log_debug(const char *fmt, ...) PBX_PRINTF(1, 2);

#endif
