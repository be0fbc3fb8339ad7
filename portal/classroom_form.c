/* SPDX-License-Identifier: Apache-2.0 */
/* classroom_form: the trainer's page's fields into `wapsim classroom` arguments
 * (classroom_form.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classroom_form.h"
#include "request.h"
#include "train/classroom.h"

#define SEED_DIGITS_MAX 16 /* WS_CLASSROOM_MAX_SEED, 2^53 - 1, has 16 digits */

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* The seat's number by the classroom's own rule (train/classroom.h), within the classroom. */
int classroom_seat_name(const char *field, int nseats, char out[16])
{
    int n = ws_classroom_seat_number(field);
    if (n < 1 || n > nseats)
        return -1;
    snprintf(out, 16, "seat%02d", n);
    return 0;
}

int classroom_fields_parse(const uint8_t *body, size_t len, classroom_fields *f, char *why, size_t n)
{
    memset(f, 0, sizeof *f);
    const struct {
        const char *name;
        char *out;
    } fields[] = {{"seat", f->seat}, {"level", f->level}, {"seed", f->seed}, {"same", f->same}, {"mistake", f->mistake}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        ws_error e;
        int rc = portal_form_field(body, len, fields[i].name, fields[i].out, CLASSROOM_FIELD_MAX, &e);
        if (rc < 0) {
            snprintf(why, n, "%s", e.msg);
            return -1;
        }
        if (rc > 0)
            fields[i].out[0] = '\0';
    }
    return 0;
}

static int refuse(classroom_cmd *out, const char *field, const char *value, const char *rule)
{
    snprintf(out->why, sizeof out->why, "field '%s' is %s, not '%.60s'", field, rule, value);
    out->args[0] = NULL;
    return -1;
}

/* The options of assign, checked, into out's own buffers; n is the next free argument. */
static int assign_options(const classroom_fields *f, classroom_cmd *out, int n)
{
    if (f->level[0]) {
        if (strcmp(f->level, "1") && strcmp(f->level, "2") && strcmp(f->level, "3"))
            return refuse(out, "level", f->level, "1, 2 or 3");
        snprintf(out->level, sizeof out->level, "%s", f->level);
        out->args[n++] = "--level", out->args[n++] = out->level;
    }
    if (f->seed[0]) {
        int bad = !all_digits(f->seed) || strlen(f->seed) > SEED_DIGITS_MAX;
        if (!bad)
            bad = strtoull(f->seed, NULL, 10) > WS_CLASSROOM_MAX_SEED; /* as `classroom assign --seed` */
        if (bad)
            return refuse(out, "seed", f->seed, "a number from 0 to 9007199254740991 (2^53 - 1)");
        if (f->same[0])
            return refuse(out, "same", f->same, "empty when a seed is given (--seed S or --same, not both)");
        snprintf(out->seed, sizeof out->seed, "%s", f->seed);
        out->args[n++] = "--seed", out->args[n++] = out->seed;
    } else if (f->same[0]) {
        out->args[n++] = "--same";
    }
    if (f->mistake[0]) {
        if (!ws_classroom_mistakes_ok(f->mistake))
            return refuse(out, "mistake", f->mistake, "mistake ids separated by commas (m3a,m1b)");
        snprintf(out->mistake, sizeof out->mistake, "%s", f->mistake);
        out->args[n++] = "--mistake", out->args[n++] = out->mistake;
    }
    out->args[n] = NULL;
    return 0;
}

int classroom_cmd_build(const char *verb, const char *dir, int nseats, const classroom_fields *f,
                        classroom_cmd *out)
{
    memset(out, 0, sizeof *out);
    int assign = strcmp(verb, "assign") == 0;
    if (!assign && strcmp(verb, "reset") != 0)
        return refuse(out, "verb", verb, "reset or assign");
    if (dir[0] != '/' || strlen(dir) >= sizeof out->dir)
        return refuse(out, "dir", dir, "an absolute path");
    snprintf(out->dir, sizeof out->dir, "%s", dir);
    if (strcmp(f->seat, "all") == 0)
        snprintf(out->seat, sizeof out->seat, "all");
    else if (classroom_seat_name(f->seat, nseats, out->seat) != 0) {
        char rule[64];
        snprintf(rule, sizeof rule, "'all' or a seat from seat01 to seat%02d", nseats);
        return refuse(out, "seat", f->seat, rule);
    }
    int n = 0;
    out->args[n++] = "classroom";
    out->args[n++] = assign ? "assign" : "reset";
    out->args[n++] = out->dir;
    out->args[n++] = out->seat;
    out->args[n] = NULL;
    return assign ? assign_options(f, out, n) : 0;
}
