/*
 * Character classes of the SIP grammar (RFC 3261 §25.1), one table lookup per byte
 * so that hot loops make no function calls.
 */
#ifndef PBXGUARD_SIP_CHARS_H
#define PBXGUARD_SIP_CHARS_H

#include <stdint.h>

#define CC_TOKEN 0x0001u
#define CC_DIGIT 0x0002u
#define CC_ALPHA 0x0004u
#define CC_HEX 0x0008u
#define CC_WS 0x0010u
#define CC_UNRES 0x0020u
#define CC_HOST 0x0040u
#define CC_USER 0x0080u
#define CC_PASS 0x0100u
#define CC_PARAM 0x0200u
#define CC_HNV 0x0400u
#define CC_CTRL 0x0800u
#define CC_LWS 0x1000u
#define CC_TEL 0x2000u
#define CC_HIGH 0x4000u
#define CC_ALNUM 0x8000u /* ALPHA / DIGIT in one bit: one test per byte */

extern const uint16_t sip_cc[256];

#define CC_IS(c, cls) ((sip_cc[(unsigned char)(c)] & (cls)) != 0)

/* First byte of [p, end) outside the class cls. */
static inline const char *span_class(const char *p, const char *end, uint16_t cls)
{
    while (p < end && (sip_cc[(unsigned char)*p] & cls))
        p++;
    return p;
}

#endif
