/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/lab/events.c, the event catalogue: every name has its row, no
 * row is written twice, every template formats, and a written event lands in the log
 * of a temporary lab with the row's id, channel, source, level and the exact text. */

#include "harness.h"

#include "base/buf.h"
#include "base/util.h"
#include "lab/eventlog.h"
#include "lab/events.h"
#include "lab/state.h"

/* ---- the catalogue alone ---------------------------------------------------------- */

static void test_every_name_has_its_row(void **state)
{
    (void)state;
    for (int i = 0; i < WS_EV_COUNT; i++) {
        const ws_event_def *d = ws_event_def_get((ws_ev)i);
        if (!d)
            fail_msg("catalogue name %d has no row", i);
        assert_int_equal(d->ev, i);
        assert_non_null(d->name);
        assert_int_equal(strncmp(d->name, "WS_EV_", 6), 0);
        assert_non_null(d->channel);
        assert_non_null(d->level);
        assert_non_null(d->text);
        assert_true(d->event_id >= 0 && d->event_id <= 65535);
        assert_true(strcmp(d->level, WS_LEVEL_INFO) == 0 || strcmp(d->level, WS_LEVEL_WARNING) == 0 ||
                    strcmp(d->level, WS_LEVEL_ERROR) == 0);
        /* A trace block is the only record without an event id. */
        assert_true((d->event_id == 0) == (strcmp(d->channel, WS_CHANNEL_TRACE) == 0));
    }
    assert_null(ws_event_def_get(WS_EV_COUNT));
    assert_null(ws_event_def_get((ws_ev)-1));
}

/* Issue 13 item 7: every event's id, source and text cite REFERENCE.md or say they are
 * the lab's [model], beside the row. */
static void test_every_row_has_a_source_label(void **state)
{
    (void)state;
    for (int i = 0; i < WS_EV_COUNT; i++) {
        const ws_event_def *d = ws_event_def_get((ws_ev)i);
        if (!d->origin || !(strstr(d->origin, "REFERENCE.md section") || strstr(d->origin, "[model]")))
            fail_msg("%s has no source label (REFERENCE.md section N or [model]): '%s'", d->name,
                     d->origin ? d->origin : "(none)");
        /* An id or text that REFERENCE.md does not give is the lab's: say so. */
        if (!strstr(d->origin, "[model]") && !strstr(d->origin, "REFERENCE.md section 6"))
            fail_msg("%s cites only %s, which quotes no event: label the id and text [model]", d->name, d->origin);
    }
}

static void test_names_are_unique(void **state)
{
    (void)state;
    for (int i = 0; i < WS_EV_COUNT; i++)
        for (int j = i + 1; j < WS_EV_COUNT; j++)
            if (strcmp(ws_event_def_get((ws_ev)i)->name, ws_event_def_get((ws_ev)j)->name) == 0)
                fail_msg("%s is in the catalogue twice", ws_event_def_get((ws_ev)i)->name);
}

/* Windows numbers events per provider: one (log, source, id) is one event. Rows
 * sharing it are variants of that event and must differ in text or level. */
static int same_source(const ws_event_def *a, const ws_event_def *b)
{
    return a->source && b->source ? strcmp(a->source, b->source) == 0 : a->source == b->source;
}

static void test_ids_are_unique_per_log(void **state)
{
    (void)state;
    for (int i = 0; i < WS_EV_COUNT; i++) {
        const ws_event_def *a = ws_event_def_get((ws_ev)i);
        for (int j = i + 1; j < WS_EV_COUNT; j++) {
            const ws_event_def *b = ws_event_def_get((ws_ev)j);
            if (a->event_id == b->event_id && strcmp(a->channel, b->channel) == 0 && same_source(a, b) &&
                strcmp(a->text, b->text) == 0 && strcmp(a->level, b->level) == 0)
                fail_msg("%s and %s are the same event %d on %s", a->name, b->name, a->event_id, a->channel);
        }
    }
}

/* Format one conversion with a harmless argument of its type; 0, or -1 when the
 * conversion is not one a template may use. */
