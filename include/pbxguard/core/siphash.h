/*
 * SipHash (Aumasson & Bernstein): a keyed 64-bit hash of a byte range, for hash tables
 * whose keys come from the network (source addresses, user names, Call-IDs). With a random
 * per-process key an attacker cannot aim many keys at one bucket.
 * SipHash-1-3 is what hash tables and per-message keys use (as CPython and Rust do for
 * theirs): half the rounds, and flooding a table still needs the key. SipHash-2-4 is for
 * values that must also hold as a PRF on their own.
 * Pure functions; thread-safe.
 */
#ifndef PBXGUARD_CORE_SIPHASH_H
#define PBXGUARD_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"

#define PBX_SIPHASH_KEY_LEN 16u

/* SipHash-2-4 of data[0..len) under key (16 bytes). data may be NULL when len is 0. */
uint64_t pbx_siphash24(const uint8_t key[PBX_SIPHASH_KEY_LEN], const void *data, size_t len);
/* SipHash-1-3 of data[0..len) under key. */
uint64_t pbx_siphash13(const uint8_t key[PBX_SIPHASH_KEY_LEN], const void *data, size_t len);

/*
 * Fills key with random bytes from getrandom(2). Returns 0 or -errno (the key is then
 * left unchanged; callers may fall back to a time-derived key and log it).
 */
PBX_WUR int pbx_siphash_keygen(uint8_t key[PBX_SIPHASH_KEY_LEN]);

#endif
