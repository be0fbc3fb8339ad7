/* SPDX-License-Identifier: Apache-2.0 */
/* report: see report.h. The JUnit XML is one testsuite named wapsim.scenarios with a
 * testcase per scenario, as CI systems read it (Jenkins, GitLab). */
#include "train/report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void ws_report_plan(ws_buf *out, const ws_report_opts *o, int n)
{
    if (o->tap)
        ws_buf_addf(out, "1..%d\n", n);
}

void ws_report_result(ws_buf *b, const ws_report_opts *o, int number, const ws_scenario *sc,
                      const ws_scn_result *res)
{
    const char *transcript = res->transcript ? res->transcript : "";
    if (o->tap) {
        if (res->passed)
            ws_buf_addf(b, "ok %d - %s (%.1f s)%s%s\n", number, sc->name, res->seconds, res->note ? " # " : "",
                        res->note ? res->note : "");
        else
            ws_buf_addf(b, "not ok %d - %s: %s\n", number, sc->name, res->message ? res->message : "failed");
        if (!res->passed || o->verbose)
            ws_runner_indent(b, "# ", transcript);
        if (res->lab)
            ws_buf_addf(b, "# lab kept: %s\n", res->lab);
    } else {
        if (res->passed)
            ws_buf_addf(b, "ok   %s (%.1f s)%s%s%s\n", sc->name, res->seconds, res->note ? " [" : "",
                        res->note ? res->note : "", res->note ? "]" : "");
        else
            ws_buf_addf(b, "FAIL %s: %s\n", sc->name, res->message ? res->message : "failed");
        if (!res->passed || o->verbose)
            ws_runner_indent(b, "    ", transcript);
        if (res->lab)
            ws_buf_addf(b, "     lab kept: %s (wapsim --lab %s up)\n", res->lab, res->lab);
    }
}

void ws_report_summary(ws_buf *out, const ws_report_opts *o, int passed, int failed)
{
    ws_buf_addf(out, o->tap ? "# %d passed, %d failed\n" : "%d passed, %d failed\n", passed, failed);
}

void ws_report_check(ws_buf *out, const char *path, const ws_scenario *sc)
{
    int steps = 0, connects = 0, expects = 0;
    for (int j = 0; j < sc->nlines; j++) {
        steps += sc->lines[j].kind == WS_SCN_STEP;
        connects += sc->lines[j].kind == WS_SCN_CONNECT;
        expects += sc->lines[j].kind == WS_SCN_EXPECT;
    }
    ws_buf_addf(out, "ok   %s: %d step%s, %d connect%s, %d expect%s%s%s\n", path, steps, steps == 1 ? "" : "s",
                connects, connects == 1 ? "" : "s", expects, expects == 1 ? "" : "s", sc->title ? ": " : "",
                sc->title ? sc->title : "");
}

/* ---- JUnit ---- */

/* A UTF-8 sequence's length at p (2..4), or 0 when it is not one XML 1.0 allows. */
static int utf8_len(const unsigned char *p)
{
    unsigned c = *p;
    int len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    for (int i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if (len == 3) {
        unsigned cp = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
            return 0;
    } else if (len == 4) {
        unsigned cp = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        if (cp < 0x10000 || cp > 0x10FFFF)
            return 0;
    }
    return len;
}

/* XML text: & < > " ' escaped, characters XML 1.0 forbids and bytes that are not
 * UTF-8 replaced by '?'. */
static void xml_escape(ws_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c >= 0x80) {
            int len = utf8_len(p);
            if (len) {
                ws_buf_add(b, p, (size_t)len);
                p += len;
            } else {
                ws_buf_adds(b, "?");
                p++;
            }
            continue;
        }
        switch (c) {
        case '&': ws_buf_adds(b, "&amp;"); break;
        case '<': ws_buf_adds(b, "&lt;"); break;
        case '>': ws_buf_adds(b, "&gt;"); break;
        case '"': ws_buf_adds(b, "&quot;"); break;
        case '\'': ws_buf_adds(b, "&apos;"); break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                ws_buf_adds(b, "?");
            else
                ws_buf_add(b, p, 1);
        }
        p++;
    }
}

static void junit_case(ws_buf *b, const ws_scenario *sc, const ws_scn_result *res)
{
    ws_buf_adds(b, "    <testcase classname=\"wapsim.scenarios\" name=\"");
    xml_escape(b, sc->name);
    ws_buf_adds(b, "\" file=\"");
    xml_escape(b, sc->path);
    ws_buf_addf(b, "\" time=\"%.3f\">\n", res->seconds);
    if (!res->passed) {
        const char *message = res->message ? res->message : "failed";
        ws_buf_adds(b, "      <failure message=\"");
        xml_escape(b, message);
        ws_buf_adds(b, "\" type=\"scenario\">");
        xml_escape(b, message);
        if (res->lab) {
            ws_buf_adds(b, "\nlab kept: ");
            xml_escape(b, res->lab);
        }
        ws_buf_adds(b, "</failure>\n");
    }
    ws_buf_adds(b, "      <system-out>");
    if (sc->title) {
        xml_escape(b, sc->title);
        ws_buf_adds(b, "\n");
    }
    if (res->note) {
        xml_escape(b, res->note);
        ws_buf_adds(b, "\n");
    }
    xml_escape(b, res->transcript ? res->transcript : "");
    ws_buf_adds(b, "</system-out>\n    </testcase>\n");
}

int ws_report_junit(const char *path, ws_scenario **sel, const ws_scn_result *res, int n, double total, ws_error *e)
{
    int failures = 0;
    for (int i = 0; i < n; i++)
        failures += !res[i].passed;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    ws_buf b;
    ws_buf_init(&b, WS_BUF_MAX_REPORT);
    ws_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    ws_buf_addf(&b, "<testsuites name=\"wapsim.scenarios\" tests=\"%d\" failures=\"%d\" errors=\"0\" time=\"%.3f\">\n",
                n, failures, total);
    ws_buf_addf(&b,
                "  <testsuite name=\"wapsim.scenarios\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\" "
                "time=\"%.3f\" timestamp=\"%s\" hostname=\"",
                n, failures, total, stamp);
    xml_escape(&b, host);
    ws_buf_adds(&b, "\">\n");
    for (int i = 0; i < n; i++)
        junit_case(&b, sel[i], &res[i]);
    ws_buf_adds(&b, "  </testsuite>\n</testsuites>\n");
    /* A buffer that passed its maximum was emptied and filled again from there on. */
    int rc = 0;
    if (strncmp(ws_buf_str(&b), "<?xml", 5) != 0)
        rc = ws_seterr(e, "%s: the report is larger than %u bytes", path, (unsigned)WS_BUF_MAX_REPORT);
    else
        rc = ws_write_file(path, ws_buf_data(&b), ws_buf_len(&b), 0644, e);
    ws_buf_free(&b);
    return rc;
}
