/* Method, header-name and anomaly name tables and their lookups. */
#include <string.h>

#include "hdr_table.h"
#include "pbxguard/sip/msg.h"
#include "sip_util.h"

static const char *const method_names[SIP_METHOD_COUNT] = {
    [SIP_METHOD_UNKNOWN] = "",
    [SIP_METHOD_INVITE] = "INVITE",
    [SIP_METHOD_ACK] = "ACK",
    [SIP_METHOD_BYE] = "BYE",
    [SIP_METHOD_CANCEL] = "CANCEL",
    [SIP_METHOD_REGISTER] = "REGISTER",
    [SIP_METHOD_OPTIONS] = "OPTIONS",
    [SIP_METHOD_PRACK] = "PRACK",
    [SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
    [SIP_METHOD_NOTIFY] = "NOTIFY",
    [SIP_METHOD_PUBLISH] = "PUBLISH",
    [SIP_METHOD_INFO] = "INFO",
    [SIP_METHOD_REFER] = "REFER",
    [SIP_METHOD_MESSAGE] = "MESSAGE",
    [SIP_METHOD_UPDATE] = "UPDATE",
};

static const char *const anomaly_names[SIP_ANOM_COUNT] = {
    [SIP_ANOM_DUP_SINGLETON] = "dup_singleton",
    [SIP_ANOM_CL_MISMATCH] = "cl_mismatch",
    [SIP_ANOM_NO_CL] = "no_cl",
    [SIP_ANOM_LWS_FOLD] = "lws_fold",
    [SIP_ANOM_CSEQ_METHOD_MISMATCH] = "cseq_method_mismatch",
    [SIP_ANOM_UNKNOWN_SCHEME] = "unknown_scheme",
    [SIP_ANOM_ESCAPED_NUL] = "escaped_nul",
    [SIP_ANOM_BRANCH_NOT_RFC3261] = "branch_not_rfc3261",
    [SIP_ANOM_MAXFWD_ZERO] = "maxfwd_zero",
    [SIP_ANOM_TRAILING_DATA] = "trailing_data",
    [SIP_ANOM_BAD_DATE] = "bad_date",
    [SIP_ANOM_UNKNOWN_METHOD] = "unknown_method",
    [SIP_ANOM_NO_MAXFWD] = "no_maxfwd",
    [SIP_ANOM_BARE_LF] = "bare_lf",
    [SIP_ANOM_WS_BEFORE_COLON] = "ws_before_colon",
    [SIP_ANOM_EMPTY_VALUE] = "empty_value",
    [SIP_ANOM_CTRL_CHAR] = "ctrl_char",
    [SIP_ANOM_NON_UTF8] = "non_utf8",
    [SIP_ANOM_VIA_NO_BRANCH] = "via_no_branch",
    [SIP_ANOM_RURI_ESCAPED] = "ruri_escaped",
    [SIP_ANOM_COMPACT_FORM] = "compact_form",
    [SIP_ANOM_EMPTY_REASON] = "empty_reason",
    [SIP_ANOM_LEADING_ZEROS] = "leading_zeros",
    [SIP_ANOM_UNKNOWN_TRANSPORT] = "unknown_transport",
    [SIP_ANOM_TO_TAG_ON_REQUEST] = "to_tag_on_request",
    [SIP_ANOM_NO_FROM_TAG] = "no_from_tag",
    [SIP_ANOM_LONG_CALL_ID] = "long_call_id",
    [SIP_ANOM_MISSING_HEADER] = "missing_header",
    [SIP_ANOM_UNPARSED_HEADER] = "unparsed_header",
    [SIP_ANOM_BODY_WITHOUT_TYPE] = "body_without_type",
    [SIP_ANOM_MULTI_CL_VALUES] = "multi_cl_values",
    [SIP_ANOM_SCHEME_CASE] = "scheme_case",
};

_Static_assert(SIP_ANOM_COUNT <= 64, "anomalies must fit a 64-bit set");
_Static_assert(SIP_HDR_COUNT < 256, "header ids are stored in uint8_t tables");
_Static_assert(SIP_MAX_HEADERS < SIP_HDR_END, "header indexes fit uint16_t");

enum sip_method sip_method_lookup(struct slice t)
{
    /* RFC 3261 §7.1: the method is case-sensitive, so an exact compare. */
    if (t.len < 3 || t.len > 9)
        return SIP_METHOD_UNKNOWN;
    /* At most two methods share a (first letter, length): pick them, then compare fully. */
    enum sip_method a = SIP_METHOD_UNKNOWN, b = SIP_METHOD_UNKNOWN;
    switch (t.p[0]) {
    case 'A':
        a = SIP_METHOD_ACK;
        break;
    case 'B':
        a = SIP_METHOD_BYE;
        break;
    case 'C':
        a = SIP_METHOD_CANCEL;
        break;
    case 'I':
        a = t.len == 6 ? SIP_METHOD_INVITE : SIP_METHOD_INFO;
        break;
    case 'M':
        a = SIP_METHOD_MESSAGE;
        break;
    case 'N':
        a = SIP_METHOD_NOTIFY;
        break;
    case 'O':
        a = SIP_METHOD_OPTIONS;
        break;
    case 'P':
        a = SIP_METHOD_PRACK;
        b = SIP_METHOD_PUBLISH;
        break;
    case 'R':
        a = SIP_METHOD_REGISTER;
        b = SIP_METHOD_REFER;
        break;
    case 'S':
        a = SIP_METHOD_SUBSCRIBE;
        break;
    case 'U':
        a = SIP_METHOD_UPDATE;
        break;
    default:
        return SIP_METHOD_UNKNOWN;
    }
    if (a != SIP_METHOD_UNKNOWN && strlen(method_names[a]) == t.len &&
        memcmp(method_names[a], t.p, t.len) == 0)
        return a;
    if (b != SIP_METHOD_UNKNOWN && strlen(method_names[b]) == t.len &&
        memcmp(method_names[b], t.p, t.len) == 0)
        return b;
    return SIP_METHOD_UNKNOWN;
}

const char *sip_method_name(enum sip_method m)
{
    if ((unsigned)m >= SIP_METHOD_COUNT)
        return "";
    return method_names[m];
}

const char *sip_anomaly_name(enum sip_anomaly a)
{
    if ((unsigned)a >= SIP_ANOM_COUNT || !anomaly_names[a])
        return "unknown";
    return anomaly_names[a];
}

size_t sip_anomaly_fmt(uint64_t set, char *dst, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    dst[0] = '\0';
    for (unsigned i = 0; i < SIP_ANOM_COUNT; i++) {
        if (!((set >> i) & 1u))
            continue;
        const char *name = sip_anomaly_name((enum sip_anomaly)i);
        size_t l = strlen(name) + (n ? 1 : 0);
        if (n + l + 1 > cap)
            break;
        if (n)
            dst[n++] = ',';
        memcpy(dst + n, name, strlen(name));
        n += strlen(name);
        dst[n] = '\0';
    }
    return n;
}

enum sip_hdr_id sip_hdr_lookup(struct slice name, bool *compact)
{
    bool cf;
    if (compact)
        *compact = false;
    if (!name.p || name.len == 0 || name.len > SIP_MAX_HDR_NAME_LEN)
        return SIP_HDR_OTHER;
    enum sip_hdr_id id = sip_hdr_classify(name.p, name.len, &cf);
    if (compact)
        *compact = cf;
    return id;
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
    if ((unsigned)id >= SIP_HDR_COUNT)
        return "";
    return sip_hdr_defs[id].name;
}
