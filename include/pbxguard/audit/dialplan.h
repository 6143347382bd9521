/*
 * Asterisk extension pattern semantics, as used by the dial-out exposure analysis.
 *
 * A pattern starting with '_' matches by character class: X = 0-9, Z = 1-9, N = 2-9,
 * [a-c5] = a set with ranges, '.' = one or more further characters, '!' = zero or more;
 * other characters match themselves, and '-' is ignored (as Asterisk does, "_1-800-NXX").
 * Anything else is an exact extension. Strings are NUL-terminated; pure functions,
 * thread-safe.
 */
#ifndef PBXGUARD_AUDIT_DIALPLAN_H
#define PBXGUARD_AUDIT_DIALPLAN_H

#include <stdbool.h>

/* True when pattern (an extension name as written after "exten =>") matches number. */
bool audit_ext_match(const char *pattern, const char *number);
/*
 * Orders two extensions the way Asterisk picks among several that match: negative when a
 * is preferred over b (exact before pattern; then position by position, the narrower
 * character class first; '.' and '!' last).
 */
int audit_ext_cmp(const char *a, const char *b);

#endif
