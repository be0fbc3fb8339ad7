/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for gateway/httphead.c: the RDG_OUT_DATA / RDG_IN_DATA request head as the
 * gateway reads it (REFERENCE.md section 7), from heads the lab's own client sent
 * (captured with tests/fuzz/capture/sslwrite.c; the same bytes seed fuzz_httphead) and
 * FreeRDP 2.11's head as REFERENCE.md quotes it. */

#include "harness.h"

#include "../../gateway/httphead.h"

/* Captured: wapsim connect (websocket), then --legacy-gateway (OUT, IN, IN again). */
#define LAB_HOST "User-Agent: MS-RDGateway/1.0\r\nHost: rdgw.contoso.com\r\n"
#define LAB_CACHE "Cache-Control: no-cache\r\nPragma: no-cache\r\nAccept: */*\r\n"
static const char lab_websocket[] =
    "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\n" LAB_CACHE LAB_HOST
    "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-Websocket-Version: 13\r\nSec-Websocket-Key: BNSUK\\VTXXGQT^D\r\n"
    "RDG-Connection-Id: {90e7d45e-f62d-4f89-8d05-7af3bcb03752}\r\nRDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n";
static const char lab_legacy_out[] =
    "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\n" LAB_CACHE LAB_HOST
    "RDG-Connection-Id: {d398692f-e76f-42bc-ae99-2bd9d82d1560}\r\nRDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n";
static const char lab_legacy_in[] =
    "RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\n" LAB_CACHE LAB_HOST
    "RDG-Connection-Id: {d398692f-e76f-42bc-ae99-2bd9d82d1560}\r\nRDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n";
static const char lab_legacy_in_chunked[] =
    "RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\n" LAB_CACHE LAB_HOST
    "RDG-Connection-Id: {d398692f-e76f-42bc-ae99-2bd9d82d1560}\r\nRDG-Auth-Scheme: PAA\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

/* Reads through a heap copy of exactly len bytes, so ASan sees any overread. */
static int read_exact(const void *b, size_t len, int again_in, gw_http_head *h, size_t *used)
{
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    memcpy(c, b, len);
    int rc = gw_http_head_read(c, len, again_in, h, used);
    free(c);
    return rc;
}

static void test_lab_websocket(void **state)
{
    (void)state;
    gw_http_head h;
    size_t used;
    /* The head, then the client's first websocket frame: only the head is used. */
    char in[sizeof lab_websocket + 6];
    memcpy(in, lab_websocket, sizeof lab_websocket - 1);
    memcpy(in + sizeof lab_websocket - 1, "\x82\x8a\x01\x02\x03\x04", 6);
    assert_int_equal(read_exact(in, sizeof in - 1, 0, &h, &used), 1);
    assert_int_equal(used, sizeof lab_websocket - 1);
    assert_int_equal(h.kind, GW_REQ_WEBSOCKET);
    assert_string_equal(h.method, "RDG_OUT_DATA");
    assert_string_equal(h.target, "/remoteDesktopGateway/");
    assert_string_equal(h.connection_id, "{90e7d45e-f62d-4f89-8d05-7af3bcb03752}");
    assert_string_equal(h.accept, "YVPgjNCG3/RdKYGv0cVJLbhAHHg="); /* SHA-1 of the key as sent, RFC 6455 4.2.2 */
}

static void test_freerdp_reference(void **state)
{
    (void)state;
    static const char ref[] =
        "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n"
        "Accept: */*\r\nUser-Agent: MS-RDGateway/1.0\r\nHost: rdgw.contoso.com\r\nConnection: Upgrade\r\n"
        "Upgrade: websocket\r\nSec-Websocket-Version: 13\r\nSec-Websocket-Key: M_QNLNQBLGKPAFE\r\n"
        "RDG-Connection-Id: {c9b8eb51-eebf-12a7-351f-97bfd1dedd34}\r\nRDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n";
    gw_http_head h;
    size_t used;
    assert_int_equal(read_exact(ref, sizeof ref - 1, 0, &h, &used), 1);
    assert_int_equal(h.kind, GW_REQ_WEBSOCKET);
    assert_string_equal(h.accept, "TcxZ6f1IlP/1ThY3GwFrlwgq8DU=");
}

