/*
 * What the sensor tells its operator: every decision other than a plain pass and every ban,
 * as text or as JSON lines (schema in docs/sensor.md), plus a summary with per-rule counts.
 *
 * Plug it in with sensor_set_event_cb(s, sensor_report_event, r) and, offline,
 * det_set_ban_hook(e, sensor_report_ban, r); live, call sensor_report_ban() from the ban hook
 * that also persists and enforces.
 *
 * Bounds: SENSOR_REPORT_MAX_RULES (rule, action) counters, SENSOR_REPORT_MAX_BANS bans kept
 * with their evidence (later bans are counted only), SENSOR_REPORT_MAX_FLAGGED clients
 * remembered for sensor_report_flagged(). Attacker bytes (evidence, user agents, Call-IDs)
 * are escaped (core/escape.h) in both formats.
 *
 * Ownership: out is borrowed and must outlive the report. Not thread-safe.
 */
#ifndef PBXGUARD_SENSOR_REPORT_H
#define PBXGUARD_SENSOR_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/sensor/sensor.h"

#define SENSOR_REPORT_MAX_RULES 64u
#define SENSOR_REPORT_MAX_BANS 4096u
#define SENSOR_REPORT_MAX_FLAGGED 4096u
#define SENSOR_REPORT_EVIDENCE_MAX 4096u

enum sensor_report_format {
    SENSOR_REPORT_TEXT, /* one line per decision while running, summary at the end */
    SENSOR_REPORT_JSON, /* one JSON object per line: verdict, ban, then one summary */
};

struct sensor_report_ban {
    struct ban_entry b;
    size_t evidence_len;
    char evidence[SENSOR_REPORT_EVIDENCE_MAX];
};

struct sensor_report;

/* quiet: no per-decision lines in text mode (the summary still lists bans). 0 or -ENOMEM. */
PBX_WUR int sensor_report_new(FILE *out, enum sensor_report_format fmt, bool quiet,
                              struct sensor_report **r);
void sensor_report_free(struct sensor_report *r);

/* sensor_event_fn: records (and prints) one decision. */
void sensor_report_event(const struct sensor_event *ev, void *ctx);
/* det_ban_hook_fn: records (and prints) one ban with its evidence. */
void sensor_report_ban(const struct ban_entry *b, const char *evidence, size_t len, void *ctx);

/* Writes the summary: capture counters, per-rule counts, bans with reasons and evidence. */
void sensor_report_summary(struct sensor_report *r, const struct sensor_stats *st,
                           double elapsed_s);

/* Decisions other than pass recorded so far, and bans. */
uint64_t sensor_report_decisions(const struct sensor_report *r);
uint64_t sensor_report_nbans(const struct sensor_report *r);
/* The i-th ban kept (in order), or NULL. */
const struct sensor_report_ban *sensor_report_ban_at(const struct sensor_report *r, size_t i);
/* Decisions of this rule with this action (effective, or would-be in shadow mode). */
uint64_t sensor_report_count(const struct sensor_report *r, const char *rule, enum det_action a);
/* Did any decision other than pass concern this client address (port ignored)? */
bool sensor_report_flagged(const struct sensor_report *r, const struct pbx_addr *client);

#endif
