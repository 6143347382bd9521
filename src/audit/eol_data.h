/* The end-of-life table compiled in from src/audit/data/eol.txt. */
#ifndef PBXGUARD_AUDIT_EOL_DATA_H
#define PBXGUARD_AUDIT_EOL_DATA_H

extern const char audit_eol_builtin[];

#endif