static void test_lab_legacy(void **state)
{
    (void)state;
    gw_http_head h;
    size_t used;
    assert_int_equal(read_exact(lab_legacy_out, sizeof lab_legacy_out - 1, 0, &h, &used), 1);
    assert_int_equal(h.kind, GW_REQ_LEGACY_OUT);
    assert_string_equal(h.connection_id, "{d398692f-e76f-42bc-ae99-2bd9d82d1560}");
    assert_int_equal(read_exact(lab_legacy_in, sizeof lab_legacy_in - 1, 0, &h, &used), 1);
    assert_int_equal(h.kind, GW_REQ_LEGACY_IN);
    assert_string_equal(h.connection_id, "{d398692f-e76f-42bc-ae99-2bd9d82d1560}");
    assert_int_equal(used, sizeof lab_legacy_in - 1);
    /* The IN connection's second head: then its chunked body. */
    assert_int_equal(read_exact(lab_legacy_in_chunked, sizeof lab_legacy_in_chunked - 1, 1, &h, &used), 1);
    assert_int_equal(h.kind, GW_REQ_LEGACY_IN_BODY);
    assert_int_equal(used, sizeof lab_legacy_in_chunked - 1);
}

/* Every proper prefix is "not whole yet", with nothing used and nothing refused. */
static void test_truncated(void **state)
{
    (void)state;
    const char *heads[] = {lab_websocket, lab_legacy_out, lab_legacy_in_chunked};
    for (size_t k = 0; k < 3; k++) {
        size_t len = strlen(heads[k]);
        for (size_t n = 0; n < len; n++) {
            gw_http_head h;
            size_t used = 99;
            assert_int_equal(read_exact(heads[k], n, k == 2, &h, &used), 0);
            assert_int_equal(used, 0);
        }
    }
}

/* A head with one line replaced: what the gateway answers and why. */
typedef struct refusal {
    const char *head;
    int again_in;
    const char *status, *why;
} refusal;

#define OUT_LINE "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\n"
#define IDS "RDG-Connection-Id: {1}\r\nRDG-Auth-Scheme: PAA\r\n"

