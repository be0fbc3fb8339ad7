/* SPDX-License-Identifier: Apache-2.0 */
/* console: the RDP connection sequence inside TLS with the host (REFERENCE.md
 * section 8), as FreeRDP 2.11 runs it: MCS Connect-Initial, Erect Domain, Attach User,
 * the channel joins, Client Info, licensing, Demand Active and Confirm Active, the
 * finalization PDUs; then bitmap updates until every pixel of the VM's console has
 * been drawn once. Typed keys go as fast-path Unicode events, and the session is held
 * open as asked, drawing what comes. Every PDU from the host after the finalization
 * goes through one dispatch, console_next. See client_int.h. */
#include "client/client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/framebuffer.h"
#include "wire/mcs.h"
#include "wire/rdpneg.h"
#include "wire/rdppdu.h"

#define STAGE "console"
#define PDU_BUF 70000

/* One console session's state; on the heap, so it is per connection. */
typedef struct console {
    hosttls *t;
    ws_connect_result *r;
    uint8_t buf[PDU_BUF]; /* the last PDU from the host */
    size_t len;           /* its length */
    int fastpath;         /* 1: a fast-path PDU, 0: a TPKT */
    int ultimatum;        /* the host sent a Disconnect Provider Ultimatum */
    uint8_t out[PDU_BUF]; /* the PDU being sent */
    uint8_t wrap[PDU_BUF]; /* out in an MCS Send Data Request */
    ws_error e;
    uint16_t user_id;     /* the MCS user channel the host attached */
    uint32_t error_info;  /* the last Set Error Info's code, 0 when none */
    int width, height;    /* pixels of the desktop the host announced */
    ws_framebuffer frame;       /* the console as drawn so far */
    uint8_t *drawn;       /* width * height flags: pixel drawn at least once */
    size_t covered;       /* pixels drawn at least once */
    size_t total;         /* width * height */
    int granted;          /* Control (Granted Control) received */
    int font_map;         /* Font Map received */
    ws_gcc_client_data cd;
    ws_mcs_connect_initial ci;
    ws_mcs_connect_response cr;
    ws_pdu_client_info info;
    ws_pdu_demand_active da;
    ws_pdu_confirm_active ca;
    ws_pdu_bitmap_update up;
    ws_pdu_input in;
    long rx_bytes;        /* RDP bytes read from the host: every PDU whole */
} console;

/* ---- PDUs in and out ---- */

/* The next PDU from the host inside TLS into c->buf: a TPKT (slow-path) or a fast-path PDU. */
static int console_read(console *c)
{
    uint8_t *buf = c->buf;
    if (ws_hosttls_read(c->t, buf, 2, &c->e) != 0)
        return -1;
    if (buf[0] == 0x03) {
        if (ws_hosttls_read(c->t, buf + 2, 2, &c->e) != 0)
            return -1;
        long n = ws_tpkt_length(buf, 4, sizeof c->buf);
        if (n <= 0)
            return ws_seterr(&c->e, "a bad TPKT from the host");
        c->fastpath = 0;
        c->len = (size_t)n;
        c->rx_bytes += n;
        return ws_hosttls_read(c->t, buf + 4, (size_t)n - 4, &c->e);
    }
    size_t have = 2;
    long n = ws_pdu_fastpath_length(buf, have);
    if (n == 0) {
        if (ws_hosttls_read(c->t, buf + 2, 1, &c->e) != 0)
            return -1;
        have = 3;
        n = ws_pdu_fastpath_length(buf, have);
    }
    if (n <= 0 || (size_t)n > sizeof c->buf)
        return ws_seterr(&c->e, "a bad fast-path PDU from the host");
    c->fastpath = 1;
    c->len = (size_t)n;
    c->rx_bytes += n;
    return ws_hosttls_read(c->t, buf + have, (size_t)n - have, &c->e);
}

/* The MCS payload of the slow-path PDU in c->buf: a Send Data Indication's userData. */
static int console_indication(console *c, ws_mcs_send_data *sd)
{
    const uint8_t *payload;
    size_t n;
    c->ultimatum = 0;
    if (ws_x224_data_decode(c->buf, c->len, &payload, &n, &c->e) != 0)
        return -1;
    int type = ws_mcs_domain_pdu_type(payload, n);
    if (type == WS_MCS_DISCONNECT_PROVIDER_ULTIMATUM) {
        c->ultimatum = 1;
        return ws_seterr(&c->e, "the host ended the session (Disconnect Provider Ultimatum)");
    }
    return ws_mcs_send_data_decode(WS_MCS_SEND_DATA_INDICATION, payload, n, sd, &c->e);
}

