/* SPDX-License-Identifier: Apache-2.0 */
/* classroom: classroom.json, a seat's view and the results (see classroom.h); the
 * classroom's life (init, up, down, reset, destroy) is in classroom_life.c. */
#include "train/classroom.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/time.h"
#include "lab/lab.h"
#include "svc/supervisor.h"

int ws_classroom_seat_number(const char *name)
{
    if (!name)
        return 0;
    if (strncmp(name, "seat", 4) == 0)
        name += 4;
    size_t n = strlen(name);
    if (n < 1 || n > 2 || !isdigit((unsigned char)name[0]) || (n == 2 && !isdigit((unsigned char)name[1])))
        return 0;
    int v = atoi(name);
    return v >= 1 && v <= WS_CLASSROOM_MAX_SEATS ? v : 0;
}

const ws_seat *ws_classroom_seat(const ws_classroom *c, const char *name)
{
    int k = ws_classroom_seat_number(name);
    for (int i = 0; k && i < c->nseats; i++)
        if (ws_classroom_seat_number(c->seats[i].name) == k)
            return &c->seats[i];
    return NULL;
}

void ws_classroom_free(ws_classroom *c)
{
    free(c->seats);
    c->seats = NULL;
    c->nseats = 0;
}

/* splitmix64: a seat's seed from the plan's and its number; kept below 2^53 so that
 * classroom.json's numbers and a trainer's copy of them are exact. */
unsigned long long ws_classroom_seat_seed(const ws_classroom *c, const ws_seat *s)
{
    if (c->same)
        return c->seed;
    unsigned long long z = c->seed + 0x9E3779B97F4A7C15ULL * (unsigned long long)ws_classroom_seat_number(s->name);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (z ^ (z >> 31)) & WS_CLASSROOM_MAX_SEED;
}

/* ---- classroom.json, read as untrusted input: every field's type, length and characters ---- */

#define MAX_SEED ((double)WS_CLASSROOM_MAX_SEED)

/* A string member of o: printable ASCII (no space when word), 1 .. n-1 bytes, into out. */
static int get_text(const cJSON *o, const char *key, const char *path, int word, char *out, size_t n, ws_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        return ws_seterr(e, "%s%s: %s", path, key, v ? "not a string" : "missing");
    const char *s = v->valuestring;
    size_t len = strlen(s);
    if (len == 0 || len >= n)
        return ws_seterr(e, "%s%s: %s (1 to %zu characters)", path, key, len ? "too long" : "empty", n - 1);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < (word ? 0x21 : 0x20) || (unsigned char)s[i] > 0x7e)
            return ws_seterr(e, "%s%s: character %zu is not printable ASCII%s", path, key, i + 1,
                             word ? " (or is a space)" : "");
    memcpy(out, s, len + 1);
    return 0;
}

int ws_classroom_mistakes_ok(const char *s)
{
    if (!*s || *s == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != ',')
            return 0;
    return 1;
}

static int parse_plan(const cJSON *root, ws_classroom *c, ws_error *e)
{
    const cJSON *plan = cJSON_GetObjectItemCaseSensitive(root, "plan");
    if (!cJSON_IsObject(plan))
        return ws_seterr(e, "plan: %s", plan ? "not an object" : "missing");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(plan, "level");
    if (!cJSON_IsNumber(v) || (v->valuedouble != 1 && v->valuedouble != 2 && v->valuedouble != 3))
        return ws_seterr(e, "plan.level: %s", v ? "not 1, 2 or 3" : "missing");
    c->level = v->valueint;
    v = cJSON_GetObjectItemCaseSensitive(plan, "seed");
    if (v && !cJSON_IsNull(v)) {
        double d = cJSON_GetNumberValue(v);
        if (!cJSON_IsNumber(v) || !(d >= 0) || d > MAX_SEED || (double)(unsigned long long)d != d)
            return ws_seterr(e, "plan.seed: not null or a whole number from 0 to 2^53-1");
        c->has_seed = 1;
        c->seed = (unsigned long long)d;
    }
    v = cJSON_GetObjectItemCaseSensitive(plan, "same");
    if (v && !cJSON_IsBool(v))
        return ws_seterr(e, "plan.same: not true or false");
    c->same = cJSON_IsTrue(v);
    if (c->same && !c->has_seed)
        return ws_seterr(e, "plan.same: true without a seed");
    v = cJSON_GetObjectItemCaseSensitive(plan, "mistakes");
    if (v && !cJSON_IsNull(v)) {
        if (get_text(plan, "mistakes", "plan.", 1, c->mistakes, sizeof c->mistakes, e) != 0)
            return -1;
        if (!ws_classroom_mistakes_ok(c->mistakes))
            return ws_seterr(e, "plan.mistakes: not mistake ids between commas (m3a,m1b)");
    }
    return 0;
}

