/* Streaming JSON writer; see pbxguard/core/json.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/escape.h"
#include "pbxguard/core/json.h"

static void fail(struct json_writer *w, int err)
{
    if (!w->err)
        w->err = err;
}

/* Makes room for n more bytes plus the NUL; false (and a sticky error) if impossible. */
static bool reserve(struct json_writer *w, size_t n)
{
    if (w->err)
        return false;
    if (n > w->max || w->len > w->max - n) {
        fail(w, -EMSGSIZE);
        return false;
    }
    if (w->len + n < w->cap)
        return true;
    if (!w->dynamic) {
        fail(w, -EMSGSIZE);
        return false;
    }
    size_t want = w->cap ? w->cap : 256;
    while (want <= w->len + n)
        want *= 2;
    if (want > w->max + 1)
        want = w->max + 1;
    char *nb = realloc(w->buf, want);
    if (!nb) {
        fail(w, -ENOMEM);
        return false;
    }
    w->buf = nb;
    w->cap = want;
    return true;
}

static void put(struct json_writer *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void json_init_fixed(struct json_writer *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
    w->max = cap ? cap - 1 : 0;
    if (cap)
        buf[0] = '\0';
    else
        w->err = -EINVAL;
}

void json_init_dynamic(struct json_writer *w, size_t max)
{
    memset(w, 0, sizeof(*w));
    w->dynamic = true;
    w->max = max;
}

void json_fini(struct json_writer *w)
{
    if (w->dynamic)
        free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void json_reset(struct json_writer *w)
{
    w->len = 0;
    if (w->buf)
        w->buf[0] = '\0';
    w->err = 0;
    w->depth = 0;
    w->need_comma = 0;
    w->is_object = 0;
    w->after_key = false;
}

/* Separator before a value: a comma between siblings; values in objects need a key first. */
static bool before_value(struct json_writer *w)
{
    if (w->err)
        return false;
    if (w->depth > 0) {
        uint32_t bit = 1u << (w->depth - 1);
        if (w->is_object & bit) {
            if (!w->after_key) {
                fail(w, -EINVAL);
                return false;
            }
            w->after_key = false;
            return true;
        }
        if (w->need_comma & bit)
            put(w, ",", 1);
        w->need_comma |= bit;
    } else if (w->len > 0) {
        /* a second top-level value would not be one JSON text */
        fail(w, -EINVAL);
        return false;
    }
    return !w->err;
}

static void begin(struct json_writer *w, bool object)
{
    if (!before_value(w))
        return;
    if (w->depth >= JSON_MAX_DEPTH) {
        fail(w, -EINVAL);
        return;
    }
    put(w, object ? "{" : "[", 1);
    uint32_t bit = 1u << w->depth;
    w->depth++;
    w->need_comma &= ~bit;
    if (object)
        w->is_object |= bit;
    else
        w->is_object &= ~bit;
}

static void end(struct json_writer *w, bool object)
{
    if (w->err)
        return;
    if (w->depth == 0 || w->after_key || !!(w->is_object & (1u << (w->depth - 1))) != object) {
        fail(w, -EINVAL);
        return;
    }
    w->depth--;
    put(w, object ? "}" : "]", 1);
}

void json_obj_begin(struct json_writer *w)
{
    begin(w, true);
}

void json_obj_end(struct json_writer *w)
{
    end(w, true);
}

void json_arr_begin(struct json_writer *w)
{
    begin(w, false);
}

void json_arr_end(struct json_writer *w)
{
    end(w, false);
}

/* Writes "escaped" with at most max_in input bytes shown. */
static void put_string(struct json_writer *w, const char *s, size_t len, size_t max_in)
{
    size_t shown = len < max_in ? len : max_in;
    size_t need = esc_measure(s, shown, ESC_JSON) + ESC_MIN_CAP;

    if (!reserve(w, need + 2))
        return;
    w->buf[w->len++] = '"';
    w->len += esc_untrusted(w->buf + w->len, need + 1, s, len, max_in, ESC_JSON);
    w->buf[w->len++] = '"';
    w->buf[w->len] = '\0';
}

void json_key(struct json_writer *w, const char *key)
{
    if (w->err)
        return;
    if (w->depth == 0 || !(w->is_object & (1u << (w->depth - 1))) || w->after_key) {
        fail(w, -EINVAL);
        return;
    }
    uint32_t bit = 1u << (w->depth - 1);
    if (w->need_comma & bit)
        put(w, ",", 1);
    w->need_comma |= bit;
    size_t len = key ? strlen(key) : 0;
    put_string(w, key ? key : "", len, len);
    put(w, ":", 1);
    w->after_key = true;
}

void json_str(struct json_writer *w, const char *s)
{
    if (!s) {
        json_null(w);
        return;
    }
    json_str_len(w, s, strlen(s));
}

void json_str_len(struct json_writer *w, const char *s, size_t len)
{
    if (before_value(w))
        put_string(w, s, len, len);
}

void json_str_untrusted(struct json_writer *w, struct slice s, size_t max_in)
{
    if (before_value(w))
        put_string(w, s.p, s.len, max_in);
}

static void put_raw_value(struct json_writer *w, const char *text)
{
    if (before_value(w))
        put(w, text, strlen(text));
}

void json_int(struct json_writer *w, int64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%" PRId64, v);
    put_raw_value(w, num);
}

void json_uint(struct json_writer *w, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%" PRIu64, v);
    put_raw_value(w, num);
}

void json_double(struct json_writer *w, double v)
{
    char num[32];
    if (!isfinite(v)) {
        put_raw_value(w, "null");
        return;
    }
    snprintf(num, sizeof(num), "%.17g", v);
    put_raw_value(w, num);
}

void json_bool(struct json_writer *w, bool v)
{
    put_raw_value(w, v ? "true" : "false");
}

void json_null(struct json_writer *w)
{
    put_raw_value(w, "null");
}

void json_kv_str(struct json_writer *w, const char *key, const char *s)
{
    json_key(w, key);
    json_str(w, s);
}

void json_kv_int(struct json_writer *w, const char *key, int64_t v)
{
    json_key(w, key);
    json_int(w, v);
}

void json_kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
    json_key(w, key);
    json_uint(w, v);
}

void json_kv_bool(struct json_writer *w, const char *key, bool v)
{
    json_key(w, key);
    json_bool(w, v);
}

int json_error(const struct json_writer *w)
{
    if (w->err)
        return w->err;
    if (w->depth || w->after_key)
        return -EINVAL;
    return 0;
}

const char *json_cstr(const struct json_writer *w)
{
    return w->buf ? w->buf : "";
}

size_t json_len(const struct json_writer *w)
{
    return w->len;
}