/* The MCS domain PDU of the TPKT in c->buf (before the channels are joined). */
static int console_domain_pdu(console *c, const uint8_t **payload, size_t *n)
{
    if (console_read(c) != 0)
        return -1;
    return ws_x224_data_decode(c->buf, c->len, payload, n, &c->e);
}

/* Send an MCS Send Data Request on the I/O channel with the slow-path PDU in c->out. */
static int console_send(console *c, size_t n)
{
    if (!n)
        return -1;
    ws_mcs_send_data sd = {.initiator = c->user_id, .channel_id = WS_MCS_GLOBAL_CHANNEL_ID,
                           .flags = WS_MCS_DATA_PRIORITY_FLAGS, .data = c->out, .len = n};
    size_t m = ws_mcs_send_data_encode_tpkt(WS_MCS_SEND_DATA_REQUEST, &sd, c->wrap, sizeof c->wrap);
    return m ? ws_hosttls_write(c->t, c->wrap, m) : -1;
}

static int console_send_domain(console *c, const uint8_t *pdu, size_t n)
{
    uint8_t out[256];
    size_t m = ws_x224_data_encode(pdu, n, out, sizeof out);
    return m ? ws_hosttls_write(c->t, out, m) : -1;
}

/* ---- the connection sequence up to the finalization ---- */

/* MCS Connect-Initial with the client's blocks, as FreeRDP 2.11 sends them; then Erect
 * Domain, Attach User, Channel Joins (the user channel, then the I/O channel). */
static int console_mcs(console *c, uint32_t selected)
{
    ws_connect_result *r = c->r;
    const uint8_t *payload;
    size_t plen;
    ws_gcc_client_data_freerdp(&c->cd, 1024, 768, "TENANTPC", selected);
    ws_mcs_connect_initial_init(&c->ci, &c->cd);
    size_t n = ws_mcs_connect_initial_encode_tpkt(&c->ci, c->out, sizeof c->out);
    if (!n || ws_hosttls_write(c->t, c->out, n) != 0 || console_read(c) != 0 || c->fastpath ||
        ws_x224_data_decode(c->buf, c->len, &payload, &plen, &c->e) != 0 ||
        ws_mcs_connect_response_decode(payload, plen, &c->cr, &c->e) != 0)
        return ws_client_fail(r, STAGE, 0, "MCS connect: %s", c->fastpath ? "a fast-path PDU too early" : c->e.msg);
    if (c->cr.result != WS_MCS_RESULT_SUCCESSFUL)
        return ws_client_fail(r, STAGE, 0, "the host refused the MCS connection (result %u)", c->cr.result);

    ws_mcs_erect_domain ed = {0, 0};
    uint8_t dom[64];
    n = ws_mcs_erect_domain_encode(&ed, dom, sizeof dom);
    if (!n || console_send_domain(c, dom, n) != 0)
        return ws_client_fail(r, STAGE, 0, "cannot send Erect Domain");
    n = ws_mcs_attach_user_request_encode(dom, sizeof dom);
    ws_mcs_attach_user_confirm auc;
    if (!n || console_send_domain(c, dom, n) != 0 || console_domain_pdu(c, &payload, &plen) != 0 ||
        ws_mcs_attach_user_confirm_decode(payload, plen, &auc, &c->e) != 0)
        return ws_client_fail(r, STAGE, 0, "MCS attach user: %s", c->e.msg);
    c->user_id = auc.initiator;
    uint16_t channels[2] = {c->user_id, WS_MCS_GLOBAL_CHANNEL_ID};
    for (int i = 0; i < 2; i++) {
        ws_mcs_channel_join_request jr = {.initiator = c->user_id, .channel_id = channels[i]};
        ws_mcs_channel_join_confirm jc;
        n = ws_mcs_channel_join_request_encode(&jr, dom, sizeof dom);
        if (!n || console_send_domain(c, dom, n) != 0 || console_domain_pdu(c, &payload, &plen) != 0 ||
            ws_mcs_channel_join_confirm_decode(payload, plen, &jc, &c->e) != 0)
            return ws_client_fail(r, STAGE, 0, "MCS channel join %u: %s", channels[i], c->e.msg);
        if (jc.result != 0)
            return ws_client_fail(r, STAGE, 0, "the host refused to join channel %u (result %u)", channels[i],
                                      jc.result);
    }
    return 0;
}

