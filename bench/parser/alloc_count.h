/*
 * Heap allocation counting for the parser benchmark, by interposing malloc, calloc,
 * realloc, free, posix_memalign, aligned_alloc and memalign in the benchmark executable
 * (definitions in the executable take precedence over libc's for every shared library,
 * libosip2 included) and forwarding to glibc's __libc_* entry points. Not available in
 * sanitizer builds (BENCH_NO_ALLOC_COUNT), whose runtimes own malloc. Not thread-safe:
 * the benchmark is single-threaded.
 */
#ifndef PBXGUARD_BENCH_ALLOC_COUNT_H
#define PBXGUARD_BENCH_ALLOC_COUNT_H

#include <stdbool.h>
#include <stdint.h>

struct alloc_counts {
    uint64_t allocs; /* malloc, calloc, realloc (as an allocation), memalign family */
    uint64_t frees;  /* free of a non-NULL pointer */
    uint64_t bytes;  /* bytes requested */
};

bool alloc_count_available(void);
/* Counts so far (monotonic since start-up). */
struct alloc_counts alloc_count_get(void);

#endif
