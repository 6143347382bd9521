/*
 * Streaming CDR reader: RFC 4180 CSV in constant memory, with the column layouts of
 * Asterisk's cdr_csv (Master.csv), FreeSWITCH's mod_cdr_csv default template, and any
 * other CSV through a column mapping. Rows are returned as slices into the reader's
 * buffer, valid until the next call. One reader per thread.
 */
#ifndef PBXGUARD_CDR_READER_H
#define PBXGUARD_CDR_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"

#define CDR_ROW_MAX (64u * 1024u) /* longer rows are skipped and counted as malformed */
#define CDR_COLS_MAX 128u
#define CDR_BUF_SIZE (1u << 20)

enum cdr_format {
    CDR_FMT_ASTERISK = 0, /* cdr_csv Master.csv default column order */
    CDR_FMT_FREESWITCH,   /* mod_cdr_csv "example" (default) template */
    CDR_FMT_GENERIC,      /* columns named by a mapping */
};

/* The fields the analysis uses. */
enum cdr_field {
    CDR_F_ACCOUNT = 0, /* account code (may be empty) */
    CDR_F_SRC,         /* caller number / extension */
    CDR_F_DST,         /* dialled number */
    CDR_F_CHANNEL,     /* Asterisk channel "PJSIP/1001-00000a1b": the account when no code */
    CDR_F_START,
    CDR_F_ANSWER,
    CDR_F_END,
    CDR_F_DURATION,
    CDR_F_BILLSEC,
    CDR_F_DISPOSITION, /* ANSWERED / NO ANSWER, or FreeSWITCH hangup cause */
    CDR_F_ID,          /* uniqueid / uuid */
    CDR_F_SOURCE,      /* source address, when the CDR has one (generic only) */
    CDR_F_COUNT
};

/* Column index per field (0-based), -1 when the CDR has no such column. */
struct cdr_mapping {
    int col[CDR_F_COUNT];
    /* Generic only: names to resolve against a header row (NULL = use col[]). Borrowed. */
    const char *name[CDR_F_COUNT];
    bool header; /* first row is a header (skipped; resolves name[]) */
};

struct cdr_row {
    struct slice f[CDR_F_COUNT]; /* absent fields are empty slices */
    uint64_t line;               /* 1-based line where the row starts */
};

struct cdr_reader;

/* The built-in mapping of a format (GENERIC: every column absent). */
void cdr_mapping_preset(enum cdr_format fmt, struct cdr_mapping *m);

/*
 * Parses a mapping "field=COL,field=COL" where COL is a 1-based column number or a
 * header name ("account=accountcode,dst=called,start=3"). Field names: account, src, dst,
 * channel, start, answer, end, duration, billsec, disposition, id, source. Names are
 * borrowed from `spec` (keep it alive). -EINVAL with a reason in why.
 */
PBX_WUR int cdr_mapping_parse(char *spec, struct cdr_mapping *m, char *why, size_t why_cap);
const char *cdr_field_name(enum cdr_field f);

/*
 * Opens a reader on fd (borrowed, not closed). `name` is used in messages. -ENOMEM.
 * The mapping is copied.
 */
PBX_WUR int cdr_reader_new(int fd, const char *name, const struct cdr_mapping *m,
                           struct cdr_reader **out);
void cdr_reader_free(struct cdr_reader *r);

/*
 * Next row: 1 and *row filled, 0 at end of input, negative errno on a read error or
 * (-EINVAL) a header that lacks a mapped name (reason in cdr_reader_error). Malformed rows
 * (unterminated quote, too long, too few columns) are skipped and counted.
 */
PBX_WUR int cdr_reader_next(struct cdr_reader *r, struct cdr_row *row);

uint64_t cdr_reader_bytes(const struct cdr_reader *r); /* consumed so far */
uint64_t cdr_reader_malformed(const struct cdr_reader *r);
const char *cdr_reader_error(const struct cdr_reader *r);

#endif