/* Client Info: the administrator's credentials, or none with a VMToken. */
static int console_client_info(console *c, const char *domain, const char *user, const char *password)
{
    c->info.flags = WS_PDU_INFO_MOUSE | WS_PDU_INFO_UNICODE | WS_PDU_INFO_LOGONNOTIFY | WS_PDU_INFO_DISABLECTRLALTDEL;
    snprintf(c->info.domain, sizeof c->info.domain, "%s", domain ? domain : "");
    snprintf(c->info.user, sizeof c->info.user, "%s", user ? user : "");
    snprintf(c->info.password, sizeof c->info.password, "%s", password ? password : "");
    if (console_send(c, ws_pdu_encode_client_info(&c->info, c->out, sizeof c->out)) != 0)
        return ws_client_fail(c->r, STAGE, 0, "cannot send the Client Info PDU");
    return 0;
}

/* Licensing, then the Demand Active into c->da; a Set Error Info may come instead. */
static int console_demand_active(console *c)
{
    ws_connect_result *r = c->r;
    int licensed = 0;
    for (;;) {
        ws_mcs_send_data sd;
        if (console_read(c) != 0 || c->fastpath || console_indication(c, &sd) != 0) {
            if (c->error_info)
                return ws_client_fail(r, STAGE, c->error_info, "the host refused the session: %s (0x%08X)",
                                      ws_pdu_errinfo_name(c->error_info), c->error_info);
            return ws_client_fail(r, STAGE, 0, "before the Demand Active: %s",
                                  c->fastpath ? "a fast-path PDU" : c->e.msg);
        }
        if (!licensed) {
            ws_pdu_license lic;
            if (ws_pdu_decode_license(sd.data, sd.len, &lic, &c->e) == 0) {
                if (!lic.valid_client)
                    return ws_client_fail(r, STAGE, 0, "the host asks for licensing this client does not do");
                licensed = 1;
                continue;
            }
        }
        ws_pdu_hdr hdr;
        if (ws_pdu_peek(sd.data, sd.len, &hdr, &c->e) != 0)
            return ws_client_fail(r, STAGE, 0, "%s", c->e.msg);
        if ((hdr.pdu_type & 0xF) == WS_PDU_TYPE_DATA && hdr.pdu_type2 == 0x2F) {
            ws_pdu_decode_set_error_info(sd.data, sd.len, &hdr, &c->error_info, &c->e);
            continue;
        }
        if ((hdr.pdu_type & 0xF) == WS_PDU_TYPE_DEMANDACTIVE) {
            if (ws_pdu_decode_demand_active(sd.data, sd.len, &hdr, &c->da, &c->e) != 0)
                return ws_client_fail(r, STAGE, 0, "Demand Active: %s", c->e.msg);
            return 0;
        }
    }
}

/* Confirm Active with the client's capabilities for the host's desktop, then
 * Synchronize, Control (Cooperate), Control (Request Control) and Font List. */
static int console_finalize(console *c)
{
    c->width = c->da.caps.desktop_width;
    c->height = c->da.caps.desktop_height;
    ws_pdu_share share = {.pdu_source = c->user_id, .share_id = c->da.share_id};
    c->ca.share_id = c->da.share_id;
    c->ca.originator_id = WS_PDU_SERVER_CHANNEL_ID;
    snprintf(c->ca.source_descriptor, sizeof c->ca.source_descriptor, "MSTSC");
    ws_pdu_caps_client_default(&c->ca.caps, (uint16_t)c->width, (uint16_t)c->height);
    if (console_send(c, ws_pdu_encode_confirm_active(c->user_id, &c->ca, c->out, sizeof c->out)) != 0)
        return ws_client_fail(c->r, STAGE, 0, "cannot send the Confirm Active PDU");
    ws_pdu_synchronize sync = {.message_type = WS_PDU_SYNCMSGTYPE_SYNC, .target_user = WS_PDU_SERVER_CHANNEL_ID};
    ws_pdu_control coop = {.action = WS_PDU_CTRLACTION_COOPERATE}, req = {.action = WS_PDU_CTRLACTION_REQUEST_CONTROL};
    ws_pdu_font fl = {.flags = WS_PDU_FONTLIST_FIRST | WS_PDU_FONTLIST_LAST, .entry_size = 0x0032};
    if (console_send(c, ws_pdu_encode_synchronize(&share, &sync, c->out, sizeof c->out)) != 0 ||
        console_send(c, ws_pdu_encode_control(&share, &coop, c->out, sizeof c->out)) != 0 ||
        console_send(c, ws_pdu_encode_control(&share, &req, c->out, sizeof c->out)) != 0 ||
        console_send(c, ws_pdu_encode_font_list(&share, &fl, c->out, sizeof c->out)) != 0)
        return ws_client_fail(c->r, STAGE, 0, "cannot send the finalization PDUs");
    return 0;
}

