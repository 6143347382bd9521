/*
 * Minimal assertion macros for pbxguard's test programs. A failed check prints both sides
 * with file:line and the test goes on; test_finish() prints "N passed, N failed" and
 * returns the process exit code.
 */
#ifndef PBXGUARD_TEST_H
#define PBXGUARD_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pbxguard/core/slice.h"

static unsigned test_passed_count;
static unsigned test_failed_count;

#define TEST_FAIL_AT(...)                                                                          \
    do {                                                                                           \
        test_failed_count++;                                                                       \
        fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                                      \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            test_passed_count++;                                                                   \
        else                                                                                       \
            TEST_FAIL_AT("%s", #cond);                                                             \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ == b_)                                                                              \
            test_passed_count++;                                                                   \
        else                                                                                       \
            TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, a_, b_);                                \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ && b_ && strcmp(a_, b_) == 0)                                                       \
            test_passed_count++;                                                                   \
        else                                                                                       \
            TEST_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",                 \
                         b_ ? b_ : "(null)");                                                      \
    } while (0)

/* Compares a slice with a C string, byte for byte. */
#define CHECK_SLICE(s, str)                                                                        \
    do {                                                                                           \
        struct slice s_ = (s);                                                                     \
        const char *b_ = (str);                                                                    \
        if (s_.p && slice_eq_cstr(s_, b_))                                                         \
            test_passed_count++;                                                                   \
        else                                                                                       \
            TEST_FAIL_AT("%s == %s: \"%.*s\" != \"%s\"", #s, #str, (int)s_.len,                    \
                         s_.p ? s_.p : "(absent)", b_);                                            \
    } while (0)

static inline int test_finish(void)
{
    printf("%u passed, %u failed\n", test_passed_count, test_failed_count);
    return test_failed_count ? 1 : 0;
}

#endif
