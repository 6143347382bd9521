/* Flow tokens: round trip, tampering, another key, malformed text. */
#include <errno.h>
#include <string.h>

#include "pbxguard/proxy/flow.h"
#include "pbxguard/proxy/proxy.h"
#include "test.h"

static void round_trip(const struct flow_key *k, const char *addr, enum pbx_transport tp,
                       uint64_t conn)
{
    struct flow f, g;
    char tok[FLOW_TOKEN_MAX + 1];
    memset(&f, 0, sizeof(f));
    CHECK_INT(pbx_addr_parse(addr, strlen(addr), &f.addr), 0);
    f.transport = tp;
    f.conn_id = conn;
    f.listener_id = 3;
    f.side = PROXY_SIDE_OUTSIDE;
    int n = flow_encode(k, &f, tok, sizeof(tok));
    CHECK(n > 0 && n <= (int)FLOW_TOKEN_MAX);
    CHECK_INT(strlen(tok), n);
    CHECK_INT(flow_decode(k, slice_make(tok, (size_t)n), &g), 0);
    CHECK_INT(g.transport, tp);
    CHECK_INT(g.conn_id, conn);
    CHECK_INT(g.listener_id, 3);
    CHECK_INT(g.side, PROXY_SIDE_OUTSIDE);
    CHECK(pbx_addr_eq(&g.addr, &f.addr, true));
    /* The address is not readable in the token. */
    char ip[PBX_ADDR_STRLEN];
    pbx_addr_fmt_ip(&f.addr, ip, sizeof(ip));
    CHECK(strstr(tok, ip) == NULL);
    /* Every single-character change is refused. */
    unsigned refused = 0;
    for (int i = 0; i < n; i++) {
        char t2[FLOW_TOKEN_MAX + 1];
        memcpy(t2, tok, (size_t)n + 1);
        t2[i] = t2[i] == 'a' ? 'b' : 'a';
        if (flow_decode(k, slice_make(t2, (size_t)n), &g) != 0)
            refused++;
    }
    CHECK_INT(refused, n);
}

int main(void)
{
    struct flow_key k1, k2;
    struct flow f, g;
    char tok[FLOW_TOKEN_MAX + 1];

    CHECK_INT(flow_key_init_random(&k1), 0);
    CHECK_INT(flow_key_init_secret(&k2, (const uint8_t *)"0123456789abcdef0123", 20), 0);
    round_trip(&k1, "198.51.100.7:5062", PBX_TP_UDP, 0);
    round_trip(&k1, "[2001:db8::7]:5061", PBX_TP_TLS, 0x123456789abcull);
    round_trip(&k2, "192.0.2.1:40000", PBX_TP_TCP, 77);

    memset(&f, 0, sizeof(f));
    CHECK_INT(pbx_addr_parse("192.0.2.1:5060", 14, &f.addr), 0);
    int n = flow_encode(&k1, &f, tok, sizeof(tok));
    CHECK(n > 0);
    CHECK_INT(flow_decode(&k2, slice_make(tok, (size_t)n), &g), -EPERM);
    CHECK_INT(flow_decode(&k1, slice_make(tok, (size_t)n - 2), &g), -EBADMSG);
    CHECK_INT(flow_decode(&k1, SLICE_LIT("100"), &g), -EBADMSG);
    CHECK_INT(flow_decode(&k1, SLICE_LIT("alice"), &g), -EBADMSG);
    CHECK_INT(flow_encode(&k1, &f, tok, 10), -EMSGSIZE);
    /* Same secret, same keys: tokens survive a restart when the key file is kept. */
    struct flow_key k3;
    CHECK_INT(flow_key_init_secret(&k3, (const uint8_t *)"0123456789abcdef0123", 20), 0);
    n = flow_encode(&k2, &f, tok, sizeof(tok));
    CHECK_INT(flow_decode(&k3, slice_make(tok, (size_t)n), &g), 0);
    return test_finish();
}
