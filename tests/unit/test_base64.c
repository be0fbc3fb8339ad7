/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/crypto/base64.c: encoding without line breaks, strict decoding
 * (each fault and where it is), skipped whitespace and canonical padding bits. */
#include "harness.h"

#include "crypto/base64.h"

static void test_encode(void **state)
{
    (void)state;
    char out[WS_BASE64_LEN(5) + 1];
    assert_int_equal(ws_base64_encode((const unsigned char *)"hello", 5, out), 8);
    assert_string_equal(out, "aGVsbG8=");
    assert_int_equal(ws_base64_encode((const unsigned char *)"", 0, out), 0);
    assert_string_equal(out, "");
}

static void test_decode_round_trip(void **state)
{
    (void)state;
    unsigned char in[64], back[64];
    char text[WS_BASE64_LEN(64) + 1];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 1; n <= sizeof in; n++) {
        size_t len = ws_base64_encode(in, n, text), got = 0, at;
        assert_int_equal(ws_base64_decode(text, len, WS_BASE64_CANONICAL, back, &got, &at), WS_BASE64_OK);
        assert_int_equal(got, n);
        assert_memory_equal(back, in, n);
    }
}

static void test_decode_faults(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int flags;
        ws_base64_fault fault;
        size_t at;
    } cases[] = {
        {"", 0, WS_BASE64_EMPTY, 0},
        {"AAE", 0, WS_BASE64_LENGTH, 3},
        {"AA!C", 0, WS_BASE64_BAD_CHAR, 2},
        {"AA C", 0, WS_BASE64_BAD_CHAR, 2},
        {"A=AA", 0, WS_BASE64_MISPLACED, 1},
        {"A===", 0, WS_BASE64_MISPLACED, 1},
        {"AB==AAAA", 0, WS_BASE64_MISPLACED, 2},
        {"AAF=", WS_BASE64_CANONICAL, WS_BASE64_PAD_BITS, 4},
        {"AB==", WS_BASE64_CANONICAL, WS_BASE64_PAD_BITS, 4},
        {" \n", WS_BASE64_SPACE, WS_BASE64_EMPTY, 0},
        {"A A\nE", WS_BASE64_SPACE, WS_BASE64_LENGTH, 3},
        {"A A\n!C", WS_BASE64_SPACE, WS_BASE64_BAD_CHAR, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char out[8];
        size_t len = 0, at = 99;
        ws_base64_fault f = ws_base64_decode(cases[i].text, strlen(cases[i].text), cases[i].flags, out, &len, &at);
        if (f != cases[i].fault || at != cases[i].at)
            fail_msg("'%s': fault %d at %zu, want %d at %zu", cases[i].text, f, at, cases[i].fault, cases[i].at);
    }
}

static void test_decode_padding_and_space(void **state)
{
    (void)state;
    unsigned char out[8];
    size_t len = 0, at;
    /* Without WS_BASE64_CANONICAL the bits under the padding are ignored. */
    assert_int_equal(ws_base64_decode("AAF=", 4, 0, out, &len, &at), WS_BASE64_OK);
    assert_int_equal(len, 2);
    assert_int_equal(out[1], 0x01);
    assert_int_equal(ws_base64_decode(" aGVs\r\nbG8=\t", 12, WS_BASE64_SPACE, out, &len, &at), WS_BASE64_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "hello", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode_round_trip),
        cmocka_unit_test(test_decode_faults),
        cmocka_unit_test(test_decode_padding_and_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
