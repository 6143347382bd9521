#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloc_count.h"

#ifdef BENCH_NO_ALLOC_COUNT

bool alloc_count_available(void)
{
    return false;
}

struct alloc_counts alloc_count_get(void)
{
    return (struct alloc_counts){0};
}

#else

#include <malloc.h>

/* glibc's real allocator entry points. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

static struct alloc_counts counts;

bool alloc_count_available(void)
{
    return true;
}

struct alloc_counts alloc_count_get(void)
{
    return counts;
}

void *malloc(size_t size)
{
    counts.allocs++;
    counts.bytes += size;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    counts.allocs++;
    counts.bytes += n * size;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    counts.allocs++;
    counts.bytes += size;
    return __libc_realloc(p, size);
}

void free(void *p)
{
    if (p)
        counts.frees++;
    __libc_free(p);
}

void *memalign(size_t align, size_t size)
{
    counts.allocs++;
    counts.bytes += size;
    return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    return memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    void *p = memalign(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

#endif
