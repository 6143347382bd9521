/* Private: header name tables (hdr_table.c). */
#ifndef PBXGUARD_SIP_HDR_TABLE_H
#define PBXGUARD_SIP_HDR_TABLE_H

#include <stdint.h>

#include "pbxguard/sip/msg.h"

struct sip_hdr_def {
    const char *name;
    const char *lower; /* the name in lower case, for the compare */
    uint8_t len;
    char compact;
};

#define SIP_HDR_BUCKET_MAX 14

extern const struct sip_hdr_def sip_hdr_defs[SIP_HDR_COUNT];
extern const uint8_t sip_hdr_compact[26];
extern const uint8_t sip_lower[256];
extern const uint8_t sip_hdr_bucket[26][SIP_HDR_BUCKET_MAX];

#endif
