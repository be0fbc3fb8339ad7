/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/httphead.c: the RDG_OUT_DATA / RDG_IN_DATA request head (httphead.h).
 *
 *   request-line = method SP request-target SP "HTTP/1." DIGIT CRLF     (RFC 7230 3.1.1)
 *   header-field = field-name ":" OWS field-value OWS CRLF              (RFC 7230 3.2)
 *   then CRLF; the head whole within GW_HEAD_MAX bytes and GW_HEAD_LINES lines.
 *
 * What MS-TSGU's HTTP transport asks of the head is REFERENCE.md section 7 (FreeRDP
 * 2.11's rdg.c): the target /remoteDesktopGateway/, RDG-Connection-Id, and, once the
 * FedAuth plug-in is installed, RDG-Auth-Scheme: PAA (REFERENCE.md section 2). Anything
 * else is refused with a status and a reason that quotes no byte of control. */
#include "httphead.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wire/websocket.h"

typedef struct head_lines {
    char text[GW_HEAD_MAX + 1]; /* the head, each CRLF replaced by NUL */
    char *line[GW_HEAD_LINES];  /* line[0] the request line, then header lines */
    int n;
} head_lines;

__attribute__((format(printf, 3, 4))) static int refuse(gw_http_head *h, const char *status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->why, sizeof h->why, fmt, ap);
    va_end(ap);
    h->status = status;
    return -1;
}

