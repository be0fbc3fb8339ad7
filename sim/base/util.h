/* SPDX-License-Identifier: Apache-2.0 */
/* util: the small helpers every wapsim program shares: one-line errors, strings,
 * hex, files, random identifiers. Nothing here knows about the lab. */
#ifndef WAPSIM_UTIL_H
#define WAPSIM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit statuses of every wapsim command. */
#define WS_EXIT_OK 0
#define WS_EXIT_FAIL 1   /* the operation ran and failed (a probe, a check) */
#define WS_EXIT_USAGE 2  /* a bad value, unknown name or unusable lab: nothing changed */

/* An error as one line of text, filled by the function that failed. */
typedef struct ws_error {
    char msg[512];
} ws_error;

int ws_seterr(ws_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Name this program uses in its messages ("wapsim", "wapsim-gateway"). */
extern const char *ws_progname;
void ws_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The text of the latest ws_warn of this process ("" before the first; cut to 511
 * bytes): a last word need not repeat it. */
const char *ws_warn_last(void);

char *ws_strdup(const char *s);
char *ws_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ws_streq_ci(const char *a, const char *b);

void ws_hex_upper(const unsigned char *in, size_t n, char *out); /* out: 2n+1 bytes */

/* Directory holding the running executable (for finding sibling programs). */
int ws_self_dir(char *buf, size_t n);

int ws_mkdir_p(const char *path, mode_t mode);
/* Write a whole file atomically (temporary file + rename) with the given mode;
 * "-" is standard output, and a path that is not a regular file is written in place. */
int ws_write_file(const char *path, const void *data, size_t len, mode_t mode, ws_error *e);
/* Read a whole file of at most max bytes; *data is NUL-terminated for convenience. */
int ws_read_file(const char *path, size_t max, unsigned char **data, size_t *len, ws_error *e);
/* Last non-empty line of a text file, or "" (for "failed: <last log line>"). */
void ws_last_line(const char *path, char *out, size_t n);

/* Random bytes from OpenSSL's CSPRNG. */
int ws_random(void *buf, size_t n);
/* A GUID in its registry form, lower case: 8-4-4-4-12 (37 bytes with NUL). */
int ws_guid_new(char out[37]);
int ws_guid_valid(const char *s);
/* A password of n-1 characters without look-alike characters. */
int ws_password_new(char *out, size_t n);

int64_t ws_wall_ms(void);
/* Milliseconds on a clock that never steps back, for intervals and deadlines. */
int64_t ws_mono_ms(void);
void ws_sleep_ms(int ms);

#endif
