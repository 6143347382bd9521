/*
 * Test helper: builds Ethernet/SLL/raw frames carrying IPv4/IPv6 UDP/TCP (fragments and
 * extension headers included) and writes them as pcap or pcapng files. Every capture
 * fixture of the sensor and inspect tests is made here, at test time, so the bytes of each
 * fixture are visible in the test source. Checksums are left zero: decoders don't verify
 * them (capture offload makes them unreliable anyway).
 */
#ifndef PBXGUARD_TESTS_PCAPGEN_H
#define PBXGUARD_TESTS_PCAPGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PG_MAX_FRAME 70000u

struct pg_writer {
    FILE *fp;
    bool ng;
    bool nano;
};

/* linktype is the LINKTYPE_* value stored in the file. nano: pcap nanosecond magic. */
int pg_open(struct pg_writer *w, const char *path, bool pcapng, bool nano, uint32_t linktype);
int pg_write(struct pg_writer *w, int64_t ts_us, const uint8_t *frame, size_t len);
int pg_close(struct pg_writer *w);

/* Layer builders: each writes at out and returns the bytes written. */
size_t pg_eth(uint8_t *out, uint16_t ethertype, unsigned vlans);
size_t pg_udp(uint8_t *out, uint16_t sport, uint16_t dport, const void *payload, size_t len);
size_t pg_tcp(uint8_t *out, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
              const void *payload, size_t len);
/* frag: the IPv4 flags+offset field (offset in 8-byte units, 0x2000 = More Fragments). */
size_t pg_ipv4(uint8_t *out, const char *src, const char *dst, uint8_t proto, uint16_t id,
               uint16_t frag, const void *l4, size_t l4len);
/* nh: first next-header; data: extension headers (if any) followed by the upper layer. */
size_t pg_ipv6(uint8_t *out, const char *src, const char *dst, uint8_t nh, const void *data,
               size_t len);
/* IPv6 fragment header (8 bytes). off in bytes (multiple of 8). */
size_t pg_v6frag(uint8_t *out, uint8_t nh, uint32_t off, bool more, uint32_t id);

/* Whole Ethernet frames. */
size_t pg_eth_udp4(uint8_t *out, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                   const void *payload, size_t len);
size_t pg_eth_tcp4(uint8_t *out, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                   uint32_t seq, uint8_t flags, const void *payload, size_t len);
size_t pg_eth_udp6(uint8_t *out, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                   const void *payload, size_t len);

#endif
