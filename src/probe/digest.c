/* Digest credentials (RFC 2617 §3.2.2, MD5, qop=auth or none) for the password check. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "pbxguard/sip/auth.h"

#include "probe_int.h"

static void md5_hex(const char *in, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(in, strlen(in), d, &n, EVP_md5(), NULL);
    for (unsigned i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int probe_digest_header(const char *challenge, bool proxy, const char *user, const char *password,
                        const char *method, const char *uri, char *out, size_t cap)
{
    struct sip_digest d;
    char realm[128], nonce[256], opaque[256], buf[1024], ha1[33], ha2[33], resp[33];
    char cnonce[17];
    bool qop_auth = false;

    if (sip_digest_parse(&d, slice_cstr(challenge)) != 0 || !slice_present(d.nonce) ||
        !slice_eq_cstr_ci(d.scheme, "Digest"))
        return -EBADMSG;
    if (slice_present(d.algorithm) && !slice_eq_cstr_ci(d.algorithm, "MD5"))
        return -EBADMSG;
    slice_copy_cstr(d.realm, realm, sizeof(realm));
    slice_copy_cstr(d.nonce, nonce, sizeof(nonce));
    slice_copy_cstr(d.opaque, opaque, sizeof(opaque));
    struct slice rest = d.qop, tok;
    while (slice_present(rest) && sip_qop_next(&rest, &tok) == 1)
        if (slice_eq_cstr_ci(tok, "auth"))
            qop_auth = true;

    snprintf(buf, sizeof(buf), "%s:%s:%s", user, realm, password);
    md5_hex(buf, ha1);
    snprintf(buf, sizeof(buf), "%s:%s", method, uri);
    md5_hex(buf, ha2);
    probe_random_hex(cnonce, sizeof(cnonce), 16);
    if (qop_auth)
        snprintf(buf, sizeof(buf), "%s:%s:00000001:%s:auth:%s", ha1, nonce, cnonce, ha2);
    else
        snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, nonce, ha2);
    md5_hex(buf, resp);

    int n = snprintf(out, cap,
                     "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                     "response=\"%s\", algorithm=MD5%s%s%s%s%s%s\r\n",
                     proxy ? "Proxy-Authorization" : "Authorization", user, realm, nonce, uri, resp,
                     qop_auth ? ", qop=auth, nc=00000001, cnonce=\"" : "", qop_auth ? cnonce : "",
                     qop_auth ? "\"" : "", opaque[0] ? ", opaque=\"" : "", opaque,
                     opaque[0] ? "\"" : "");
    return n < 0 || (size_t)n >= cap ? -EMSGSIZE : 0;
}
