/* The JSON writer: nesting, commas, escaping, caps and misuse. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "pbxguard/core/json.h"
#include "test.h"

static void test_nesting(void)
{
    struct json_writer w;
    json_init_dynamic(&w, 4096);
    json_obj_begin(&w);
    json_kv_str(&w, "a", "x\"y");
    json_kv_int(&w, "n", -42);
    json_kv_uint(&w, "u", UINT64_MAX);
    json_kv_bool(&w, "t", true);
    json_key(&w, "list");
    json_arr_begin(&w);
    json_int(&w, 1);
    json_str(&w, NULL);
    json_null(&w);
    json_obj_begin(&w);
    json_obj_end(&w);
    json_arr_begin(&w);
    json_arr_end(&w);
    json_double(&w, 0.5);
    json_arr_end(&w);
    json_key(&w, "k\nk");
    json_str_untrusted(&w, SLICE_LIT("\r\nabcdef"), 4);
    json_obj_end(&w);
    CHECK_INT(json_error(&w), 0);
    CHECK_STR(json_cstr(&w),
              "{\"a\":\"x\\\"y\",\"n\":-42,\"u\":18446744073709551615,\"t\":true,"
              "\"list\":[1,null,null,{},[],0.5],\"k\\nk\":\"\\r\\nab\xe2\x80\xa6[+4 bytes]\"}");
    CHECK_INT(json_len(&w), strlen(json_cstr(&w)));
    json_reset(&w);
    CHECK_STR(json_cstr(&w), "");
    json_arr_begin(&w);
    json_arr_end(&w);
    CHECK_STR(json_cstr(&w), "[]");
    json_fini(&w);
}

static void test_misuse(void)
{
    struct json_writer w;
    char buf[64];

    json_init_fixed(&w, buf, sizeof(buf));
    json_obj_begin(&w);
    json_int(&w, 1); /* value without key */
    CHECK_INT(json_error(&w), -EINVAL);

    json_init_fixed(&w, buf, sizeof(buf));
    json_arr_begin(&w);
    json_obj_end(&w); /* wrong closer */
    CHECK_INT(json_error(&w), -EINVAL);

    json_init_fixed(&w, buf, sizeof(buf));
    json_obj_begin(&w);
    CHECK_INT(json_error(&w), -EINVAL); /* still open */

    json_init_fixed(&w, buf, sizeof(buf));
    json_int(&w, 1);
    json_int(&w, 2); /* two top-level values */
    CHECK_INT(json_error(&w), -EINVAL);
    CHECK_STR(buf, "1");

    json_init_fixed(&w, buf, sizeof(buf));
    for (int i = 0; i < 40; i++)
        json_arr_begin(&w);
    CHECK_INT(json_error(&w), -EINVAL);
}

static void test_caps(void)
{
    struct json_writer w;
    char buf[16];
    json_init_fixed(&w, buf, sizeof(buf));
    json_str(&w, "this string is far too long for sixteen bytes");
    CHECK_INT(json_error(&w), -EMSGSIZE);
    CHECK(strlen(buf) < sizeof(buf));

    json_init_dynamic(&w, 10);
    json_str(&w, "12345678901");
    CHECK_INT(json_error(&w), -EMSGSIZE);
    json_fini(&w);

    json_init_dynamic(&w, 1 << 20);
    json_arr_begin(&w);
    for (int i = 0; i < 10000; i++)
        json_int(&w, i);
    json_arr_end(&w);
    CHECK_INT(json_error(&w), 0);
    CHECK(json_len(&w) > 40000);
    json_fini(&w);
}

int main(void)
{
    test_nesting();
    test_misuse();
    test_caps();
    return test_finish();
}
