/*
 * Reader for Asterisk's .conf format, shared by pjsip.conf, sip.conf, extensions.conf,
 * manager.conf, http.conf, ari.conf and rtp.conf.
 *
 * Supported: [name] sections, templates [name](!), inheritance [name](t1,t2) (the
 * template's variables are copied at parse time, keeping their own file:line), [name](+)
 * to extend a section, "=" and "=>", ';' comments, "\;" escapes, ";-- --;" block comments
 * and "#include" / "#tryinclude" with glob patterns, resolved relative to the including
 * file, with loop protection (a file already on the include stack is skipped).
 */
#ifndef PBXGUARD_AUDIT_AST_CONF_H
#define PBXGUARD_AUDIT_AST_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "pbxguard/core/compiler.h"

/* Caps that keep a hostile or broken tree from exhausting memory. */
#define AST_CONF_MAX_DEPTH 16
#define AST_CONF_MAX_FILES 256
#define AST_CONF_MAX_LINE 4096
#define AST_CONF_MAX_VARS 200000

struct ast_var {
    char *name;       /* owned, trimmed */
    char *value;      /* owned, trimmed, escapes resolved */
    const char *file; /* borrowed from the owning ast_conf */
    unsigned line;
    bool arrow; /* written with "=>" */
};

struct ast_section {
    char *name;
    bool is_template;
    const char *file;
    unsigned line;
    struct ast_var *vars;
    size_t nvars, cap;
};

struct ast_conf {
    struct ast_section *secs;
    size_t nsecs, cap;
    char **files; /* every file read, owned; ast_var.file points here */
    size_t nfiles;
    size_t total_vars;
};

/*
 * Reads path and everything it includes into c (which the function initialises).
 * Returns 0, -ENOENT when path itself cannot be opened, -ENOMEM, or -EMSGSIZE when a cap
 * was hit. On error c is left empty (fini is still safe).
 */
PBX_WUR int ast_conf_load(const char *path, struct ast_conf *c);
void ast_conf_fini(struct ast_conf *c);

/* Last value of name in sec (case-insensitive), or NULL. *where (optional) gets the var. */
const char *ast_section_get(const struct ast_section *sec, const char *name,
                            const struct ast_var **where);
/* First non-template section with this name and, if type is not NULL, this type=. */
const struct ast_section *ast_conf_find(const struct ast_conf *c, const char *name,
                                        const char *type);
/* True for the section's type= value (case-insensitive); false when absent. */
bool ast_section_is_type(const struct ast_section *sec, const char *type);
/* Asterisk's ast_true(): yes, true, y, t, 1, on. */
bool ast_true(const char *v);
/* Base name of a path, for compact evidence ("pjsip.conf" rather than a long prefix). */
const char *ast_basename(const char *path);

#endif