/* ---- after the finalization: one dispatch for every PDU from the host ---- */

/* What console_next made of a PDU. */
typedef enum console_pdu {
    PDU_DRAWN,     /* a bitmap update, drawn into c->frame */
    PDU_HANDLED,   /* anything else: handled (control, font map, error info) or ignored */
    PDU_UNREAD,    /* nothing could be read: the connection is gone (c->e) */
    PDU_NOT_DATA,  /* a slow-path PDU that is no Send Data Indication (c->e; c->ultimatum) */
    PDU_MALFORMED, /* an update or share header that does not decode (c->e, with the PDU's name) */
} console_pdu;

/* The update's rectangles into c->frame, compressed ones decompressed (wire/planar.h); -1 when
 * one does not decode (c->e says which and where). */
static int console_draw(console *c)
{
    for (int i = 0; i < c->up.count; i++) {
        const ws_pdu_bitmap_rect *rect = &c->up.rects[i];
        ws_error inner;
        if (ws_pdu_bitmap_draw(rect, c->frame.bgrx, (size_t)c->width * 4, (unsigned)c->width, (unsigned)c->height,
                               &inner) != 0)
            return ws_seterr(&c->e, "bitmap update: rectangle %d (%ux%u at %u,%u): %s", i, rect->width, rect->height,
                             rect->left, rect->top, inner.msg);
        for (int y = rect->top; y <= rect->bottom && y < c->height; y++)
            for (int x = rect->left; x <= rect->right && x < c->width; x++)
                if (!c->drawn[(size_t)y * (size_t)c->width + (size_t)x]) {
                    c->drawn[(size_t)y * (size_t)c->width + (size_t)x] = 1;
                    c->covered++;
                }
    }
    return 0;
}

/* Read the next PDU from the host and act on it: draw an update, note Granted Control,
 * Font Map and Set Error Info. Share Data PDUs by pduType2 (MS-RDPBCGR 2.2.8.1.1.1.2). */
static console_pdu console_next(console *c)
{
    ws_error inner;
    if (console_read(c) != 0)
        return PDU_UNREAD;
    if (c->fastpath) {
        if (ws_pdu_decode_fastpath_update(c->buf, c->len, &c->up, &inner) != 0) {
            ws_seterr(&c->e, "fast-path update: %s", inner.msg);
            return PDU_MALFORMED;
        }
        return console_draw(c) == 0 ? PDU_DRAWN : PDU_MALFORMED;
    }
    ws_mcs_send_data sd;
    if (console_indication(c, &sd) != 0)
        return PDU_NOT_DATA;
    ws_pdu_hdr hdr;
    if (ws_pdu_peek(sd.data, sd.len, &hdr, &c->e) != 0)
        return PDU_MALFORMED;
    if ((hdr.pdu_type & 0xF) != WS_PDU_TYPE_DATA)
        return PDU_HANDLED;
    switch (hdr.pdu_type2) {
    case 0x14: { /* Control */
        ws_pdu_control ctl;
        if (ws_pdu_decode_control(sd.data, sd.len, &hdr, &ctl, &inner) == 0 &&
            ctl.action == WS_PDU_CTRLACTION_GRANTED_CONTROL)
            c->granted = 1;
        return PDU_HANDLED;
    }
    case 0x28: c->font_map = 1; return PDU_HANDLED; /* Font Map */
    case 0x2F: ws_pdu_decode_set_error_info(sd.data, sd.len, &hdr, &c->error_info, &inner); return PDU_HANDLED;
    case 0x02: /* Update (bitmap) */
        if (ws_pdu_decode_update_bitmap(sd.data, sd.len, &hdr, &c->up, &inner) != 0) {
            ws_seterr(&c->e, "bitmap update: %s", inner.msg);
            return PDU_MALFORMED;
        }
        return console_draw(c) == 0 ? PDU_DRAWN : PDU_MALFORMED;
    default: return PDU_HANDLED;
    }
}

/* The first frame: PDUs until every pixel has been drawn once; anything the host sends
 * that cannot be read ends the connection. */
