/*
 * Test and benchmark helper: SIP request/response texts and the frames carrying them, written
 * with pcapgen into capture files (UDP over IPv4/IPv6, fragmented IPv4, TCP split into
 * segments). The texts are what the attack tools and phones send; docs/sensor.md names them.
 */
#ifndef PBXGUARD_TESTS_SIPSCEN_H
#define PBXGUARD_TESTS_SIPSCEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcapgen.h"

struct sc_req {
    const char *method; /* "REGISTER" */
    const char *user;   /* Request-URI / To user */
    const char *callid;
    unsigned cseq;
    const char *ua;        /* NULL = no User-Agent */
    const char *auth_user; /* NULL = no credentials */
    const char *from_tag;  /* NULL = "a1b2c3" */
    size_t pad;            /* bytes of an X-Pad header (to force fragmentation) */
};

/* Writes the request text into out (cap bytes); returns its length (0 if it does not fit). */
size_t sc_request(char *out, size_t cap, const struct sc_req *r);

/* A response to r: status and reason, To tag added; WWW-Authenticate on 401. */
size_t sc_response(char *out, size_t cap, const struct sc_req *r, int status, const char *reason);

/* One UDP datagram in one Ethernet frame, IPv4 or IPv6 by the address text. */
int sc_udp(struct pg_writer *w, int64_t ts_us, const char *src, uint16_t sport, const char *dst,
           uint16_t dport, const char *text, size_t len);

/* One UDP datagram as two IPv4 fragments (first of frag1 bytes of UDP header + payload). */
int sc_udp4_frag(struct pg_writer *w, int64_t ts_us, const char *src, uint16_t sport,
                 const char *dst, uint16_t dport, const char *text, size_t len, uint16_t ipid);

/* The same over IPv6: two fragments (RFC 8200 §4.5 fragment header). */
int sc_udp6_frag(struct pg_writer *w, int64_t ts_us, const char *src, uint16_t sport,
                 const char *dst, uint16_t dport, const char *text, size_t len, uint32_t id);

/* TCP: a SYN, then text cut into nseg segments (IPv4), starting at sequence isn. */
int sc_tcp4_split(struct pg_writer *w, int64_t ts_us, const char *src, uint16_t sport,
                  const char *dst, uint16_t dport, uint32_t isn, const char *text, size_t len,
                  unsigned nseg);

#endif
