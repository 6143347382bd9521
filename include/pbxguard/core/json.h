/*
 * A small streaming JSON writer for events and every "--format json" CLI output.
 *
 *   struct json_writer w;
 *   json_init_dynamic(&w, 1 << 20);
 *   json_obj_begin(&w);
 *   json_kv_str(&w, "file", path);
 *   json_key(&w, "errors");
 *   json_arr_begin(&w);
 *   ...
 *   json_arr_end(&w);
 *   json_obj_end(&w);
 *   if (json_error(&w) == 0)
 *       puts(json_cstr(&w));
 *   json_fini(&w);
 *
 * Commas and nesting are tracked by the writer; the calls themselves never fail. The first
 * problem (output larger than the cap: -EMSGSIZE; allocation failure: -ENOMEM; unbalanced
 * begin/end or nesting deeper than JSON_MAX_DEPTH: -EINVAL) is remembered and further calls
 * are ignored, so check json_error() once at the end. Every string, keys included, goes through
 * esc_untrusted(ESC_JSON), so any bytes are safe to pass; json_str_untrusted() additionally
 * caps the input length for attacker-controlled values. The output is compact (no spaces, no
 * newline) and NUL-terminated. Not thread-safe: one writer per thread.
 */
#ifndef PBXGUARD_CORE_JSON_H
#define PBXGUARD_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"

#define JSON_MAX_DEPTH 32u

struct json_writer {
    char *buf;
    size_t len;
    size_t cap;
    size_t max;          /* hard cap on len */
    bool dynamic;        /* buf is heap-owned and grows up to max */
    int err;             /* first error, sticky */
    unsigned depth;      /* open containers */
    uint32_t need_comma; /* bit per depth: a value was already written at that level */
    uint32_t is_object;  /* bit per depth: container is an object */
    bool after_key;      /* a key was written, its value is next */
};

/* Writes into caller storage buf[cap]; never allocates. cap must be > 0. */
void json_init_fixed(struct json_writer *w, char *buf, size_t cap);
/* Heap buffer growing as needed up to max bytes. */
void json_init_dynamic(struct json_writer *w, size_t max);
/* Frees a dynamic buffer; no-op for fixed. */
void json_fini(struct json_writer *w);
/* Empties the output for reuse (keeps the buffer; clears errors and nesting). */
void json_reset(struct json_writer *w);

void json_obj_begin(struct json_writer *w);
void json_obj_end(struct json_writer *w);
void json_arr_begin(struct json_writer *w);
void json_arr_end(struct json_writer *w);
/* Key inside an object; the next call writes its value. */
void json_key(struct json_writer *w, const char *key);

void json_str(struct json_writer *w, const char *s); /* NULL writes null */
void json_str_len(struct json_writer *w, const char *s, size_t len);
/* Attacker-controlled bytes: at most max_in bytes shown, then "…[+N bytes]". */
void json_str_untrusted(struct json_writer *w, struct slice s, size_t max_in);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_double(struct json_writer *w, double v); /* non-finite values write null */
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/* key + value shorthands */
void json_kv_str(struct json_writer *w, const char *key, const char *s);
void json_kv_int(struct json_writer *w, const char *key, int64_t v);
void json_kv_uint(struct json_writer *w, const char *key, uint64_t v);
void json_kv_bool(struct json_writer *w, const char *key, bool v);

/* 0, or the first error; also -EINVAL if containers are still open. */
PBX_WUR int json_error(const struct json_writer *w);
/* The output so far, NUL-terminated (empty string if nothing was written). */
const char *json_cstr(const struct json_writer *w);
size_t json_len(const struct json_writer *w);

#endif
