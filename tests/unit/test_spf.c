/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for spf/request.c: the OData resource path SPF reads and VMM's error body,
 * from the request targets the lab's portal sent (captured with
 * tests/fuzz/capture/sslwrite.c; the same bytes seed fuzz_spf) and the body VMM answered
 * when the VMM certificate was not in hv01's My store (mistake 1a). */

#include "harness.h"

#include "../../spf/request.h"

#define VMS SPF_ROOT "/VirtualMachines"
static const char lab_vmconnection[] =
    SPF_ROOT "/VirtualMachines(ID=guid'e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446d',"
             "StampId=guid'6fa5d865-53a3-4f0e-bed0-adbc2f45e2bc')/VMConnection";

/* Parses through a heap copy of exactly len bytes (no NUL after), so ASan sees any overread. */
static int parse_exact(const char *b, size_t len, spf_request *r, ws_error *e)
{
    char *c = malloc(len ? len : 1);
    assert_non_null(c);
    memcpy(c, b, len);
    int rc = spf_request_parse(c, len, r, e);
    free(c);
    return rc;
}

static void test_lab_paths(void **state)
{
    (void)state;
    spf_request r;
    ws_error e;
    assert_int_equal(parse_exact(VMS, strlen(VMS), &r, &e), 0);
    assert_int_equal(r.resource, SPF_RES_VMS);
    assert_int_equal(parse_exact(lab_vmconnection, sizeof lab_vmconnection - 1, &r, &e), 0);
    assert_int_equal(r.resource, SPF_RES_VMCONNECTION);
    assert_string_equal(r.vm_id, "e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446d");
    assert_string_equal(r.stamp, "6fa5d865-53a3-4f0e-bed0-adbc2f45e2bc");
    /* Every proper prefix: 404 up to the key's opening parenthesis, then 400. */
    size_t open = strlen(VMS "(");
    for (size_t n = 0; n < sizeof lab_vmconnection - 1; n++) {
        assert_int_equal(parse_exact(lab_vmconnection, n, &r, &e), n == strlen(VMS) ? 0 : -1);
        if (n != strlen(VMS))
            assert_int_equal(r.status, n < open ? 404 : 400);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        unsigned status;
        const char *why;
    } cases[] = {
        {"/VirtualMachines", 404, "not under " SPF_ROOT},
        {SPF_ROOT, 404, "no such resource"},
        {VMS "/", 404, "no such resource"},
        {SPF_ROOT "/Clouds", 404, "no such resource"},
        {VMS "(ID=guid'e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446d')", 400, "not VirtualMachines(ID="},
        {VMS "(ID=guid'e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446d',StampId=guid'6fa5d865-53a3-4f0e-bed0-adbc2f45e2bc')"
             "/VMConnectionX",
         400, "not VirtualMachines(ID="},
        {VMS "(ID=guid'e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446dX,StampId=guid'6fa5d865-53a3-4f0e-bed0-adbc2f45e2bc')"
             "/VMConnection",
         400, "not VirtualMachines(ID="},
        {VMS "(ID=guid'e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446z',StampId=guid'6fa5d865-53a3-4f0e-bed0-adbc2f45e2bc')"
             "/VMConnection",
         400, "the ID is not a GUID"},
        {VMS "(ID=guid'e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446d',StampId=guid'6fa5d865+53a3-4f0e-bed0-adbc2f45e2bc')"
             "/VMConnection",
         400, "the StampId is not a GUID"},
    };
    spf_request r;
    ws_error e;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (parse_exact(cases[i].path, strlen(cases[i].path), &r, &e) != -1)
            fail_msg("case %zu (%s): accepted", i, cases[i].path);
        assert_int_equal(r.status, cases[i].status);
        assert_contains(e.msg, cases[i].why);
    }
    static const char nul[] = VMS "\0";
    assert_int_equal(parse_exact(nul, sizeof nul - 1, &r, &e), -1);
    assert_contains(e.msg, "a NUL byte");
}

static void test_vmm_error(void **state)
{
    (void)state;
    static const char body[] =
        "{\"error\":\"Host hv01 cannot validate console tokens signed by vmm-console "
        "(9B17FAEC9D3AC1445CE7B89336E891570ED0A44F): the certificate with thumbprint "
        "9B17FAEC9D3AC1445CE7B89336E891570ED0A44F is not in hv01's LocalMachine\\\\My store. Run Read-SCVMHost "
        "after installing the certificate on the host.\"}";
    char msg[1024];
    ws_error e;
    uint8_t *c = malloc(sizeof body - 1);
    assert_non_null(c);
    memcpy(c, body, sizeof body - 1);
    assert_int_equal(spf_vmm_error(c, sizeof body - 1, msg, sizeof msg, &e), 0);
    assert_contains(msg, "is not in hv01's LocalMachine\\My store.");
    char small[16];
    assert_int_equal(spf_vmm_error(c, sizeof body - 1, small, sizeof small, &e), 0);
    assert_string_equal(small, "Host hv01 canno");
    assert_int_equal(spf_vmm_error(c, 20, msg, sizeof msg, &e), -1);
    assert_string_equal(msg, "unknown error");
    assert_contains(e.msg, "not JSON");
    free(c);
    assert_int_equal(spf_vmm_error((const uint8_t *)"{\"error\":5}", 11, msg, sizeof msg, &e), -1);
    assert_string_equal(msg, "unknown error");
    assert_contains(e.msg, "no string \"error\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lab_paths),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_vmm_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
