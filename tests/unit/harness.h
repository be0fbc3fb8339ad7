/* SPDX-License-Identifier: Apache-2.0 */
/* harness: what every wapsim unit test shares: cmocka with the headers it needs,
 * the asserts cmocka lacks, and fixtures (a scratch directory removed after the
 * test). Header-only: each test is one program built from one .c file. */
#ifndef WAPSIM_TEST_HARNESS_H
#define WAPSIM_TEST_HARNESS_H

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lab/state.h"

/* haystack contains needle (a NULL haystack fails). */
#define assert_contains(haystack, needle)                                                                   \
    do {                                                                                                    \
        const char *h_ = (haystack), *n_ = (needle);                                                        \
        if (!h_ || !strstr(h_, n_))                                                                         \
            fail_msg("expected \"%s\" to contain \"%s\"", h_ ? h_ : "(null)", n_);                          \
    } while (0)

/* Compare a string the library allocated, then free it. */
#define assert_owned_string(expr, want)                                                                     \
    do {                                                                                                    \
        char *s_ = (expr);                                                                                  \
        assert_non_null(s_);                                                                                \
        int same_ = strcmp(s_, (want)) == 0;                                                                \
        if (!same_) {                                                                                       \
            char copy_[512];                                                                                \
            snprintf(copy_, sizeof copy_, "%s", s_);                                                        \
            free(s_);                                                                                       \
            fail_msg("%s: got \"%s\", want \"%s\"", #expr, copy_, (want));                                  \
        }                                                                                                   \
        free(s_);                                                                                           \
    } while (0)

/* a within tolerance of b */
#define assert_near(a, b, tolerance)                                                                        \
    do {                                                                                                    \
        int64_t a_ = (a), b_ = (b);                                                                         \
        if (a_ < b_ - (tolerance) || a_ > b_ + (tolerance))                                                 \
            fail_msg("%s = %lld, expected %lld +/- %lld", #a, (long long)a_, (long long)b_,               \
                     (long long)(tolerance));                                                               \
    } while (0)

static inline int ws_test_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove a scratch directory and everything below it. */
static inline void ws_test_rm_rf(const char *path)
{
    nftw(path, ws_test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new lab state file in a scratch directory /tmp/wapsim-test-NAME-XXXXXX, whose path
 * goes into dir (n bytes; "" when none was made). 0, or -1 with the reason on stderr.
 * The caller closes it with ws_test_lab_close. */
static inline int ws_test_lab_open(char *dir, size_t n, const char *name, ws_state **st)
{
    snprintf(dir, n, "/tmp/wapsim-test-%s-XXXXXX", name);
    if (!mkdtemp(dir)) {
        dir[0] = '\0';
        return -1;
    }
    ws_error e = {""};
    if (ws_state_open(dir, 1, st, &e) != 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

/* Close what ws_test_lab_open made (st may be NULL, dir ""). */
static inline void ws_test_lab_close(ws_state *st, const char *dir)
{
    ws_state_close(st);
    if (dir[0])
        ws_test_rm_rf(dir);
}

#endif
