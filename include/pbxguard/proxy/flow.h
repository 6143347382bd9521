/*
 * Flow tokens: opaque, integrity-protected names for "the way back to a peer".
 *
 * A flow is the transport, remote address and port, listener and connection id a message
 * arrived on. The gateway puts a flow token in the user part of the Path URI it adds to a
 * REGISTER (RFC 3327), in the phone-facing Record-Route entry of a dialog, and in its own
 * Via, so that a later request from the PBX (carrying a Route to that URI) or a response
 * goes back over the phone's own TCP/TLS connection or to its NAT binding (RFC 5626 §5.2
 * uses the same idea).
 *
 * Token = hex(tag[10] || ciphertext). tag is HMAC-SHA256(mac_key, payload) cut to 80 bits;
 * the payload is encrypted by XOR with HMAC-SHA256(enc_key, tag) (a deterministic SIV
 * construction), so the token reveals nothing about the flow (an inside address never leaks
 * to the outside through it) and cannot be forged or altered without the key. The keys live
 * for the process (or are loaded from the data directory), so tokens survive a reload.
 *
 * Thread-safety: a struct flow_key is read-only after flow_key_init(); encode and decode
 * are pure functions of it and may run concurrently.
 */
#ifndef PBXGUARD_PROXY_FLOW_H
#define PBXGUARD_PROXY_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"

#define FLOW_KEY_LEN 32u
#define FLOW_TAG_LEN 10u
/* Largest payload (IPv6) is 32 bytes; the hex token is at most 2 * (10 + 32) characters. */
#define FLOW_TOKEN_MAX 84u

struct flow_key {
    uint8_t mac[FLOW_KEY_LEN];
    uint8_t enc[FLOW_KEY_LEN];
    /* HMAC-SHA256 inner/outer midstates of both keys (mac_in, mac_out, enc_in, enc_out),
     * computed once by the init functions so a token costs four compressions. */
    uint32_t mid[4][8];
};

struct flow {
    enum pbx_transport transport;
    struct pbx_addr addr; /* where the peer is reached: source address and port */
    unsigned listener_id; /* listener it arrived on (NET_ANY_LISTENER for outbound) */
    uint64_t conn_id;     /* TCP/TLS connection, 0 for UDP */
    uint8_t side;         /* PROXY_SIDE_INSIDE or PROXY_SIDE_OUTSIDE of the peer */
};

/* Fills both keys from the kernel's CSPRNG (getrandom). Returns 0 or -errno. */
PBX_WUR int flow_key_init_random(struct flow_key *k);
/* Derives both keys from secret (e.g. a key file); len >= 16. Returns 0 or -EINVAL. */
PBX_WUR int flow_key_init_secret(struct flow_key *k, const uint8_t *secret, size_t len);

/*
 * Writes the token of f into dst (cap bytes, NUL-terminated, lower-case hex, at most
 * FLOW_TOKEN_MAX characters). Returns the token length, or -EMSGSIZE when cap is short,
 * -EINVAL for an address family other than IPv4/IPv6.
 */
PBX_WUR int flow_encode(const struct flow_key *k, const struct flow *f, char *dst, size_t cap);

/*
 * Decodes a token (exactly the token characters, not NUL-terminated). Writes *f only on
 * success. Returns 0, or -EBADMSG when the text is not a token, or -EPERM when the tag does
 * not verify (tampered, or made with another key). Constant-time tag comparison.
 */
PBX_WUR int flow_decode(const struct flow_key *k, struct slice token, struct flow *f);

#endif