static int console_first_frame(console *c)
{
    const char *errinfo = NULL;
    c->total = (size_t)c->width * (size_t)c->height;
    if (!(c->drawn = calloc(c->total, 1)))
        return ws_client_fail(c->r, STAGE, 0, "out of memory for a desktop of %dx%d", c->width, c->height);
    while (c->covered < c->total) {
        console_pdu got = console_next(c);
        errinfo = c->error_info ? ws_pdu_errinfo_name(c->error_info) : NULL;
        switch (got) {
        case PDU_UNREAD:
            return ws_client_fail(c->r, STAGE, c->error_info, "%s%s", errinfo ? errinfo : "",
                                  errinfo ? ": the host ended the session" : c->e.msg);
        case PDU_NOT_DATA: return ws_client_fail(c->r, STAGE, c->error_info, "%s", errinfo ? errinfo : c->e.msg);
        case PDU_MALFORMED: return ws_client_fail(c->r, STAGE, 0, "%s", c->e.msg);
        default: break;
        }
    }
    return 0;
}

/* Typed text as fast-path Unicode events, one input PDU per character as a keyboard sends
 * them; the host answers each with the changed part of its frame. */
static int console_type(console *c, const char *text)
{
    for (const char *p = text; *p; p++) {
        c->in.count = 1;
        c->in.events[0].type = WS_PDU_INPUT_UNICODE;
        c->in.events[0].code = (uint8_t)*p;
        size_t n = ws_pdu_encode_fastpath_input(&c->in, c->out, sizeof c->out);
        if (!n || ws_hosttls_write(c->t, c->out, n) != 0)
            return ws_client_fail(c->r, STAGE, 0, "cannot send the typed keys");
        c->r->typed_chars++;
    }
    return 0;
}

/* Keep the session for a while (typed keys, or to see it taken over), drawing what
 * comes; 1 when the host ended it meanwhile. */
static int console_hold(console *c, int typed, int hold_seconds)
{
    int64_t until = ws_mono_ms() + (typed ? 3000 : 0) + (int64_t)hold_seconds * 1000;
    int64_t quiet_since = ws_mono_ms();
    while (ws_mono_ms() < until) {
        if (typed && !hold_seconds && ws_mono_ms() - quiet_since > 500 && c->covered == c->total)
            break; /* the typed keys' frame has come and gone quiet */
        if (!ws_hosttls_readable(c->t, 200))
            continue;
        console_pdu got = console_next(c);
        if (got == PDU_UNREAD || (got == PDU_NOT_DATA && c->ultimatum))
            return 1;
        if (got == PDU_DRAWN)
            quiet_since = ws_mono_ms();
    }
    return 0;
}

/* After the finalization: the first frame, typed keys, the hold, the screenshot. */
static int console_screen(console *c, const ws_connect_opts *o)
{
    ws_connect_result *r = c->r;
    if (c->width <= 0 || c->height <= 0 || ws_framebuffer_init(&c->frame, c->width, c->height) != 0)
        return ws_client_fail(r, STAGE, 0, "the host announced a desktop of %dx%d", c->width, c->height);
    if (console_first_frame(c) != 0)
        return -1;
    r->first_frame_bytes = c->rx_bytes;
    /* What the hop reports is what came with the first frame. */
    int control = c->granted && c->font_map;
    int typed = o->type_text && *o->type_text;
    if (typed && console_type(c, o->type_text) != 0)
        return -1;
    int ended = console_hold(c, typed, o->hold_seconds);
    if (typed)
        r->typed_bytes = c->rx_bytes - r->first_frame_bytes;
    if (o->screenshot && ws_framebuffer_write_ppm(&c->frame, o->screenshot, &c->e) != 0)
        return ws_client_fail(r, STAGE, 0, "%s", c->e.msg);
    if (ended || c->error_info)
        return ws_client_fail(r, STAGE, c->error_info, "the session ended%s%s", c->error_info ? ": " : "",
                              c->error_info ? ws_pdu_errinfo_name(c->error_info) : "");
    ws_client_hop(r, STAGE, 1, "the console of %dx%d pixels is on screen%s%s%s%s", c->width, c->height,
                  control ? " (control granted, font map received)" : "", typed ? "; typed keys sent" : "",
                  o->screenshot ? "; saved to " : "", o->screenshot ? o->screenshot : "");
    return 0;
}

int ws_client_console(hosttls *t, uint32_t selected, const char *domain, const char *user, const char *password,
                      const ws_connect_opts *o, ws_connect_result *r)
{
    console *c = calloc(1, sizeof *c);
    if (!c)
        return ws_client_fail(r, STAGE, 0, "out of memory");
    c->t = t;
    c->r = r;
    int rc = -1;
    if (console_mcs(c, selected) == 0 && console_client_info(c, domain, user, password) == 0 &&
        console_demand_active(c) == 0 && console_finalize(c) == 0)
        rc = console_screen(c, o);
    free(c->drawn);
    ws_framebuffer_free(&c->frame);
    free(c);
    return rc;
}
