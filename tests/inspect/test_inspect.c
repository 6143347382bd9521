/*
 * pbxguard inspect, end to end: the real binary is run on the shipped samples, on raw
 * files written here and on captures built with tests/sensor/pcapgen.c (UDP, TCP split
 * across segments, IPv6, fragmented IPv4, non-SIP traffic), in text and JSON mode.
 * Every JSON line is checked for well-formedness by a small validator below.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcapgen.h"
#include "test.h"

extern char **environ;

static char dir[] = "/tmp/pbx-inspect-XXXXXX";
static char out_path[256];
static char out[1 << 20];

/* Runs pbxguard inspect with args; stdout into out[], stderr discarded. Returns exit code. */
static int run(const char *const *args)
{
    const char *argv[32] = {PBX_BIN, "inspect"};
    size_t n = 2;
    for (; args[n - 2] && n < 31; n++)
        argv[n] = args[n - 2];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int st = -1;
    if (posix_spawn(&pid, PBX_BIN, &fa, NULL, (char *const *)argv, environ) != 0)
        return -1;
    posix_spawn_file_actions_destroy(&fa);
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    FILE *fp = fopen(out_path, "rb");
    size_t got = fp ? fread(out, 1, sizeof(out) - 1, fp) : 0;
    out[got] = 0;
    if (fp)
        fclose(fp);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

#define CHECK_HAS(needle)                                                                          \
    do {                                                                                           \
        if (strstr(out, (needle)))                                                                 \
            test_passed_count++;                                                                   \
        else                                                                                       \
            TEST_FAIL_AT("output lacks \"%s\"", (needle));                                         \
    } while (0)

/* ---- minimal JSON validator (RFC 8259 grammar, no semantic checks) ------------------- */

static const char *j_value(const char *p, int depth);

static const char *j_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *j_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (;;) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"')
            return p + 1;
        if (ch < 0x20)
            return NULL;
        if (ch == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 5;
                continue;
            }
            if (!*p || !strchr("\"\\/bfnrt", *p))
                return NULL;
        }
        p++;
    }
}

