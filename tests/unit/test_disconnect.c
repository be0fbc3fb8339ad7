/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/wire/disconnect.c, what Remote Desktop Connection shows when it
 * stops: every code the lab's client can end with has a non-empty full text and a
 * source, the text formats with its argument and its code, and a text without "%s" is
 * written to the caller's buffer like one with it (it once was dropped). */

#include "harness.h"

#include "wire/disconnect.h"
#include "wire/rdppdu.h"
#include "wire/rdstls.h"

/* A row's origin cites a source or says it is the lab's model. */
static int labelled(const char *origin)
{
    return origin && (strstr(origin, "REFERENCE.md") || strstr(origin, "[model]") || strstr(origin, "[doc") ||
                      strstr(origin, "[field") || strstr(origin, "TechNet Wiki 37870"));
}

static void test_every_row_has_text_and_source(void **state)
{
    (void)state;
    size_t n = 0;
    for (const ws_disconnect_def *d; (d = ws_disconnect_at(n)); n++) {
        assert_non_null(d->name);
        assert_non_null(d->text);
        assert_true(strlen(d->text) > 20);
        if (!labelled(d->origin))
            fail_msg("%s (%u) has no source label: '%s'", d->name, d->code, d->origin ? d->origin : "(null)");
        /* One "%s" at most, and only where the row says what fills it. */
        const char *mark = strstr(d->text, "%s");
        assert_true((mark != NULL) == (d->names != WS_DISC_NAMES_NONE));
        if (mark)
            assert_null(strstr(mark + 2, "%"));
        else
            assert_null(strchr(d->text, '%'));
        assert_ptr_equal(ws_disconnect_find(d->kind, d->code), d);
    }
    assert_true(n >= 20);
}

/* Every code the client can end with (sim/client: gateway-tls, gateway-auth, channel,
 * host-tls, host-auth, console) has its row. */
static void test_every_client_code_has_a_row(void **state)
{
    (void)state;
    const uint32_t reasons[] = {WS_DISC_GATEWAY_UNTRUSTED, WS_DISC_GATEWAY_NAME_MISMATCH, WS_DISC_GATEWAY_CERT_EXPIRED,
                                WS_DISC_GATEWAY_UNREACHABLE, WS_DISC_COOKIE_INVALID, WS_DISC_COOKIE_REJECTED,
                                WS_DISC_COOKIE_TOO_LARGE};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (!ws_disconnect_find(WS_DISC_KIND_REASON, reasons[i]))
            fail_msg("disconnect reason %u has no text", reasons[i]);
    /* What the lab's gateway answers (gateway/tunnel.c) becomes a reason with a text. */
    const uint32_t hresults[] = {WS_E_PROXY_COOKIE_BADPACKET, WS_E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED,
                                 WS_E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD, WS_E_PROXY_RAP_ACCESSDENIED,
                                 WS_E_PROXY_TS_CONNECTFAILED};
    for (size_t i = 0; i < sizeof hresults / sizeof hresults[0]; i++) {
        uint32_t reason = ws_disconnect_of_hresult(hresults[i]);
        if (!reason || !ws_disconnect_find(WS_DISC_KIND_REASON, reason))
            fail_msg("gateway status 0x%08X has no disconnect reason with a text", hresults[i]);
    }
    assert_int_equal(ws_disconnect_of_hresult(WS_E_PROXY_COOKIE_BADPACKET), 50331700u);
    assert_int_equal(ws_disconnect_of_hresult(WS_E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED), 50331701u);
    assert_int_equal(ws_disconnect_of_hresult(0x12345678u), 0);
    const uint32_t auth[] = {WS_DISC_HOST_AUTH,
                             WS_RDSTLS_ACCESS_DENIED,
                             WS_RDSTLS_LOGON_FAILURE,
                             WS_RDSTLS_INVALID_LOGON_HOURS,
                             WS_RDSTLS_PASSWORD_EXPIRED,
                             WS_RDSTLS_ACCOUNT_DISABLED,
                             WS_RDSTLS_PASSWORD_MUST_CHANGE,
                             WS_RDSTLS_ACCOUNT_LOCKED_OUT};
    for (size_t i = 0; i < sizeof auth / sizeof auth[0]; i++)
        if (!ws_disconnect_find(WS_DISC_KIND_AUTH, auth[i]))
            fail_msg("authentication code 0x%X has no text", auth[i]);
    /* The Set Error Info codes the lab's host sends (host/console.c). */
    const uint32_t errinfo[] = {WS_PDU_ERRINFO_DISCONNECTED_BY_OTHERCONNECTION, WS_PDU_ERRINFO_SERVER_DENIED_CONNECTION,
                                WS_PDU_ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES};
    for (size_t i = 0; i < sizeof errinfo / sizeof errinfo[0]; i++)
        if (!ws_disconnect_find(WS_DISC_KIND_ERRINFO, errinfo[i]))
            fail_msg("Set Error Info 0x%X has no text", errinfo[i]);
}

