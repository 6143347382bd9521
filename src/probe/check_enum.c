/*
 * PRB-ENUM-001 / PRB-ENUM-002: user enumeration. REGISTER, INVITE and OPTIONS go to every
 * extension of the list and to random users that cannot exist, three rounds each.
 *  - Codes: when every random user gets the same answer and some extensions get another,
 *    the service tells existing users apart (PRB-ENUM-001).
 *  - Timing, when the codes agree: each user's fastest of three round trips (scheduling
 *    hiccups only ever add time, a real per-user lookup delays every sample) is compared
 *    with the median of the random users' fastest; an extension further away than
 *    max(15 ms, 4 x the spread of the random users' fastest) stands out (PRB-ENUM-002).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "probe_int.h"

#define ROUNDS 3
#define RANDOM_USERS 3
#define TIMING_FLOOR_MS 15

static const char *const methods[] = {"REGISTER", "INVITE", "OPTIONS"};

struct sample {
    int code[ROUNDS];
    int64_t rtt[ROUNDS];
};

static int one(struct probe_ctx *pc, const char *method, const char *user, int *code, int64_t *rtt)
{
    struct probe_req req;
    struct probe_resp resp;
    int rc, ringing = 0;
    if (strcmp(method, "REGISTER") == 0) {
        probe_req_init(pc, &req, "REGISTER", NULL);
        snprintf(req.to_user, sizeof(req.to_user), "%s", user);
        snprintf(req.from_user, sizeof(req.from_user), "%s", user);
        /* Expires: 0 never creates a binding, even if the server accepted it. */
        snprintf(req.extra, sizeof(req.extra), "Expires: 0\r\n");
        rc = probe_transact(pc, &req, &resp, false);
    } else if (strcmp(method, "INVITE") == 0) {
        probe_req_init(pc, &req, "INVITE", user);
        rc = probe_invite(pc, &req, &resp, &ringing);
    } else {
        probe_req_init(pc, &req, "OPTIONS", user);
        rc = probe_transact(pc, &req, &resp, false);
    }
    if (rc == -ETIMEDOUT && ringing) {
        *code = ringing;
        *rtt = pc->timeout_ms;
        return 0;
    }
    if (rc == -ETIMEDOUT) {
        *code = 0;
        *rtt = pc->timeout_ms;
        return 0;
    }
    if (rc)
        return rc;
    *code = ringing ? ringing : resp.status;
    *rtt = resp.rtt_ms;
    return 0;
}

static int mode(const int *v, int n)
{
    int best = v[0], bestc = 0;
    for (int i = 0; i < n; i++) {
        int c = 0;
        for (int k = 0; k < n; k++)
            c += v[k] == v[i];
        if (c > bestc) {
            best = v[i];
            bestc = c;
        }
    }
    return best;
}

static int64_t min3(const int64_t *v)
{
    int64_t m = v[0] < v[1] ? v[0] : v[1];
    return m < v[2] ? m : v[2];
}

static int64_t median3(const int64_t *v)
{
    int64_t a = v[0], b = v[1], c = v[2];
    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
}