static const char *j_value(const char *p, int depth)
{
    p = j_ws(p);
    if (depth > 64)
        return NULL;
    if (*p == '"')
        return j_string(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = j_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = j_string(j_ws(p));
                if (!p)
                    return NULL;
                p = j_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            p = j_value(p, depth + 1);
            if (!p)
                return NULL;
            p = j_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (strncmp(p, "true", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    const char *s = p;
    if (*p == '-')
        p++;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > s ? p : NULL;
}

/* Every line of out must be one JSON object. Returns the number of lines. */
static int check_json_lines(void)
{
    int lines = 0;
    char *save = NULL;
    static char copy[sizeof(out)];
    memcpy(copy, out, sizeof(out));
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lines++;
        const char *end = line[0] == '{' ? j_value(line, 0) : NULL;
        if (end && *j_ws(end) == 0)
            test_passed_count++;
        else
            TEST_FAIL_AT("not a JSON object: %.200s", line);
    }
    return lines;
}

static void write_file(const char *name, const void *data, size_t len, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    CHECK_INT(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

/* ---- cases ------------------------------------------------------------------------------ */

static void test_usage(void)
{
    CHECK_INT(run((const char *[]){NULL}), 2);
    CHECK_INT(run((const char *[]){"--bogus", "samples/sip/01-register-auth.sip", NULL}), 2);
    CHECK_INT(run((const char *[]){"--format", "xml", "samples/sip/01-register-auth.sip", NULL}),
              2);
    CHECK_INT(run((const char *[]){"/nonexistent/file.sip", NULL}), 2);
    CHECK_INT(run((const char *[]){"samples", NULL}), 2);
    /* An I/O error wins over valid files processed alongside. */
    CHECK_INT(run((const char *[]){"samples/sip/01-register-auth.sip", "/nonexistent", NULL}), 2);
    CHECK_INT(run((const char *[]){"--help", NULL}), 0);
    CHECK_HAS("usage: pbxguard inspect");
}

static void test_samples_text(void)
{
    CHECK_INT(
        run((const char *[]){"samples/sip/01-register-auth.sip", "samples/sip/02-invite-sdp.sip",
                             "samples/sip/06-401-unauthorized.sip", NULL}),
        0);
    CHECK_HAS("== samples/sip/01-register-auth.sip (841 bytes)");
    CHECK_HAS("  REGISTER sip:pbx.example.com SIP/2.0\n");
    CHECK_HAS("branch=z9hG4bK-524287-1---d2c1a8f0b3e4");
    CHECK_HAS("call-id         NWQ4ZTdmYzE3ZjA1YjNlYjM0NjVkNDg1MjQ5NjFhZWI\n");
    CHECK_HAS("cseq            2 REGISTER\n");
    CHECK_HAS("authorization   Digest username=\"1001\" realm=\"pbx.example.com\"\n");
    CHECK_HAS("user-agent      Zoiper rv2.10.19.4\n");
    CHECK_HAS("max-forwards    70\n");
    CHECK_HAS("content-length  238\n");
    CHECK_HAS("content-type    application/sdp\n");
    CHECK_HAS("  SIP/2.0 401 Unauthorized\n");
    CHECK_HAS("server          Asterisk PBX 20.5.0\n");
    CHECK_HAS("www-auth        Digest realm=\"pbx.example.com\"\n");
    CHECK_INT(count(out, "verdict         valid\n"), 3);
    CHECK_HAS("inspect: 3 files, 3 messages: 3 valid, 0 invalid");
}

static void test_malformed(void)
{
    CHECK_INT(run((const char *[]){"samples/sip/90-malformed-content-length.sip", NULL}), 1);
    CHECK_HAS("ERROR           byte ");
    CHECK_HAS("Content-Length");
    CHECK_HAS("verdict         INVALID\n");
    CHECK_INT(run((const char *[]){"samples/sip/91-malformed-request-line.sip", NULL}), 1);
    CHECK_HAS("ERROR           byte 28: ");
    /* One bad file among good ones still gives 1. */
    CHECK_INT(run((const char *[]){"samples/sip/08-options.sip",
                                   "samples/sip/91-malformed-request-line.sip", NULL}),
              1);
    CHECK_HAS("1 valid, 1 invalid");

    CHECK_INT(run((const char *[]){"--json", "samples/sip/91-malformed-request-line.sip", NULL}),
              1);
    CHECK_INT(check_json_lines(), 1);
    CHECK_HAS("\"valid\":false");
    CHECK_HAS("\"error\":{\"offset\":28,");
    CHECK_HAS("\"code\":\"EBADMSG\"");
}

static void test_raw_rules(void)
{
    char path[512], path2[512], path3[512];
    static const char two[] = "\r\n"
                              "OPTIONS sip:a@example.com SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKaaa\r\n"
                              "From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n"
                              "Call-ID: one@x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                              "Content-Length: 5\r\n\r\nhello"
                              "\r\n\r\n"
                              "SIP/2.0 200 OK\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKaaa\r\n"
                              "From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=2\r\n"
                              "Call-ID: one@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    write_file("two.sip", two, sizeof(two) - 1, path, sizeof(path));
    CHECK_INT(run((const char *[]){path, NULL}), 0);
    CHECK_INT(count(out, "verdict         valid\n"), 2);
    CHECK_HAS(" @2 (");
    CHECK_HAS("2 keep-alives");

    /* No Content-Length: the rest of the file is one datagram. */
    static const char nocl[] = "MESSAGE sip:a@example.com SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbbb\r\n"
                               "From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n"
                               "Call-ID: two@x\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
                               "Content-Type: text/plain\r\n\r\nhi there";
    write_file("nocl.sip", nocl, sizeof(nocl) - 1, path2, sizeof(path2));
    CHECK_INT(run((const char *[]){"--json", path2, NULL}), 0);
    CHECK_INT(check_json_lines(), 1);
    CHECK_HAS("\"no_cl\"");
    CHECK_HAS("\"body_length\":8");

    /* Empty file: no message at all is invalid. */
    write_file("empty.sip", "", 0, path3, sizeof(path3));
    CHECK_INT(run((const char *[]){path3, NULL}), 1);
    CHECK_HAS("no SIP message in the file");
}

static void test_hostile_bytes(void)
{
    char path[512];
    /* Control bytes, an escape sequence, a quote and a backslash in attacker fields. */
    static const char evil[] = "INVITE sip:1@example.com SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKccc\r\n"
                               "From: \"a\\\"b\" <sip:x@example.com>;tag=9\r\n"
                               "To: <sip:1@example.com>\r\n"
                               "Call-ID: evil@x\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
                               "User-Agent: \x1b[31mred\x7f\x01 \"q\" \\ \xff\xfe\r\n"
                               "Content-Length: 0\r\n\r\n";
    write_file("evil.sip", evil, sizeof(evil) - 1, path, sizeof(path));
    run((const char *[]){path, NULL});
    bool clean = true;
    for (const char *p = out; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f)
            clean = false;
    CHECK(clean);
    CHECK_HAS("user-agent      \\x1b[31mred\\x7f\\x01");
    run((const char *[]){"--json", path, NULL});
    CHECK_INT(check_json_lines(), 1);
    CHECK_HAS("\"user_agent\":\"\\u001b[31mred\\u007f\\u0001 \\\"q\\\" \\\\ ");
}

/* A capture with every path inspect has: see the frame list below. */
static void make_capture(const char *path, bool ng)
{
    static uint8_t f[PG_MAX_FRAME], l4[PG_MAX_FRAME];
    static const char reg[] = "REGISTER sip:example.com SIP/2.0\r\n"
                              "Via: SIP/2.0/TCP 192.0.2.20:40000;branch=z9hG4bKtcp1\r\n"
                              "From: <sip:200@example.com>;tag=t1\r\nTo: <sip:200@example.com>\r\n"
                              "Call-ID: tcp-reg@x\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
                              "Contact: <sip:200@192.0.2.20:40000;transport=tcp>\r\n"
                              "Content-Length: 0\r\n\r\n";
    static const char opt6[] =
        "OPTIONS sip:[2001:db8::2] SIP/2.0\r\n"
        "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKv6\r\n"
        "From: <sip:probe@[2001:db8::1]>;tag=v6\r\nTo: <sip:[2001:db8::2]>\r\n"
        "Call-ID: v6@x\r\nCSeq: 7 OPTIONS\r\nMax-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n";
    char big[3000];
    int hdr = snprintf(big, sizeof(big),
                       "INVITE sip:300@example.com SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKfrag\r\n"
                       "From: <sip:301@example.com>;tag=fr\r\nTo: <sip:300@example.com>\r\n"
                       "Call-ID: frag@x\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
                       "Content-Type: application/sdp\r\nContent-Length: 2000\r\n\r\n");
    memset(big + hdr, 'a', 2000);
    size_t biglen = (size_t)hdr + 2000;
    static const char dns[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07"
                              "example\x03"
                              "com\x00\x00\x01\x00\x01";

    struct pg_writer w;
    CHECK_INT(pg_open(&w, path, ng, false, 1), 0);
    int64_t t = 1700000000000000LL;
    size_t n;
    /* 1: UDP IPv4 SIP (sample INVITE) */
    FILE *fp = fopen("samples/sip/02-invite-sdp.sip", "rb");
    static char inv[2048];
    size_t invlen = fp ? fread(inv, 1, sizeof(inv), fp) : 0;
    if (fp)
        fclose(fp);
    n = pg_eth_udp4(f, "192.0.2.10", 5060, "203.0.113.5", 5060, inv, invlen);
    pg_write(&w, t += 1000, f, n);
    /* 2: DNS (not SIP) */
    n = pg_eth_udp4(f, "192.0.2.10", 40000, "192.0.2.53", 53, dns, sizeof(dns) - 1);
    pg_write(&w, t += 1000, f, n);
    /* 3-6: TCP: SYN, then the REGISTER in three segments sent out of order (first, last,
     * middle), the last one also carrying a CRLF keep-alive. */
    n = pg_eth_tcp4(f, "192.0.2.20", 40000, "203.0.113.5", 5060, 5000, 0x02, NULL, 0);
    pg_write(&w, t += 1000, f, n);
    size_t a = 40, b = 150, len = sizeof(reg) - 1;
    n = pg_eth_tcp4(f, "192.0.2.20", 40000, "203.0.113.5", 5060, 5001, 0x18, reg, a);
    pg_write(&w, t += 1000, f, n);
    char tail[512];
    memcpy(tail, reg + b, len - b);
    memcpy(tail + len - b, "\r\n\r\n", 4);
    n = pg_eth_tcp4(f, "192.0.2.20", 40000, "203.0.113.5", 5060, 5001 + (uint32_t)b, 0x18, tail,
                    len - b + 4);
    pg_write(&w, t += 1000, f, n);
    n = pg_eth_tcp4(f, "192.0.2.20", 40000, "203.0.113.5", 5060, 5001 + (uint32_t)a, 0x18, reg + a,
                    b - a);
    pg_write(&w, t += 1000, f, n);
    /* 7: UDP IPv6 OPTIONS */
    n = pg_eth_udp6(f, "2001:db8::1", 5060, "2001:db8::2", 5060, opt6, sizeof(opt6) - 1);
    pg_write(&w, t += 1000, f, n);
    /* 8-10: an IPv4 UDP INVITE in three fragments, sent last-first-middle */
    size_t l4len = pg_udp(l4, 5060, 5060, big, biglen);
    size_t cut1 = 1000, cut2 = 2000;
    struct {
        size_t off, len;
        bool more;
    } frags[3] = {{cut2, l4len - cut2, false}, {0, cut1, true}, {cut1, cut2 - cut1, true}};
    for (int i = 0; i < 3; i++) {
        size_t h = pg_eth(f, 0x0800, 0);
        uint16_t fr = (uint16_t)(frags[i].off / 8 | (frags[i].more ? 0x2000u : 0));
        n = h + pg_ipv4(f + h, "198.51.100.7", "203.0.113.5", IPPROTO_UDP, 0x4242, fr,
                        l4 + frags[i].off, frags[i].len);
        pg_write(&w, t += 1000, f, n);
    }
    /* 11: a UDP datagram that looks like SIP but is broken */
    static const char bad[] = "BYE sip:x@example.com SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n";
    n = pg_eth_udp4(f, "192.0.2.99", 5060, "203.0.113.5", 5060, bad, sizeof(bad) - 1);
    pg_write(&w, t += 1000, f, n);
    /* 12: HTTP over TCP (not SIP) */
    static const char http[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    n = pg_eth_tcp4(f, "192.0.2.30", 41000, "192.0.2.80", 80, 1, 0x18, http, sizeof(http) - 1);
    pg_write(&w, t += 1000, f, n);
    /* 13: a TCP INVITE cut short by the end of the capture */
    static const char cut[] =
        "INVITE sip:400@example.com SIP/2.0\r\nContent-Length: 100\r\n\r\nv=0";
    n = pg_eth_tcp4(f, "192.0.2.40", 42000, "203.0.113.5", 5060, 1, 0x18, cut, sizeof(cut) - 1);
    pg_write(&w, t += 1000, f, n);
    CHECK_INT(pg_close(&w), 0);
}

static void test_capture(bool ng)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/mixed.%s", dir, ng ? "pcapng" : "pcap");
    make_capture(path, ng);

    CHECK_INT(run((const char *[]){path, NULL}), 1);
    CHECK_HAS(" #1 udp 192.0.2.10:5060 -> 203.0.113.5:5060 2023-11-14T22:13:20.001000Z");
    CHECK_HAS("  INVITE sip:1002@pbx.example.com SIP/2.0\n");
    CHECK_HAS(" #6 (from #4) tcp 192.0.2.20:40000 -> 203.0.113.5:5060");
    CHECK_HAS("  REGISTER sip:example.com SIP/2.0\n");
    CHECK_HAS(" #7 udp [2001:db8::1]:5060 -> [2001:db8::2]:5060");
    CHECK_HAS("  OPTIONS sip:[2001:db8::2] SIP/2.0\n");
    CHECK_HAS(" #10 udp reassembled 198.51.100.7:5060 -> 203.0.113.5:5060");
    CHECK_HAS("content-length  2000\n");
    CHECK_HAS(" #11 udp 192.0.2.99:5060");
    CHECK_HAS(" #13 tcp 192.0.2.40:42000 -> 203.0.113.5:5060");
    CHECK_HAS("capture ended inside the message");
    CHECK_HAS("4 valid, 2 invalid; skipped 2 non-SIP payloads, 1 keep-alive");

    CHECK_INT(run((const char *[]){"--format", "json", path, NULL}), 1);
    CHECK_INT(check_json_lines(), 6);
    CHECK_INT(count(out, "\"schema\":\"pbxguard-inspect/1\""), 6);
    CHECK_HAS(ng ? "\"format\":\"pcapng\"" : "\"format\":\"pcap\"");
    CHECK_HAS("\"transport\":\"tcp\",\"offset\":0,\"frame\":6,\"first_frame\":4,"
              "\"src\":\"192.0.2.20:40000\",\"dst\":\"203.0.113.5:5060\"");
    CHECK_HAS("\"flow\":1,\"reassembled\":false}");
    CHECK_HAS("\"src\":\"[2001:db8::1]:5060\"");
    CHECK_HAS("\"frame\":10,\"first_frame\":10,\"src\":\"198.51.100.7:5060\"");
    CHECK_HAS("\"reassembled\":true");
    CHECK_HAS("\"branch\":\"z9hG4bKtcp1\"");
    CHECK_HAS(
        "\"from\":{\"value\":\"<sip:200@example.com>;tag=t1\",\"uri\":\"sip:200@example.com\","
        "\"tag\":\"t1\"}");
    CHECK_HAS("\"cseq\":{\"value\":\"7 OPTIONS\",\"num\":7,\"method\":\"OPTIONS\"}");
    CHECK_HAS("\"time\":\"2023-11-14T22:13:20.001000Z\"");
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
    test_usage();
    test_samples_text();
    test_malformed();
    test_raw_rules();
    test_hostile_bytes();
    test_capture(false);
    test_capture(true);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_finish();
}
