/* pbxguard: one program, one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"gateway", cmd_gateway, "inline SIP security edge proxy in front of the PBX"},
    {"sensor", cmd_sensor, "detection on mirrored or recorded traffic"},
    {"inspect", cmd_inspect, "parse SIP messages (raw files or pcap) and print them"},
    {"check-config", cmd_check_config, "validate a configuration file"},
    {"ctl", cmd_ctl, "control a running daemon"},
    {"audit", cmd_audit, "grade a PBX configuration and host hardening"},
    {"probe", cmd_probe, "black-box SIP assessment of one's own PBX"},
    {"cdr", cmd_cdr, "apply the fraud policy to call records"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: pbxguard COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'pbxguard COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("pbxguard %s\n", PBX_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "pbxguard: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