/* RFC 7230 3.2.6 tchar. */
static int is_tchar(unsigned char ch)
{
    return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The head's lines, split at CRLF; a bare CR, LF or NUL, or too many lines, is refused. */
static int split_lines(const uint8_t *p, size_t len, head_lines *hl, gw_http_head *h)
{
    memcpy(hl->text, p, len);
    hl->text[len] = '\0';
    hl->n = 0;
    char *end = hl->text + len - 4; /* the final CRLF CRLF */
    for (char *l = hl->text;;) {
        /* end is a CRLF: every line before it ends at or before it. */
        char *crlf = memmem(l, (size_t)(end + 2 - l), "\r\n", 2);
        if (memchr(l, '\0', (size_t)(crlf - l)))
            return refuse(h, "400 Bad Request", "a NUL byte in the request head");
        if (memchr(l, '\r', (size_t)(crlf - l)) || memchr(l, '\n', (size_t)(crlf - l)))
            return refuse(h, "400 Bad Request", "a bare CR or LF in the request head");
        if (hl->n == GW_HEAD_LINES)
            return refuse(h, "400 Bad Request", "over %d header lines", GW_HEAD_LINES - 1);
        *crlf = '\0';
        hl->line[hl->n++] = l;
        if (crlf == end)
            return 0;
        l = crlf + 2;
    }
}

/* "METHOD SP TARGET SP HTTP/1.x": method a token, target printable, each bounded. */
static int request_line(const char *l, gw_http_head *h)
{
    const char *sp1 = strchr(l, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    size_t ml = sp1 ? (size_t)(sp1 - l) : 0, tl = sp2 ? (size_t)(sp2 - sp1 - 1) : 0;
    const char *v = sp2 ? sp2 + 1 : "";
    if (ml == 0 || ml >= sizeof h->method || tl == 0 || tl >= sizeof h->target || strlen(v) != 8 ||
        strncmp(v, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)v[7]))
        return refuse(h, "400 Bad Request", "not an HTTP request line");
    for (size_t i = 0; i < ml; i++)
        if (!is_tchar((unsigned char)l[i]))
            return refuse(h, "400 Bad Request", "not an HTTP request line (a method byte 0x%02x)", (unsigned char)l[i]);
    for (size_t i = 0; i < tl; i++)
        if ((unsigned char)sp1[1 + i] <= 0x20 || (unsigned char)sp1[1 + i] >= 0x7f)
            return refuse(h, "400 Bad Request", "not an HTTP request line (a target byte 0x%02x)",
                          (unsigned char)sp1[1 + i]);
    memcpy(h->method, l, ml);
    h->method[ml] = '\0';
    memcpy(h->target, sp1 + 1, tl);
    h->target[tl] = '\0';
    return 0;
}

/* Each header line "name: value": the name a token, the value without control bytes
 * (HTAB allowed); the value's surrounding whitespace is cut, in place. */
static int header_lines(head_lines *hl, gw_http_head *h)
{
    for (int i = 1; i < hl->n; i++) {
        char *l = hl->line[i], *colon = strchr(l, ':');
        if (!colon)
            return refuse(h, "400 Bad Request", "a header line without ':'");
        if (colon == l)
            return refuse(h, "400 Bad Request", "a header line without a name");
        for (char *q = l; q < colon; q++)
            if (!is_tchar((unsigned char)*q))
                return refuse(h, "400 Bad Request", "a header name with byte 0x%02x", (unsigned char)*q);
        char *v = colon + 1;
        for (char *q = v; *q; q++)
            if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
                return refuse(h, "400 Bad Request", "a header value with byte 0x%02x", (unsigned char)*q);
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
    }
    return 0;
}

/* One header's value (the first of that name), case-insensitive; NULL when absent. */
static const char *header(const head_lines *hl, const char *name)
{
    size_t nl = strlen(name);
    for (int i = 1; i < hl->n; i++) {
        if (strncasecmp(hl->line[i], name, nl) == 0 && hl->line[i][nl] == ':') {
            const char *v = hl->line[i] + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    }
    return NULL;
}

/* A comma-separated header value (Connection, Upgrade) names token. */
static int has_token(const char *list, const char *token)
{
    if (!list)
        return 0;
    size_t tl = strlen(token);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncasecmp(p, token, tl) == 0 && (p[tl] == '\0' || p[tl] == ',' || p[tl] == ' '))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

/* What the head asks for, in the order the gateway answers: method, target, auth
 * scheme, connection id, then the upgrade. */
static int classify(const head_lines *hl, int again_in, gw_http_head *h)
{
    int out_data = strcmp(h->method, "RDG_OUT_DATA") == 0, in_data = strcmp(h->method, "RDG_IN_DATA") == 0;
    if (again_in) {
        /* The client re-sends the IN request's head, then its chunked body. */
        if (!in_data)
            return refuse(h, "400 Bad Request", "expected the RDG_IN_DATA head again");
        h->kind = GW_REQ_LEGACY_IN_BODY;
        return 1;
    }
    if (!out_data && !in_data)
        return refuse(h, "405 Method Not Allowed", "unknown method '%.40s'", h->method);
    if (strcasecmp(h->target, "/remoteDesktopGateway/") != 0)
        return refuse(h, "404 Not Found", "not /remoteDesktopGateway/");
    /* After the FedAuth plug-in is installed the gateway serves console connections
     * only: PAA cookies, no NTLM or Basic (REFERENCE.md section 2). */
    const char *scheme = header(hl, "RDG-Auth-Scheme");
    if (!scheme || strcasecmp(scheme, "PAA") != 0)
        return refuse(h, "401 Unauthorized", "no RDG-Auth-Scheme: PAA (this gateway accepts console cookies only)");
    const char *conn_id = header(hl, "RDG-Connection-Id");
    if (!conn_id || !*conn_id || strlen(conn_id) > GW_CONN_ID_MAX)
        return refuse(h, "400 Bad Request", "no usable RDG-Connection-Id");
    snprintf(h->connection_id, sizeof h->connection_id, "%s", conn_id);
    const char *key = header(hl, "Sec-WebSocket-Key");
    if (out_data && has_token(header(hl, "Upgrade"), "websocket") && has_token(header(hl, "Connection"), "Upgrade") &&
        key) {
        if (ws_websocket_accept_key(key, h->accept) != 0)
            return refuse(h, "400 Bad Request", "bad Sec-WebSocket-Key");
        h->kind = GW_REQ_WEBSOCKET;
    } else {
        h->kind = out_data ? GW_REQ_LEGACY_OUT : GW_REQ_LEGACY_IN;
    }
    return 1;
}

int gw_http_head_read(const uint8_t *p, size_t n, int again_in, gw_http_head *h, size_t *used)
{
    memset(h, 0, sizeof *h);
    *used = 0;
    const uint8_t *end = n >= 4 ? memmem(p, n < GW_HEAD_MAX ? n : GW_HEAD_MAX, "\r\n\r\n", 4) : NULL;
    if (!end) {
        if (n >= GW_HEAD_MAX)
            return refuse(h, "400 Bad Request", "request head over %d KiB", GW_HEAD_MAX / 1024);
        return 0;
    }
    *used = (size_t)(end - p) + 4;
    head_lines hl;
    if (split_lines(p, *used, &hl, h) != 0 || request_line(hl.line[0], h) != 0 || header_lines(&hl, h) != 0)
        return -1;
    return classify(&hl, again_in, h);
}