static int format_one(ws_buf *out, const char *spec, size_t len)
{
    char fmt[32];
    if (len >= sizeof fmt)
        return -1;
    memcpy(fmt, spec, len);
    fmt[len] = '\0';
    char conv = fmt[len - 1];
    const char *mod = fmt + strcspn(fmt, "hlz");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    if (conv == 's' && !strchr(fmt, 'l'))
        return ws_buf_addf(out, fmt, "text");
    if (strchr("diuxX", conv)) {
        if (strncmp(mod, "ll", 2) == 0)
            return ws_buf_addf(out, fmt, 42LL);
        if (*mod == 'l')
            return ws_buf_addf(out, fmt, 42L);
        if (*mod == 'z')
            return ws_buf_addf(out, fmt, (size_t)42);
        if (*mod == '\0')
            return ws_buf_addf(out, fmt, 42);
    }
#pragma GCC diagnostic pop
    return -1;
}

/* Every template formats: its conversions are all ones we pass arguments for. */
static void test_every_template_formats(void **state)
{
    (void)state;
    for (int i = 0; i < WS_EV_COUNT; i++) {
        const ws_event_def *d = ws_event_def_get((ws_ev)i);
        ws_buf out;
        ws_buf_init(&out, 1u << 16);
        int args = 0;
        for (const char *p = d->text; *p;) {
            if (*p != '%') {
                ws_buf_add(&out, p++, 1);
                continue;
            }
            if (p[1] == '%') {
                ws_buf_add(&out, "%", 1);
                p += 2;
                continue;
            }
            size_t n = 1 + strspn(p + 1, "-+ #0123456789.hlz");
            if (!p[n] || format_one(&out, p, n + 1) != 0)
                fail_msg("%s: conversion '%.*s' cannot be formatted", d->name, (int)(n + 1), p);
            args++;
            p += n + 1;
        }
        assert_true(ws_buf_len(&out) > 0);
        /* Only WS_EV_APP_1_FAILED's "%s" is all argument; every other row has words. */
        assert_true(args > 0 || strchr(d->text, '%') == NULL);
        ws_buf_free(&out);
    }
}

static int format_with(ws_ev ev, char *out, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    int len = ws_event_vformat(ev, out, n, ap);
    va_end(ap);
    return len;
}

static void test_format_gives_the_documented_text(void **state)
{
    (void)state;
    char text[1000];
    int n = ws_event_format(WS_EV_GATEWAY_201, text, sizeof text, "FedAuth", "127.77.0.50", 0x800759F8u,
                            "E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED", "the token has expired");
    assert_string_equal(text, "The user \"FedAuth\", on client computer \"127.77.0.50\", did not meet connection "
                              "authorization policy requirements and was therefore not authorized to access the RD "
                              "Gateway server. The following error occurred: \"0x800759F8 "
                              "(E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED): the token has expired\".");
    assert_int_equal(n, (int)strlen(text));
    /* Cut as vsnprintf cuts, the full length still returned. */
    char small[10];
    assert_int_equal(format_with(WS_EV_SCM_7036_RUNNING, small, sizeof small, "Remote Desktop Gateway"),
                     (int)strlen("The Remote Desktop Gateway service entered the running state."));
    assert_string_equal(small, "The Remot");
    assert_int_equal(format_with(WS_EV_COUNT, small, sizeof small), -1);
    assert_string_equal(small, "");
}

