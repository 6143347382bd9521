/* Certificates made at test time, so fixtures never carry keys or stale dates. */
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "test_certs.h"

int test_make_cert(const char *path, const char *key_out, const char *cn, int bits,
                   const char *not_before, const char *not_after, const char *ca_cert,
                   const char *ca_key)
{
    int rc = -1;
    X509 *x = X509_new(), *ca = NULL;
    EVP_PKEY *key = EVP_RSA_gen((unsigned)bits), *signer = NULL;
    FILE *f = NULL;

    if (!x || !key)
        goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    if (!ASN1_TIME_set_string(X509_getm_notBefore(x), not_before) ||
        !ASN1_TIME_set_string(X509_getm_notAfter(x), not_after))
        goto out;
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    if (ca_cert) {
        f = fopen(ca_cert, "r");
        ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        f = fopen(ca_key, "r");
        signer = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        f = NULL;
        if (!ca || !signer)
            goto out;
        X509_set_issuer_name(x, X509_get_subject_name(ca));
    } else {
        X509_set_issuer_name(x, name);
    }
    if (!X509_sign(x, signer ? signer : key, EVP_sha256()))
        goto out;
    f = fopen(path, "w");
    if (!f || !PEM_write_X509(f, x))
        goto out;
    if (key_out) {
        FILE *k = fopen(key_out, "w");
        if (!k || !PEM_write_PrivateKey(k, key, NULL, NULL, 0, NULL, NULL)) {
            if (k)
                fclose(k);
            goto out;
        }
        fclose(k);
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(signer);
    return rc;
}
