/* SPDX-License-Identifier: Apache-2.0 */
/* classroom_form: the trainer's page's form fields (admin_classroom.c), checked and
 * turned into the arguments of the command an operator would type:
 *   wapsim classroom reset DIR SEAT|all
 *   wapsim classroom assign DIR SEAT|all [--level L] [--seed S | --same] [--mistake ID[,ID]]
 * (COMMON.md's CLI contract; the command checks the values again and says why it refuses
 * one). A field is only ever a value: none may start with '-', and each is held to the
 * characters its option takes, so no field can become an option or a second argument.
 * No request and no state here (a body, its fields), so tests/unit/test_web.c tests it alone. */
#ifndef WAPSIM_PORTAL_CLASSROOM_FORM_H
#define WAPSIM_PORTAL_CLASSROOM_FORM_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CLASSROOM_FIELD_MAX 64 /* any one field's value, with its NUL */

/* The posted fields, as web_field gives them ("" when absent). */
typedef struct classroom_fields {
    char seat[CLASSROOM_FIELD_MAX];    /* "seat07", "7" or "all" */
    char level[CLASSROOM_FIELD_MAX];   /* "" (the plan's) or 1, 2, 3 */
    char seed[CLASSROOM_FIELD_MAX];    /* "" or a decimal number */
    char same[CLASSROOM_FIELD_MAX];    /* "" or the checkbox's value: every seat one exercise */
    char mistake[CLASSROOM_FIELD_MAX]; /* "" or mistake ids, comma-separated (m3a,m1b) */
} classroom_fields;

/* A command built from the fields. */
typedef struct classroom_cmd {
    const char *args[16]; /* for admin_run_in: "classroom", verb, DIR, SEAT, options..., NULL */
    char dir[PATH_MAX];
    char seat[16];        /* "seat07" or "all" */
    char level[2], seed[24], mistake[CLASSROOM_FIELD_MAX];
    char why[200];        /* a refusal: one line naming the field and its value */
} classroom_cmd;

/* The fields from a urlencoded POST body (request.h): 0 with f, an absent field "", or
 * -1 with why (n bytes) naming a field that is there but too long or badly escaped: such
 * a field is refused, never taken as absent (a seed or mistake list the trainer typed
 * would otherwise be dropped and a random exercise handed out). */
int classroom_fields_parse(const uint8_t *body, size_t len, classroom_fields *f, char *why, size_t n);
/* The seat a field names, "seat07" for "seat07", "seat7", "07" or "7" (1..nseats),
 * into out (16 bytes); 0, or -1 when it names none. */
int classroom_seat_name(const char *field, int nseats, char out[16]);
/* verb "reset" (seat only) or "assign" (seat and the options) for the classroom at dir
 * (absolute) of nseats seats: 0 with out->args, or -1 with out->why. */
int classroom_cmd_build(const char *verb, const char *dir, int nseats, const classroom_fields *f,
                        classroom_cmd *out);

#endif