int probe_check_enum(struct probe_ctx *pc, const unsigned *ext, size_t n, struct audit_report *r)
{
    size_t nu = n + RANDOM_USERS;
    char(*users)[24] = calloc(nu, sizeof(*users));
    struct sample *s = calloc(nu * PBX_ARRAY_SIZE(methods), sizeof(*s));
    int rc = 0;
    if (!users || !s) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(users[i], sizeof(users[i]), "%u", ext[i]);
    for (size_t i = n; i < nu; i++) {
        /* Longer than any extension and starting with 9: cannot collide with a real one. */
        unsigned char rnd[10];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            memset(rnd, (int)i, sizeof(rnd));
        users[i][0] = '9';
        for (size_t k = 0; k < sizeof(rnd); k++)
            users[i][k + 1] = (char)('0' + rnd[k] % 10);
        users[i][sizeof(rnd) + 1] = '\0';
    }
    for (int round = 0; round < ROUNDS; round++)
        for (size_t m = 0; m < PBX_ARRAY_SIZE(methods); m++)
            for (size_t u = 0; u < nu; u++) {
                struct sample *sp = &s[m * nu + u];
                rc = one(pc, methods[m], users[u], &sp->code[round], &sp->rtt[round]);
                if (rc)
                    goto out;
            }

    /* REGISTER is methods[0]: a 2xx without credentials is an open registrar. */
    for (size_t u = 0; u < nu; u++) {
        int c = mode(s[u].code, ROUNDS);
        if (c >= 200 && c < 300) {
            rc = audit_report_add(r, &prb_reg_001, NULL, 0,
                                  "REGISTER for %s without credentials answered %d", users[u], c);
            if (rc)
                goto out;
            break;
        }
    }

    for (size_t m = 0; m < PBX_ARRAY_SIZE(methods); m++) {
        struct sample *ms = &s[m * nu];
        int c0 = mode(ms[n].code, ROUNDS);
        bool random_agree = true;
        for (size_t u = n; u < nu; u++)
            for (int k = 0; k < ROUNDS; k++)
                random_agree &= ms[u].code[k] == c0;
        if (!random_agree)
            continue; /* the server is not consistent even for users that do not exist */

        char list[160] = "";
        size_t off = 0, odd = 0;
        for (size_t u = 0; u < n; u++) {
            int c = mode(ms[u].code, ROUNDS);
            if (c == c0)
                continue;
            odd++;
            if (odd <= 5 && off < sizeof(list))
                off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s=%d",
                                        odd > 1 ? ", " : "", users[u], c);
        }
        if (odd) {
            rc = audit_report_add(r, &prb_enum_001, NULL, 0,
                                  "%s: %d for random users, but %s%s (%zu of %zu extensions "
                                  "answer differently)",
                                  methods[m], c0, list, odd > 5 ? ", ..." : "", odd, n);
            if (rc)
                goto out;
            continue;
        }
        /* Timing, only where every answer was the same. */
        int64_t rmed[RANDOM_USERS];
        for (size_t u = n; u < nu; u++)
            rmed[u - n] = min3(ms[u].rtt);
        int64_t lo = rmed[0], hi = rmed[0];
        for (int k = 1; k < RANDOM_USERS; k++) {
            lo = rmed[k] < lo ? rmed[k] : lo;
            hi = rmed[k] > hi ? rmed[k] : hi;
        }
        int64_t base = median3(rmed);
        int64_t thr = 4 * (hi - lo);
        if (thr < TIMING_FLOOR_MS)
            thr = TIMING_FLOOR_MS;
        off = 0;
        list[0] = '\0';
        for (size_t u = 0; u < n; u++) {
            int64_t d = min3(ms[u].rtt) - base;
            if (d < 0)
                d = -d;
            if (d <= thr)
                continue;
            odd++;
            if (odd <= 5 && off < sizeof(list))
                off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s=%lldms",
                                        odd > 1 ? ", " : "", users[u], (long long)min3(ms[u].rtt));
        }
        if (odd) {
            rc = audit_report_add(r, &prb_enum_002, NULL, 0,
                                  "%s: all answered %d, random users in %lld ms (fastest, median), "
                                  "but %s%s (threshold %lld ms)",
                                  methods[m], c0, (long long)base, list, odd > 5 ? ", ..." : "",
                                  (long long)thr);
            if (rc)
                goto out;
        }
    }
out:
    free(users);
    free(s);
    return rc;
}

const struct audit_check prb_enum_001 = {
    .id = "PRB-ENUM-001",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "Existing users can be enumerated by response code",
    .why = "Different answers for existing and missing users (401 vs 404, 480 vs 404) let a "
           "scanner list every valid extension before it starts guessing passwords.",
    .fix = "Answer every unauthenticated request the same way for every user (challenge "
           "first, look the user up only after authentication; Asterisk alwaysauthreject).",
    .run = NULL,
};

const struct audit_check prb_reg_001 = {
    .id = "PRB-REG-001",
    .severity = AUDIT_SEV_CRITICAL,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "REGISTER accepted without credentials",
    .why = "Anyone can register as any user, receive that user's calls and place calls as "
           "that user.",
    .fix = "Challenge every REGISTER (digest authentication) and bind the authentication "
           "user to the registered AOR.",
    .run = NULL,
};

const struct audit_check prb_enum_002 = {
    .id = "PRB-ENUM-002",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "Existing users can be enumerated by response time",
    .why = "Even with identical codes, a measurable delay (a database lookup, a hash) for "
           "existing users leaks which extensions exist.",
    .fix = "Make the unauthenticated path identical for every user: challenge before any "
           "per-user lookup.",
    .run = NULL,
};