static int parse_seat(const cJSON *o, int i, const char *dir, ws_seat *s, ws_error *e)
{
    char path[32], want[16], prefix[32];
    snprintf(path, sizeof path, "seats[%d].", i);
    if (!cJSON_IsObject(o))
        return ws_seterr(e, "seats[%d]: not an object", i);
    if (get_text(o, "seat", path, 1, s->name, sizeof s->name, e) != 0 ||
        get_text(o, "subnet", path, 1, s->subnet, sizeof s->subnet, e) != 0 ||
        get_text(o, "account", path, 1, s->account, sizeof s->account, e) != 0 ||
        get_text(o, "password", path, 1, s->password, sizeof s->password, e) != 0)
        return -1;
    snprintf(want, sizeof want, "seat%02d", i + 1);
    if (strcmp(s->name, want) != 0)
        return ws_seterr(e, "%sseat: '%s', expected '%s' (seats are numbered from seat01 in order)", path, s->name,
                         want);
    if (ws_subnet_prefix(s->subnet, prefix, sizeof prefix) != 0)
        return ws_seterr(e, "%ssubnet: '%s' is not 127.X.Y.0/24", path, s->subnet);
    if ((size_t)snprintf(s->dir, sizeof s->dir, "%s/%s", dir, s->name) >= sizeof s->dir)
        return ws_seterr(e, "%s: the path is too long", dir);
    return 0;
}

static int parse_seats(const cJSON *root, const char *dir, ws_classroom *c, ws_error *e)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "seats");
    if (!cJSON_IsArray(arr))
        return ws_seterr(e, "seats: %s", arr ? "not an array" : "missing");
    int n = cJSON_GetArraySize(arr);
    if (n < 1 || n > WS_CLASSROOM_MAX_SEATS)
        return ws_seterr(e, "seats: %d seats (1 to %d)", n, WS_CLASSROOM_MAX_SEATS);
    c->seats = calloc((size_t)n, sizeof *c->seats);
    if (!c->seats)
        abort();
    c->nseats = n;
    int i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, arr)
    {
        if (parse_seat(o, i, dir, &c->seats[i], e) != 0)
            return -1;
        for (int j = 0; j < i; j++)
            if (strcmp(c->seats[j].subnet, c->seats[i].subnet) == 0 ||
                strcasecmp(c->seats[j].account, c->seats[i].account) == 0)
                return ws_seterr(e, "seats[%d]: its %s is seats[%d]'s too", i,
                                 strcmp(c->seats[j].subnet, c->seats[i].subnet) == 0 ? "subnet" : "account", j);
        if (strcasecmp(c->seats[i].account, c->trainer) == 0)
            return ws_seterr(e, "seats[%d].account: the trainer's account", i);
        i++;
    }
    return 0;
}

int ws_classroom_parse(const char *dir, const char *text, size_t len, ws_classroom *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    if (len > WS_CLASSROOM_MAX_JSON)
        return ws_seterr(e, "larger than %u bytes", WS_CLASSROOM_MAX_JSON);
    if (strlen(dir) >= sizeof out->dir)
        return ws_seterr(e, "%s: the path is too long", dir);
    snprintf(out->dir, sizeof out->dir, "%s", dir);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root)
        return ws_seterr(e, "not JSON (at byte %ld)", end ? (long)(end - text) : 0L);
    int rc = -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "trainer");
    if (!cJSON_IsObject(root))
        ws_seterr(e, "not a JSON object");
    else if (!cJSON_IsNumber(v) || v->valuedouble != 1)
        ws_seterr(e, "version: %s", v ? "not 1 (this wapsim reads version 1)" : "missing");
    else if (get_text(root, "created", "", 0, out->created, sizeof out->created, e) != 0)
        ;
    else if (!cJSON_IsObject(t))
        ws_seterr(e, "trainer: %s", t ? "not an object" : "missing");
    else if (get_text(t, "account", "trainer.", 1, out->trainer, sizeof out->trainer, e) == 0 &&
             get_text(t, "password", "trainer.", 1, out->trainer_password, sizeof out->trainer_password, e) == 0 &&
             parse_plan(root, out, e) == 0 && parse_seats(root, dir, out, e) == 0)
        rc = 0;
    cJSON_Delete(root);
    if (rc != 0)
        ws_classroom_free(out);
    return rc;
}

