/* Certificate scanner for HOST-TLS-*, on OpenSSL 3. */
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctx.h"
#include "host_tls.h"

static const char *const patterns[] = {
    "/etc/asterisk/keys/*",  "/etc/kamailio/*",     "/etc/kamailio/tls/*",
    "/etc/freeswitch/tls/*", "/etc/pbxguard/tls/*", "/etc/letsencrypt/live/*/*",
};

static bool cert_name(const char *p)
{
    size_t n = strlen(p);
    return (n > 4 && (strcmp(p + n - 4, ".pem") == 0 || strcmp(p + n - 4, ".crt") == 0)) ||
           (n > 5 && strcmp(p + n - 5, ".cert") == 0);
}

static void fill(struct host_cert *c, X509 *x, const char *file)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->file, sizeof(c->file), "%s", file);
    X509_NAME *subj = X509_get_subject_name(x);
    if (X509_NAME_get_text_by_NID(subj, NID_commonName, c->subject, sizeof(c->subject)) < 0)
        X509_NAME_oneline(subj, c->subject, sizeof(c->subject));
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
        c->not_after = (int64_t)timegm(&tm) / 86400;
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk) {
        c->bits = EVP_PKEY_get_bits(pk);
        int id = EVP_PKEY_get_base_id(pk);
        c->rsa_like = id == EVP_PKEY_RSA || id == EVP_PKEY_DSA || id == EVP_PKEY_DH;
    }
    c->self_signed = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 && pk &&
                     X509_verify(x, pk) == 1;
}

size_t host_certs(const struct audit_ctx *ctx, struct host_cert *v, size_t cap)
{
    X509 *all[HOST_MAX_CERTS];
    size_t n = 0;
    if (cap > HOST_MAX_CERTS)
        cap = HOST_MAX_CERTS;
    for (size_t i = 0; i < PBX_ARRAY_SIZE(patterns) && n < cap; i++) {
        char pat[1024];
        glob_t g;
        audit_host_path(ctx, patterns[i], pat, sizeof(pat));
        if (glob(pat, 0, NULL, &g) != 0)
            continue;
        for (size_t j = 0; j < g.gl_pathc && n < cap; j++) {
            if (!cert_name(g.gl_pathv[j]))
                continue;
            bool dup = false;
            for (size_t k = 0; k < n; k++)
                dup |= strcmp(v[k].file, g.gl_pathv[j]) == 0;
            if (dup)
                continue;
            FILE *f = fopen(g.gl_pathv[j], "r");
            if (!f)
                continue;
            X509 *x;
            /* A bundle holds several certificates; each is judged on its own. */
            while (n < cap && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
                fill(&v[n], x, g.gl_pathv[j]);
                all[n++] = x;
            }
            ERR_clear_error();
            fclose(f);
        }
        globfree(&g);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++)
            if (i != k && !v[k].self_signed &&
                X509_NAME_cmp(X509_get_subject_name(all[i]), X509_get_issuer_name(all[k])) == 0)
                v[i].issues_other = true;
    for (size_t i = 0; i < n; i++)
        X509_free(all[i]);
    return n;
}