static void test_refusals(void **state)
{
    (void)state;
    static const refusal cases[] = {
        {"\r\n\r\n", 0, "400", "not an HTTP request line"},
        {"RDG_OUT_DATA /remoteDesktopGateway/\r\n\r\n", 0, "400", "not an HTTP request line"},
        {"RDG_OUT_DATA  /remoteDesktopGateway/ HTTP/1.1\r\n\r\n", 0, "400", "not an HTTP request line"},
        {"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/2.0\r\n\r\n", 0, "400", "not an HTTP request line"},
        {"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1 x\r\n\r\n", 0, "400", "not an HTTP request line"},
        {"RDG_OUT_DATA /remote\x7f HTTP/1.1\r\n\r\n", 0, "400", "a target byte 0x7f"},
        {"RDG\x1b[2J /remoteDesktopGateway/ HTTP/1.1\r\n\r\n", 0, "400", "a method byte 0x1b"},
        {OUT_LINE "Host rdgw\r\n\r\n", 0, "400", "a header line without ':'"},
        {OUT_LINE ": x\r\n\r\n", 0, "400", "a header line without a name"},
        {OUT_LINE "Ho st: x\r\n\r\n", 0, "400", "a header name with byte 0x20"},
        {OUT_LINE "Host: a\x01z\r\n\r\n", 0, "400", "a header value with byte 0x01"},
        {OUT_LINE "Host: a\nb\r\n\r\n", 0, "400", "a bare CR or LF"},
        {OUT_LINE "Host: a\rb\r\n\r\n", 0, "400", "a bare CR or LF"},
        {"GET /remoteDesktopGateway/ HTTP/1.1\r\n" IDS "\r\n", 0, "405", "unknown method 'GET'"},
        {"RDG_OUT_DATA /rpc HTTP/1.1\r\n" IDS "\r\n", 0, "404", "not /remoteDesktopGateway/"},
        {OUT_LINE "RDG-Auth-Scheme: NTLM\r\nRDG-Connection-Id: {1}\r\n\r\n", 0, "401", "RDG-Auth-Scheme: PAA"},
        {OUT_LINE "RDG-Connection-Id: {1}\r\n\r\n", 0, "401", "RDG-Auth-Scheme: PAA"},
        {OUT_LINE "RDG-Auth-Scheme: PAA\r\n\r\n", 0, "400", "no usable RDG-Connection-Id"},
        {OUT_LINE "RDG-Auth-Scheme: PAA\r\nRDG-Connection-Id: \r\n\r\n", 0, "400", "no usable RDG-Connection-Id"},
        {OUT_LINE "RDG-Auth-Scheme: PAA\r\nRDG-Connection-Id: 0123456789012345678901234567890123456789012345678901"
                  "234567890\r\n\r\n",
         0, "400", "no usable RDG-Connection-Id"},
        {OUT_LINE IDS "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: caf\xc3\xa9\r\n\r\n", 0, "400",
         "bad Sec-WebSocket-Key"},
        {lab_legacy_out, 1, "400", "expected the RDG_IN_DATA head again"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_http_head h;
        size_t used;
        int rc = read_exact(cases[i].head, strlen(cases[i].head), cases[i].again_in, &h, &used);
        if (rc != -1)
            fail_msg("case %zu: %d, want -1 (%s)", i, rc, cases[i].why);
        assert_non_null(h.status);
        assert_memory_equal(h.status, cases[i].status, 3);
        assert_contains(h.why, cases[i].why);
        assert_int_equal(used, strlen(cases[i].head));
        for (const char *p = h.why; *p; p++) /* the reason is logged: no control byte */
            assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
    }
}

/* Bounds: a NUL inside, 48 lines, 8 KiB. */
static void test_bounds(void **state)
{
    (void)state;
    gw_http_head h;
    size_t used;
    static const char nul[] = OUT_LINE "Host: a\0b\r\n" IDS "\r\n";
    assert_int_equal(read_exact(nul, sizeof nul - 1, 0, &h, &used), -1);
    assert_contains(h.why, "a NUL byte");

    char big[GW_HEAD_MAX + 64];
    size_t n = (size_t)snprintf(big, sizeof big, "%s%s", OUT_LINE, IDS);
    for (int i = 0; i < GW_HEAD_LINES - 3; i++) /* the request line, 2 + 45 headers: 48 lines */
        n += (size_t)snprintf(big + n, sizeof big - n, "X-%d: y\r\n", i);
    memcpy(big + n, "\r\n", 2);
    assert_int_equal(read_exact(big, n + 2, 0, &h, &used), 1);
    assert_int_equal(h.kind, GW_REQ_LEGACY_OUT);
    n += (size_t)snprintf(big + n, sizeof big - n, "X-last: y\r\n");
    memcpy(big + n, "\r\n", 2);
    assert_int_equal(read_exact(big, n + 2, 0, &h, &used), -1);
    assert_contains(h.why, "over 47 header lines");

    /* 8 KiB without a blank line: refused, nothing used; 8 KiB - 1 still waits. */
    memset(big, 'a', sizeof big);
    memcpy(big, OUT_LINE, sizeof OUT_LINE - 1);
    assert_int_equal(read_exact(big, GW_HEAD_MAX - 1, 0, &h, &used), 0);
    assert_int_equal(read_exact(big, GW_HEAD_MAX, 0, &h, &used), -1);
    assert_int_equal(used, 0);
    assert_string_equal(h.status, "400 Bad Request");
    assert_contains(h.why, "request head over 8 KiB");
    /* A head ending exactly at 8 KiB is whole. */
    n = (size_t)snprintf(big, sizeof big, "%s%sX: ", OUT_LINE, IDS);
    memset(big + n, 'v', GW_HEAD_MAX - n - 4);
    memcpy(big + GW_HEAD_MAX - 4, "\r\n\r\n", 4);
    assert_int_equal(read_exact(big, GW_HEAD_MAX, 0, &h, &used), 1);
    assert_int_equal(used, GW_HEAD_MAX);
}

/* Header names are case-insensitive; values lose surrounding whitespace; the first of a
 * repeated header counts. */
static void test_header_forms(void **state)
{
    (void)state;
    static const char head[] = "RDG_OUT_DATA /REMOTEDESKTOPGATEWAY/ HTTP/1.0\r\nrdg-auth-scheme:\tpaa \r\n"
                               "rdg-connection-id:  {a}  \r\nRDG-Connection-Id: {b}\r\nupgrade: WebSocket\r\n"
                               "connection: keep-alive, upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    gw_http_head h;
    size_t used;
    assert_int_equal(read_exact(head, sizeof head - 1, 0, &h, &used), 1);
    assert_int_equal(h.kind, GW_REQ_WEBSOCKET);
    assert_string_equal(h.connection_id, "{a}");
    assert_string_equal(h.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 1.3 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lab_websocket), cmocka_unit_test(test_freerdp_reference),
        cmocka_unit_test(test_lab_legacy),    cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_refusals),      cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_header_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
