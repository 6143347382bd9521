/*
 * Plain driver standing in for libFuzzer's main when a harness is built without PBX_FUZZ:
 * it runs LLVMFuzzerTestOneInput once on every file named on the command line, descending
 * into directories (files in name order, so runs are reproducible). Each input is copied
 * into a heap buffer of exactly its size, so ASan catches any read past the end just as a
 * fuzzing run would.
 *
 * Exit status: 0 when at least one input ran, 1 when there was none (an empty or missing
 * corpus is a packaging mistake, not a pass), 2 on an I/O error. A harness failure aborts
 * (sanitizer report or __builtin_trap) like under libFuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX_INPUT (16u * 1024 * 1024)
#define REPLAY_MAX_DEPTH 4

static unsigned long replayed;

static int run_file(const char *path)
{
    int rc = 2;
    uint8_t *buf = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || st.st_size < 0 || st.st_size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: unreadable or larger than %u bytes\n", path, REPLAY_MAX_INPUT);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    /* malloc(0) may return NULL; a 1-byte allocation keeps the pointer valid. */
    buf = malloc(size ? size : 1);
    if (!buf || fread(buf, 1, size, fp) != size) {
        fprintf(stderr, "replay: %s: read failed\n", path);
        goto out;
    }
    LLVMFuzzerTestOneInput(buf, size);
    replayed++;
    rc = 0;
out:
    free(buf);
    if (fp)
        fclose(fp);
    return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    if (depth >= REPLAY_MAX_DEPTH)
        return 0;
    struct dirent **names;
    int n = scandir(path, &names, NULL, by_name);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 2;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char sub[4096];
        if (names[i]->d_name[0] != '.' &&
            (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name) < sizeof(sub)) {
            int r = run_path(sub, depth + 1);
            if (r)
                rc = r;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        int r = run_path(argv[i], 0);
        if (r)
            rc = r;
    }
    printf("replay: %lu inputs\n", replayed);
    if (rc)
        return rc;
    return replayed ? 0 : 1;
}
