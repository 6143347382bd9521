/*
 * The probe's SIP transport: one UDP, TCP or TLS connection to the target, with a send
 * rate limit and message framing for streams. Responses are parsed with the project's
 * SIP parser (pbxguard/sip/msg.h).
 */
#ifndef PBXGUARD_PROBE_CONN_H
#define PBXGUARD_PROBE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/probe/probe.h"

#define PROBE_RBUF 65536

struct probe_target {
    char host[256]; /* as given, without brackets */
    unsigned port;
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

struct probe_conn {
    enum probe_transport transport;
    int fd;
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    char local_ip[64];
    unsigned local_port;
    unsigned gap_ms; /* minimum spacing between sends (rate limit) */
    int64_t last_send_ms;
    uint8_t rbuf[PROBE_RBUF];
    size_t rlen;
};

/* Resolves "host[:port]" / "[v6]:port" / "sip:host:port"; default port 5060 (5061 TLS). */
PBX_WUR int probe_target_parse(const char *spec, enum probe_transport t, struct probe_target *out);

/*
 * Connects (for UDP: a connected socket). For TLS, min_ver/max_ver bound the protocol
 * (0 = library defaults) and the certificate is not verified: the probe reports on it.
 * Returns 0, -ECONNREFUSED, -ETIMEDOUT, -EPROTO (TLS handshake failed), -errno.
 */
PBX_WUR int probe_conn_open(struct probe_conn *c, const struct probe_target *t,
                            enum probe_transport tr, unsigned rate, int min_ver, int max_ver,
                            unsigned timeout_ms);
void probe_conn_close(struct probe_conn *c);

/* Sends one message, first waiting out the rate limit unless unpaced. */
PBX_WUR int probe_conn_send(struct probe_conn *c, const char *buf, size_t len, bool unpaced);

/*
 * Receives one whole SIP message into out (cap bytes) within timeout_ms.
 * Returns its length, 0 on timeout, or a negative errno (connection closed: -EPIPE).
 */
PBX_WUR int probe_conn_recv(struct probe_conn *c, char *out, size_t cap, int timeout_ms);

int64_t probe_now_ms(void);

#endif
