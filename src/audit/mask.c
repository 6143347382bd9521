/* Secret strength and masking: evidence shows a secret's shape, never its bytes. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pbxguard/audit/audit.h"

/* Defaults shipped by PBX distributions and the words scanners try first. */
static const char *const weak_words[] = {
    "password", "passw0rd", "secret",    "admin",    "administrator", "asterisk", "freepbx",
    "amp111",   "amp109",   "cluecon",   "voip",     "sip",           "welcome",  "qwerty",
    "letmein",  "changeme", "test",      "guest",    "default",       "pass",     "abc123",
    "trixbox",  "elastix",  "palosanto", "kamailio", "freeswitch",    "phone",    "user",
    "root",     "toor",     "manager",   "pbx",      "iloveyou",      "monkey",   "dragon",
    "master",   "shadow",   "sunshine",  "football", "superman",      "trustno1", "private",
};

/* Minimum length below which a SIP/AMI secret falls to an online guessing run. */
#define WEAK_MIN_LEN 10

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool is_dictionary(const char *s)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(weak_words); i++)
        if (strcasecmp(s, weak_words[i]) == 0)
            return true;
    /* A dictionary word followed by digits ("secret123") is guessed just as early. */
    for (size_t i = 0; i < PBX_ARRAY_SIZE(weak_words); i++) {
        size_t n = strlen(weak_words[i]);
        if (strncasecmp(s, weak_words[i], n) == 0 && all_digits(s + n))
            return true;
    }
    return false;
}

bool audit_secret_is_weak(const char *secret, const char *user)
{
    if (!secret)
        return true;
    if (strlen(secret) < WEAK_MIN_LEN || all_digits(secret) || is_dictionary(secret))
        return true;
    if (user && strcasecmp(secret, user) == 0)
        return true;
    return false;
}

void audit_mask_secret(const char *secret, char *out, size_t cap)
{
    if (!cap)
        return;
    if (!secret || !*secret) {
        snprintf(out, cap, "<empty>");
        return;
    }
    const char *shape;
    if (all_digits(secret))
        shape = "digits only";
    else if (is_dictionary(secret))
        shape = "dictionary word";
    else {
        bool lower = false, upper = false, digit = false, other = false;
        for (const char *p = secret; *p; p++) {
            unsigned char c = (unsigned char)*p;
            lower |= islower(c) != 0;
            upper |= isupper(c) != 0;
            digit |= isdigit(c) != 0;
            other |= !isalnum(c);
        }
        int classes = lower + upper + digit + other;
        shape = classes >= 3 ? "mixed classes" : classes == 2 ? "two classes" : "one class";
    }
    snprintf(out, cap, "<%zu chars, %s>", strlen(secret), shape);
}
