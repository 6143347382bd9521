/*
 * Subcommands of the pbxguard program. Each takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit code.
 */
#ifndef PBXGUARD_APP_COMMANDS_H
#define PBXGUARD_APP_COMMANDS_H

int cmd_inspect(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_gateway(int argc, char **argv);
int cmd_sensor(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_cdr(int argc, char **argv);

#endif
