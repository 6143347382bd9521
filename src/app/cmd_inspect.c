/*
 * pbxguard inspect [--json | --format text|json] FILE...
 *
 * Parses SIP messages from raw message files and from pcap/pcapng captures (told apart by
 * their magic number) and prints each message's source, first line, key headers and
 * anomalies, or the parse error with its offset. Data goes to stdout, diagnostics and the
 * summary in JSON mode to stderr.
 *
 * Exit status: 0 all messages valid; 1 at least one invalid message; 2 usage or I/O error
 * (which wins over 1). See docs/inspect.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "inspect.h"
#include "pbxguard/core/escape.h"
#include "pbxguard/sensor/capture_file.h"

/* A raw message file larger than this is not a SIP message file. */
#define RAW_MAX_FILE (16u * 1024 * 1024)

static void usage(FILE *out)
{
    fputs("usage: pbxguard inspect [--json | --format text|json] FILE...\n"
          "  FILE  a raw SIP message file (several messages may follow each other,\n"
          "        each ended by its Content-Length) or a pcap/pcapng capture\n"
          "        (UDP and TCP on any port, IPv4 and IPv6)\n"
          "exit status: 0 all valid, 1 some message invalid, 2 usage or I/O error\n",
          out);
}

/* Reads the whole file (at most RAW_MAX_FILE bytes). Returns 0 or -errno. */
static int read_file(FILE *fp, uint8_t **out, size_t *len)
{
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    int rc = -ENOMEM;
    if (!buf)
        goto out;
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap) {
            if (ferror(fp)) {
                rc = -EIO;
                goto out;
            }
            break;
        }
        if (cap >= RAW_MAX_FILE) {
            rc = -EFBIG;
            goto out;
        }
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb)
            goto out;
        buf = nb;
        cap *= 2;
    }
    *out = buf;
    *len = n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    return rc;
}

static int inspect_path(struct inspect_ctx *c, const char *path)
{
    struct esc_buf eb;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    FILE *fp = fopen(path, "rb");
    c->files++;
    if (!fp) {
        rc = -errno;
        fprintf(stderr, "inspect: %s: %s\n", esc_s(&eb, slice_cstr(path)), strerror(-rc));
        goto out;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = -EISDIR;
        fprintf(stderr, "inspect: %s: %s\n", esc_s(&eb, slice_cstr(path)), strerror(-rc));
        goto out;
    }
    uint8_t head[4];
    size_t got = fread(head, 1, sizeof(head), fp);
    if (cap_format_detect(head, got) != CAP_FORMAT_NONE) {
        fclose(fp);
        fp = NULL;
        rc = inspect_capture(c, path);
        goto out;
    }
    if (fseek(fp, 0, SEEK_SET) != 0) {
        rc = -errno;
        fprintf(stderr, "inspect: %s: %s\n", esc_s(&eb, slice_cstr(path)), strerror(-rc));
        goto out;
    }
    rc = read_file(fp, &buf, &len);
    if (rc < 0) {
        fprintf(stderr, "inspect: %s: %s\n", esc_s(&eb, slice_cstr(path)),
                rc == -EFBIG ? "too large for a SIP message file" : strerror(-rc));
        goto out;
    }
    rc = inspect_raw(c, path, buf, len);
out:
    if (rc < 0)
        c->io_errors++;
    free(buf);
    if (fp)
        fclose(fp);
    return rc;
}

int cmd_inspect(int argc, char **argv)
{
    struct inspect_ctx c = {.out = stdout};
    int first = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            first = i + 1;
            break;
        }
        if (strcmp(a, "--json") == 0) {
            c.json = true;
        } else if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "json") == 0) {
                c.json = true;
            } else if (strcmp(f, "text") == 0) {
                c.json = false;
            } else {
                usage(stderr);
                return 2;
            }
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "inspect: unknown option\n");
            usage(stderr);
            return 2;
        } else {
            first = i;
            break;
        }
    }
    if (first >= argc) {
        usage(stderr);
        return 2;
    }
    json_init_dynamic(&c.jw, 1u << 20);
    for (int i = first; i < argc; i++)
        (void)inspect_path(&c, argv[i]);
    json_fini(&c.jw);
    fflush(stdout);

    FILE *sum = c.json ? stderr : stdout;
    fprintf(sum,
            "inspect: %llu file%s, %llu message%s: %llu valid, %llu invalid; skipped %llu "
            "non-SIP payload%s, %llu keep-alive%s, %llu undecodable frame%s\n",
            (unsigned long long)c.files, c.files == 1 ? "" : "s", (unsigned long long)c.messages,
            c.messages == 1 ? "" : "s", (unsigned long long)c.valid, (unsigned long long)c.invalid,
            (unsigned long long)c.non_sip, c.non_sip == 1 ? "" : "s",
            (unsigned long long)c.keepalives, c.keepalives == 1 ? "" : "s",
            (unsigned long long)c.bad_frames, c.bad_frames == 1 ? "" : "s");
    if (c.io_errors)
        return 2;
    return c.invalid ? 1 : 0;
}
