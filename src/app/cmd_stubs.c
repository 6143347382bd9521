/*
 * Weak stand-ins for subcommands whose subsystem is not built yet. A real implementation
 * in src/app/cmd_<name>.c overrides the stub; remove the stub once that lands.
 */
#include <stdio.h>

#include "commands.h"

#define PBX_STUB(fn, name)                                                                         \
    __attribute__((weak)) int fn(int argc, char **argv)                                            \
    {                                                                                              \
        (void)argc;                                                                                \
        (void)argv;                                                                                \
        fprintf(stderr, "pbxguard: '%s' is not available in this build\n", name);                  \
        return 2;                                                                                  \
    }

PBX_STUB(cmd_inspect, "inspect")
PBX_STUB(cmd_check_config, "check-config")
PBX_STUB(cmd_gateway, "gateway")
PBX_STUB(cmd_sensor, "sensor")
PBX_STUB(cmd_ctl, "ctl")
PBX_STUB(cmd_audit, "audit")
PBX_STUB(cmd_probe, "probe")
PBX_STUB(cmd_cdr, "cdr")
