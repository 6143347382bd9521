/* Private to src/ctl. */
#ifndef PBXGUARD_CTL_CTL_INT_H
#define PBXGUARD_CTL_CTL_INT_H

#include "pbxguard/ctl/ctl.h"

struct ctl_out {
    bool json_mode;
    struct json_writer json;
    char *text;
    size_t len, cap;
    bool overflow;
};

void ctl_out_init(struct ctl_out *o, bool json);
void ctl_out_fini(struct ctl_out *o);
/* The body to send (JSON document or text). */
const char *ctl_out_body(struct ctl_out *o, size_t *len);

#endif