int ws_classroom_load(const char *dir, ws_classroom *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    char abs[PATH_MAX], path[PATH_MAX + 32];
    if (!realpath(dir, abs))
        return ws_seterr(e, "no classroom at %s: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/" WS_CLASSROOM_FILE, abs);
    unsigned char *data;
    size_t len;
    ws_error inner;
    if (ws_read_file(path, WS_CLASSROOM_MAX_JSON, &data, &len, &inner) != 0)
        return ws_seterr(e, "%s is not a classroom: %s", dir, inner.msg);
    int rc = ws_classroom_parse(abs, (const char *)data, len, out, &inner);
    free(data);
    if (rc != 0)
        return ws_seterr(e, "%s: %s", path, inner.msg);
    return 0;
}

int ws_classroom_save(const ws_classroom *c, ws_error *e)
{
    cJSON *root = cJSON_CreateObject();
    char created[40];
    if (c->created[0])
        snprintf(created, sizeof created, "%s", c->created);
    else
        ws_time_format((int64_t)time(NULL), created, sizeof created);
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "created", created);
    cJSON *t = cJSON_AddObjectToObject(root, "trainer");
    cJSON_AddStringToObject(t, "account", c->trainer);
    cJSON_AddStringToObject(t, "password", c->trainer_password);
    cJSON *plan = cJSON_AddObjectToObject(root, "plan");
    cJSON_AddNumberToObject(plan, "level", c->level);
    if (c->has_seed)
        cJSON_AddNumberToObject(plan, "seed", (double)c->seed);
    else
        cJSON_AddNullToObject(plan, "seed");
    cJSON_AddBoolToObject(plan, "same", c->same);
    if (c->mistakes[0])
        cJSON_AddStringToObject(plan, "mistakes", c->mistakes);
    else
        cJSON_AddNullToObject(plan, "mistakes");
    cJSON *seats = cJSON_AddArrayToObject(root, "seats");
    for (int i = 0; i < c->nseats; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "seat", c->seats[i].name);
        cJSON_AddStringToObject(o, "subnet", c->seats[i].subnet);
        cJSON_AddStringToObject(o, "account", c->seats[i].account);
        cJSON_AddStringToObject(o, "password", c->seats[i].password);
        cJSON_AddItemToArray(seats, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char path[PATH_MAX + 32], tmp[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/" WS_CLASSROOM_FILE, c->dir);
    snprintf(tmp, sizeof tmp, "%s.new.%d", path, (int)getpid());
    char *body = ws_printf("%s\n", text);
    cJSON_free(text);
    int rc = ws_write_file(tmp, body, strlen(body), 0600, e);
    free(body);
    if (rc == 0 && rename(tmp, path) != 0) {
        unlink(tmp);
        rc = ws_seterr(e, "cannot write %s: %s", path, strerror(errno));
    }
    return rc;
}

/* ---- a seat's lab ---- */

int ws_classroom_of_lab(ws_state *st, char *dir, size_t n)
{
    return ws_meta_get(st, "classroom", dir, n) == 0 && dir[0] == '/' ? 0 : -1;
}

int ws_classroom_is_trainer(ws_state *st, const char *account)
{
    char dir[PATH_MAX];
    ws_classroom c;
    ws_error e;
    if (!account || ws_classroom_of_lab(st, dir, sizeof dir) != 0 || ws_classroom_load(dir, &c, &e) != 0)
        return 0;
    /* The lab must be one of that classroom's seats: a lab_meta naming someone else's
     * classroom makes nobody its trainer. */
    int seat = 0;
    for (int i = 0; i < c.nseats && !seat; i++)
        seat = st->lab_dir && strcmp(c.seats[i].dir, st->lab_dir) == 0;
    int yes = seat && strcasecmp(c.trainer, account) == 0;
    ws_classroom_free(&c);
    return yes;
}

/* "level=3 seed=42 faults=m3a@rdgw01,m1b@hv02" -> "m3a on rdgw01; m1b on hv02". */
static void faults_of(const char *line, char *out, size_t n)
{
    out[0] = '\0';
    const char *f = strstr(line, "faults=");
    if (!f)
        return;
    f += 7;
    size_t len = strcspn(f, " "), k = 0;
    while (len > 0 && k + 1 < n) {
        size_t one = strcspn(f, ", ");
        if (one > len)
            one = len;
        const char *at = memchr(f, '@', one);
        int w = at ? snprintf(out + k, n - k, "%s%.*s on %.*s", k ? "; " : "", (int)(at - f), f,
                              (int)(one - (size_t)(at - f) - 1), at + 1)
                   : snprintf(out + k, n - k, "%s%.*s", k ? "; " : "", (int)one, f);
        k += (size_t)w < n - k ? (size_t)w : n - k - 1;
        f += one;
        len -= one;
        if (len > 0 && *f == ',') {
            f++;
            len--;
        }
    }
}

static void reveal(const ws_attempt *a, ws_seat_view *v)
{
    ws_exercise x;
    if (ws_exercise_find(NULL, a->hash, &x) == 0) {
        snprintf(v->title, sizeof v->title, "%s", x.sc->title ? x.sc->title : "");
        ws_exercise_clear(&x);
    }
    faults_of(a->generated, v->faults, sizeof v->faults);
}

int ws_classroom_seat_open(const ws_seat *s, ws_state **st, ws_error *e)
{
    if (ws_lab_open(s->dir, st, e) != 0)
        return -1;
    if (ws_state_exec(*st, e, "PRAGMA query_only = ON", 0) != 0) {
        ws_state_close(*st);
        *st = NULL;
        return -1;
    }
    return 0;
}

int ws_classroom_seat_view(const ws_classroom *c, const ws_seat *s, ws_seat_view *v, ws_error *e)
{
    (void)c;
    memset(v, 0, sizeof *v);
    ws_state *st;
    if (ws_classroom_seat_open(s, &st, e) != 0)
        return -1;
    v->running = ws_supervisor_pid(st) != 0;
    ws_attempt *all;
    int n;
    if (ws_exercise_history(st, &all, &n, e) != 0) {
        ws_state_close(st);
        return -1;
    }
    v->attempts = n;
    for (int i = 0; i < n; i++)
        v->solved += strcmp(all[i].state, "solved") == 0;
    if (n > 0) {
        v->has_attempt = 1;
        v->attempt = all[n - 1];
        /* An active row whose lab was re-created is void (exercise.h), as check would say. */
        ws_attempt cur;
        if (strcmp(v->attempt.state, "active") == 0 && ws_exercise_current(st, &cur) != WS_ATTEMPT_ACTIVE)
            snprintf(v->attempt.state, sizeof v->attempt.state, "void");
        int64_t end = v->attempt.has_ended && v->attempt.ended_at ? v->attempt.ended_at : (int64_t)time(NULL);
        v->seconds = end > v->attempt.started_at ? end - v->attempt.started_at : 0;
        memcpy(v->exercise, v->attempt.hash, 12);
        v->exercise[12] = '\0';
        reveal(&v->attempt, v);
    }
    free(all);
    ws_state_close(st);
    return 0;
}

/* ---- the results as CSV ---- */

/* RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
 * A text field a spreadsheet would run as a formula (= + - @ first) gets a leading
 * apostrophe (OWASP, "CSV Injection"). */
static void csv_field(ws_buf *out, const char *s, int text, int last)
{
    int formula = text && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r');
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        ws_buf_adds(out, "\"");
    if (formula)
        ws_buf_adds(out, "'");
    for (const char *p = s; *p; p++)
        ws_buf_add(out, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    if (quote)
        ws_buf_adds(out, "\"");
    ws_buf_adds(out, last ? "\r\n" : ",");
}

static void csv_attempt(ws_buf *out, const ws_seat *s, const ws_attempt *a)
{
    char id[24], level[8], start[40], end[40] = "", minutes[24], hints[8], checks[16], score[8] = "", ex[13];
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    snprintf(level, sizeof level, "%d", a->level);
    ws_time_format(a->started_at, start, sizeof start);
    int64_t stop = a->has_ended && a->ended_at ? a->ended_at : (int64_t)time(NULL);
    if (a->has_ended && a->ended_at)
        ws_time_format(a->ended_at, end, sizeof end);
    snprintf(minutes, sizeof minutes, "%.1f", stop > a->started_at ? (double)(stop - a->started_at) / 60 : 0.0);
    snprintf(hints, sizeof hints, "%d", a->hints);
    snprintf(checks, sizeof checks, "%d", a->checks);
    if (a->has_score)
        snprintf(score, sizeof score, "%d", a->score);
    memcpy(ex, a->hash, 12);
    ex[12] = '\0';
    const char *fields[] = {s->name, s->account, id,    ex,     level,    a->generated, start,
                            end,     minutes,    hints, checks, a->state, score};
    const int text[] = {1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0};
    size_t n = sizeof fields / sizeof fields[0];
    for (size_t i = 0; i < n; i++)
        csv_field(out, fields[i], text[i], i + 1 == n);
}

int ws_classroom_results_csv(const ws_classroom *c, ws_buf *out, ws_error *e)
{
    ws_buf_adds(out, "seat,account,attempt,exercise,level,generated,started_utc,ended_utc,minutes,hints,checks,"
                     "outcome,score\r\n");
    for (int i = 0; i < c->nseats; i++) {
        ws_state *st;
        ws_attempt *all;
        int n;
        if (ws_classroom_seat_open(&c->seats[i], &st, e) != 0)
            return -1;
        int rc = ws_exercise_history(st, &all, &n, e);
        ws_state_close(st);
        if (rc != 0)
            return -1;
        for (int k = 0; k < n; k++)
            csv_attempt(out, &c->seats[i], &all[k]);
        free(all);
    }
    return 0;
}