/* ---- writing to a lab's log ------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    ws_state *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    if (ws_test_lab_open(f->dir, sizeof f->dir, "events", &f->st) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f)
        ws_test_lab_close(f->st, f->dir);
    free(f);
    return 0;
}

typedef struct seen {
    int n;
    char machine[64], channel[128], source[128], level[32], text[2048];
    int event_id;
} seen;

static int keep_last(const ws_event_rec *r, void *arg)
{
    seen *s = arg;
    s->n++;
    snprintf(s->machine, sizeof s->machine, "%s", r->machine);
    snprintf(s->channel, sizeof s->channel, "%s", r->channel);
    snprintf(s->source, sizeof s->source, "%s", r->source);
    snprintf(s->level, sizeof s->level, "%s", r->level);
    snprintf(s->text, sizeof s->text, "%s", r->text);
    s->event_id = r->event_id;
    return 0;
}

static void last_event(fixture *f, seen *s)
{
    memset(s, 0, sizeof *s);
    ws_event_filter all = {0};
    ws_error e = {""};
    assert_int_equal(ws_event_foreach(f->st, &all, keep_last, s, &e), 0);
}

static void test_write_logs_the_row(void **state)
{
    fixture *f = *state;
    assert_int_equal(ws_event_write(f->st, "hv01", WS_EV_HYPERV_14170_RDSTLS_VERSION, "echo", "1"), 0);
    seen s;
    last_event(f, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.machine, "hv01");
    assert_string_equal(s.channel, "Microsoft-Windows-Hyper-V-VMMS-Admin");
    assert_string_equal(s.source, "Hyper-V-VMMS");
    assert_int_equal(s.event_id, 14170);
    assert_string_equal(s.level, WS_LEVEL_INFO);
    assert_string_equal(s.text, "Msvm_TerminalServiceSettingData changed: RDSTLS Auth response Version = echo (was 1).");

    assert_int_equal(ws_event_write(f->st, "hv01", WS_EV_SCM_7031, "Hyper-V Virtual Machine Management", 2, 2000), 0);
    last_event(f, &s);
    assert_string_equal(s.channel, WS_CHANNEL_SYSTEM);
    assert_string_equal(s.source, "Service Control Manager");
    assert_int_equal(s.event_id, 7031);
    assert_string_equal(s.level, WS_LEVEL_ERROR);
    assert_string_equal(s.text, "The Hyper-V Virtual Machine Management service terminated unexpectedly.  It has done "
                                "this 2 time(s).  The following corrective action will be taken in 2000 milliseconds: "
                                "Restart the service.");
}

/* The trace block of REFERENCE.md section 6, with the exception message at its end. */
static void test_trace_block(void **state)
{
    fixture *f = *state;
    assert_int_equal(ws_event_write(f->st, "vmm01", WS_EV_VMM_TRACE_CRYPTO, "Invalid algorithm specified."), 0);
    seen s;
    last_event(f, &s);
    assert_string_equal(s.channel, WS_CHANNEL_TRACE);
    assert_string_equal(s.source, "vmmservice.exe");
    assert_int_equal(s.event_id, 0);
    assert_string_equal(s.text, "SCVMM Version=3.2.7620.0\n"
                                "SCVMM flavor=C-buddy-RTL-AMD64\n"
                                "Default Assembly Version=3.2.7620.0\n"
                                "Executable Name=vmmservice.exe\n"
                                "Executable Version=3.2.7510.0\n"
                                "Base Exception Target Site=140727707248024\n"
                                "Base Exception Assembly name=mscorlib.dll\n"
                                "Base Exception Method Name=System.Security.Cryptography.CryptographicException."
                                "ThrowCryptographicException\n"
                                "Exception Message=Invalid algorithm specified.");
}

static void test_put_takes_a_formatted_text_and_a_source(void **state)
{
    fixture *f = *state;
    /* A row without a source needs one from the writer. */
    assert_int_equal(ws_event_write(f->st, "spf01", WS_EV_APP_1_FAILED, "cannot bind"), -1);
    assert_int_equal(ws_event_put(f->st, "spf01", WS_EV_APP_1_FAILED, NULL, "cannot bind"), -1);
    assert_int_equal(ws_event_put(f->st, "spf01", WS_EV_APP_1_FAILED, "wapsim-spf", "cannot bind: 100% busy"), 0);
    seen s;
    last_event(f, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.source, "wapsim-spf");
    assert_string_equal(s.channel, WS_CHANNEL_APPLICATION);
    assert_int_equal(s.event_id, 1);
    assert_string_equal(s.text, "cannot bind: 100% busy"); /* not a template: written as is */

    char text[600];
    ws_event_format(WS_EV_GATEWAY_302, text, sizeof text, "FedAuth", "127.77.0.50", "hv01.fabric.contoso.local");
    assert_int_equal(ws_event_put(f->st, "rdgw01", WS_EV_GATEWAY_302, NULL, text), 0);
    last_event(f, &s);
    assert_string_equal(s.channel, WS_CHANNEL_GATEWAY);
    assert_string_equal(s.source, "Microsoft-Windows-TerminalServices-Gateway");
    assert_int_equal(s.event_id, 302);
    assert_string_equal(s.text, "The user \"FedAuth\", on client computer \"127.77.0.50\", connected to resource "
                                "\"hv01.fabric.contoso.local\".");
    assert_int_equal(ws_event_put(f->st, "rdgw01", WS_EV_COUNT, "x", "y"), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_name_has_its_row),
        cmocka_unit_test(test_every_row_has_a_source_label),
        cmocka_unit_test(test_names_are_unique),
        cmocka_unit_test(test_ids_are_unique_per_log),
        cmocka_unit_test(test_every_template_formats),
        cmocka_unit_test(test_format_gives_the_documented_text),
        T(test_write_logs_the_row),
        T(test_trace_block),
        T(test_put_takes_a_formatted_text_and_a_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