/* REFERENCE.md section 6's abridged texts are the start of the full ones. */
static void test_reference_texts_are_the_full_texts_start(void **state)
{
    (void)state;
    static const struct {
        uint32_t code;
        const char *abridged;
    } ref[] = {
        {50331653u, "This computer can't verify the identity of the RD Gateway \"rdgw.contoso.com\". It's not safe to "
                    "connect to servers that can't be identified."},
        {50331654u, "Your computer can't connect to the remote computer because the Remote Desktop Gateway server "
                    "address requested and the certificate subject name do not match."},
        {50331655u, "Your computer can't connect to the remote computer because the Remote Desktop Gateway server's "
                    "certificate has expired or has been revoked."},
        {50331700u, "Your computer can't connect to the remote computer because an invalid cookie was sent to the "
                    "Remote Desktop Gateway server."},
        {50331701u, "Your computer can't connect to the remote computer because the cookie was rejected by the "
                    "Remote Desktop Gateway server."},
        {50331714u, "Your computer can't connect to the remote computer because the size of the cookie exceeded the "
                    "supported size."},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        char buf[1000];
        ws_disconnect_format(WS_DISC_KIND_REASON, ref[i].code, "rdgw.contoso.com", "hv01", buf, sizeof buf);
        if (strncmp(buf, ref[i].abridged, strlen(ref[i].abridged)) != 0)
            fail_msg("%u: '%s' does not start with REFERENCE.md's '%s'", ref[i].code, buf, ref[i].abridged);
        assert_contains(buf, "Contact your network administrator for assistance.");
    }
}

static void test_format_fills_the_argument_and_the_code(void **state)
{
    (void)state;
    char buf[1000];
    assert_ptr_equal(ws_disconnect_format(WS_DISC_KIND_REASON, WS_DISC_GATEWAY_UNTRUSTED, "rdgw.contoso.com", "hv01",
                                          buf, sizeof buf),
                     buf);
    assert_contains(buf, "RD Gateway \"rdgw.contoso.com\". It's not safe");
    assert_contains(buf, "(code 50331653)");
    assert_null(strstr(buf, "%s"));
    ws_disconnect_format(WS_DISC_KIND_REASON, WS_DISC_RESOURCE_DENIED, "rdgw.contoso.com", "hv01.fabric.contoso.local",
                         buf, sizeof buf);
    assert_contains(buf, "remote computer \"hv01.fabric.contoso.local\" for one of these reasons");
    /* NULL names count as "". */
    ws_disconnect_format(WS_DISC_KIND_REASON, WS_DISC_GATEWAY_UNTRUSTED, NULL, NULL, buf, sizeof buf);
    assert_contains(buf, "RD Gateway \"\".");
    /* The authentication errors carry their hex code in the text. */
    ws_disconnect_format(WS_DISC_KIND_AUTH, WS_DISC_HOST_AUTH, NULL, NULL, buf, sizeof buf);
    assert_string_equal(buf, "An authentication error has occurred (Code: 0x607).");
    ws_disconnect_format(WS_DISC_KIND_AUTH, WS_RDSTLS_LOGON_FAILURE, NULL, NULL, buf, sizeof buf);
    assert_string_equal(buf, "An authentication error has occurred (Code: 0x52E).");
    ws_disconnect_format(WS_DISC_KIND_ERRINFO, WS_PDU_ERRINFO_DISCONNECTED_BY_OTHERCONNECTION, NULL, NULL, buf,
                         sizeof buf);
    assert_contains(buf, "Another user connected to the remote computer, so your connection was lost.");
    assert_contains(buf, "(code 0x5)");
    /* The same number means different things in each table. */
    ws_disconnect_format(WS_DISC_KIND_AUTH, 5, NULL, NULL, buf, sizeof buf);
    assert_string_equal(buf, "An authentication error has occurred (Code: 0x5).");
    /* A code without a row: what GetErrorDescription answers for an unknown one. */
    ws_disconnect_format(WS_DISC_KIND_REASON, 12345, NULL, NULL, buf, sizeof buf);
    assert_string_equal(buf, "An internal error has occurred. (code 12345)");
    ws_disconnect_format(WS_DISC_KIND_REASON, WS_E_PROXY_INTERNALERROR, NULL, NULL, buf, sizeof buf);
    assert_string_equal(buf, "An internal error has occurred. (code 0x800759D8)");
    /* A small buffer is cut, never overrun. */
    char small[16];
    ws_disconnect_format(WS_DISC_KIND_REASON, WS_DISC_GATEWAY_NAME_MISMATCH, NULL, NULL, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
}

/* The defect this table once had: a text without "%s" was returned but not written to
 * the caller's buffer, so `wapsim connect` printed only "(hostname mismatch)". */
static void test_text_without_argument_is_written_to_the_buffer(void **state)
{
    (void)state;
    const uint32_t codes[] = {WS_DISC_GATEWAY_NAME_MISMATCH, WS_DISC_GATEWAY_CERT_EXPIRED, WS_DISC_COOKIE_REJECTED,
                              WS_DISC_GATEWAY_UNTRUSTED, WS_DISC_HOST_AUTH};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char buf[1000] = "";
        const char *t = ws_disconnect_text(codes[i], "rdgw.contoso.com", buf, sizeof buf);
        assert_ptr_equal(t, buf);
        if (strlen(buf) < 20)
            fail_msg("code %u: the buffer holds '%s'", codes[i], buf);
    }
    assert_non_null(ws_disconnect_text(WS_DISC_GATEWAY_NAME_MISMATCH, NULL, NULL, 0));
    assert_null(ws_disconnect_text(1, NULL, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_has_text_and_source),
        cmocka_unit_test(test_every_client_code_has_a_row),
        cmocka_unit_test(test_reference_texts_are_the_full_texts_start),
        cmocka_unit_test(test_format_fills_the_argument_and_the_code),
        cmocka_unit_test(test_text_without_argument_is_written_to_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
