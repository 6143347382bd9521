/*
 * pbxguard check-config, run as a real process: exit codes 0/1/2, errors on stderr as
 * file:line:column: reason, the JSON report, and the shipped etc/pbxguard.yaml.
 * argv[1] is the path of the pbxguard binary (from CMake).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static const char *pbxguard;

/* Runs pbxguard check-config ARGS; captures stdout/stderr (capped); returns the exit code. */
static int run(const char *const *args, char *out, size_t out_cap, char *err, size_t err_cap)
{
    char ofile[] = "/tmp/pbx-cc-out-XXXXXX", efile[] = "/tmp/pbx-cc-err-XXXXXX";
    int ofd = mkstemp(ofile), efd = mkstemp(efile);
    char *argv[16];
    int n = 0, status = -1;
    argv[n++] = (char *)pbxguard;
    argv[n++] = (char *)"check-config";
    for (; args[n - 2] && n < 15; n++)
        argv[n] = (char *)args[n - 2];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(ofd, STDOUT_FILENO);
        dup2(efd, STDERR_FILENO);
        execv(pbxguard, argv);
        _exit(127);
    }
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        status = WEXITSTATUS(status);
    else
        status = -1;
    ssize_t r = pread(ofd, out, out_cap - 1, 0);
    out[r > 0 ? r : 0] = '\0';
    r = pread(efd, err, err_cap - 1, 0);
    err[r > 0 ? r : 0] = '\0';
    close(ofd);
    close(efd);
    unlink(ofile);
    unlink(efile);
    return status;
}

int main(int argc, char **argv)
{
    char out[8192], err[8192];
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-PBXGUARD\n", argv[0]);
        return 2;
    }
    pbxguard = argv[1];

    /* the shipped configuration is valid */
    CHECK_INT(run((const char *[]){"etc/pbxguard.yaml", NULL}, out, sizeof(out), err, sizeof(err)),
              0);
    CHECK_STR(out, "etc/pbxguard.yaml: configuration is valid\n");
    CHECK_STR(err, "");

    /* a comment-only file means embedded defaults */
    CHECK_INT(run((const char *[]){"tests/core/data/empty.yaml", NULL}, out, sizeof(out), err,
                  sizeof(err)),
              0);

    /* invalid: exit 1, every error on stderr with its position, in file order */
    CHECK_INT(run((const char *[]){"tests/core/data/invalid.yaml", NULL}, out, sizeof(out), err,
                  sizeof(err)),
              1);
    CHECK_STR(err, "tests/core/data/invalid.yaml:2:16: general.shadow_mode: expected true or "
                   "false, got 'maybe'\n"
                   "tests/core/data/invalid.yaml:4:10: log.level: unknown value 'loud' "
                   "(expected one of: error, warn, info, debug)\n");
    CHECK_STR(out, "");

    CHECK_INT(
        run((const char *[]){"tests/core/data/tab.yaml", NULL}, out, sizeof(out), err, sizeof(err)),
        1);
    CHECK_STR(err, "tests/core/data/tab.yaml:4:1: tab character where YAML needs spaces\n");

    /* JSON report on stdout */
    CHECK_INT(run((const char *[]){"--format", "json", "tests/core/data/invalid.yaml", NULL}, out,
                  sizeof(out), err, sizeof(err)),
              1);
    CHECK_STR(out, "{\"file\":\"tests/core/data/invalid.yaml\",\"valid\":false,\"errors\":["
                   "{\"file\":\"tests/core/data/invalid.yaml\",\"line\":2,\"column\":16,"
                   "\"reason\":\"general.shadow_mode: expected true or false, got 'maybe'\"},"
                   "{\"file\":\"tests/core/data/invalid.yaml\",\"line\":4,\"column\":10,"
                   "\"reason\":\"log.level: unknown value 'loud' (expected one of: error, "
                   "warn, info, debug)\"}],\"errors_not_shown\":0}\n");
    CHECK_INT(run((const char *[]){"--format=json", "etc/pbxguard.yaml", NULL}, out, sizeof(out),
                  err, sizeof(err)),
              0);
    CHECK_STR(out, "{\"file\":\"etc/pbxguard.yaml\",\"valid\":true,\"errors\":[],"
                   "\"errors_not_shown\":0}\n");

    /* usage and I/O errors: exit 2 */
    CHECK_INT(run((const char *[]){NULL}, out, sizeof(out), err, sizeof(err)), 2);
    CHECK(strstr(err, "usage: pbxguard check-config") != NULL);
    CHECK_INT(run((const char *[]){"tests/core/data/missing.yaml", NULL}, out, sizeof(out), err,
                  sizeof(err)),
              2);
    CHECK_STR(err, "tests/core/data/missing.yaml: cannot open: No such file or directory\n");
    CHECK_INT(run((const char *[]){"tests/core", NULL}, out, sizeof(out), err, sizeof(err)), 2);
    CHECK_INT(run((const char *[]){"--format", "xml", "etc/pbxguard.yaml", NULL}, out, sizeof(out),
                  err, sizeof(err)),
              2);
    CHECK_INT(run((const char *[]){"--bogus", "etc/pbxguard.yaml", NULL}, out, sizeof(out), err,
                  sizeof(err)),
              2);
    CHECK_INT(run((const char *[]){"--help", NULL}, out, sizeof(out), err, sizeof(err)), 0);
    return test_finish();
}
