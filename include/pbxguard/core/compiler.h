/* Compiler helpers shared by every subsystem. */
#ifndef PBXGUARD_CORE_COMPILER_H
#define PBXGUARD_CORE_COMPILER_H

#define PBX_WUR __attribute__((warn_unused_result))
#define PBX_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define PBX_LIKELY(x) __builtin_expect(!!(x), 1)
#define PBX_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PBX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PBX_UNUSED __attribute__((unused))

#endif
