/*
 * The proxy's field hashing is the core SipHash-1-3 of the concatenated fields while they
 * fit its buffer (the values the former streaming copy produced), and stays deterministic,
 * order-sensitive and bounded past it.
 */
#include <string.h>

#include "keyhash.h"
#include "test.h"

/* Fed in pieces, the same value as the core SipHash-1-3 of the whole (key 00..0f, message
 * 00..0e; the core is checked against reference vectors in test_detect). */
static void test_reference_vector(void)
{
    uint8_t key[16], msg[15];
    struct px_khash h;
    for (unsigned i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (unsigned i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    px_kh_init(&h, key);
    px_kh_put(&h, msg, 4);
    px_kh_put(&h, NULL, 0);
    px_kh_put(&h, msg + 4, 11);
    CHECK(px_kh_final(&h) == pbx_siphash13(key, msg, sizeof(msg)));
}

static void test_fields(void)
{
    static uint8_t big[3 * PX_KH_BUF + 17];
    static uint8_t cat[4 + 3 + 4 + 5];
    uint8_t key[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
    struct px_khash a, b;

    /* Short: exactly pbx_siphash13 over length-prefixed fields. */
    px_kh_init(&a, key);
    px_kh_field(&a, "abc", 3);
    px_kh_field(&a, "defgh", 5);
    memcpy(cat, "\x03\0\0\0abc\x05\0\0\0defgh", sizeof(cat));
    CHECK(px_kh_final(&a) == pbx_siphash13(key, cat, sizeof(cat)));
    /* Field boundaries count. */
    px_kh_init(&b, key);
    px_kh_field(&b, "abcd", 4);
    px_kh_field(&b, "efgh", 4);
    CHECK(px_kh_final(&a) != px_kh_final(&b));

    /* Long (folded): same input in different chunkings gives the same value, a change in the
     * first byte or the last one changes it. */
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 31 + 7);
    px_kh_init(&a, key);
    px_kh_field(&a, big, sizeof(big));
    px_kh_init(&b, key);
    uint8_t len4[4] = {(uint8_t)sizeof(big), (uint8_t)(sizeof(big) >> 8), 0, 0};
    px_kh_put(&b, len4, 4);
    px_kh_put(&b, big, 700);
    px_kh_put(&b, big + 700, sizeof(big) - 700);
    uint64_t ha = px_kh_final(&a);
    CHECK(ha == px_kh_final(&b));
    big[0] ^= 1;
    px_kh_init(&b, key);
    px_kh_field(&b, big, sizeof(big));
    CHECK(ha != px_kh_final(&b));
    big[0] ^= 1;
    big[sizeof(big) - 1] ^= 1;
    px_kh_init(&b, key);
    px_kh_field(&b, big, sizeof(big));
    CHECK(ha != px_kh_final(&b));
}

int main(void)
{
    test_reference_vector();
    test_fields();
    return test_finish();
}
