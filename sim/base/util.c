/* SPDX-License-Identifier: Apache-2.0 */
/* util: see util.h. */
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *ws_progname = "wapsim";

int ws_seterr(ws_error *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static char last_warning[512];

void ws_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_warning, sizeof last_warning, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: ", ws_progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *ws_warn_last(void)
{
    return last_warning;
}

char *ws_strdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

char *ws_printf(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;
    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0)
        abort();
    va_end(ap);
    return out;
}

int ws_streq_ci(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

void ws_hex_upper(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int ws_self_dir(char *buf, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len <= 0)
        return -1;
    buf[len] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

int ws_mkdir_p(const char *path, mode_t mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, mode) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Write to something that is not a regular file (a pipe, /dev/stdout) in place. */
static int write_in_place(int fd, const char *path, const void *data, size_t len, ws_error *e)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ws_seterr(e, "cannot write %s: %s", path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int ws_write_file(const char *path, const void *data, size_t len, mode_t mode, ws_error *e)
{
    if (strcmp(path, "-") == 0)
        return write_in_place(1, "standard output", data, len, e);
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        int out = open(path, O_WRONLY | O_CLOEXEC);
        if (out < 0)
            return ws_seterr(e, "cannot write %s: %s", path, strerror(errno));
        int rc = write_in_place(out, path, data, len, e);
        close(out);
        return rc;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return ws_seterr(e, "cannot write %s: %s", path, strerror(errno));
    const unsigned char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = errno;
            close(fd);
            unlink(tmp);
            return ws_seterr(e, "cannot write %s: %s", path, strerror(err));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, mode) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return ws_seterr(e, "cannot write %s: %s", path, strerror(err));
    }
    return 0;
}

int ws_read_file(const char *path, size_t max, unsigned char **data, size_t *len, ws_error *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ws_seterr(e, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap + 1);
    if (!buf)
        abort();
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                fclose(f);
                free(buf);
                return ws_seterr(e, "%s is larger than %zu bytes", path, max);
            }
            cap = cap * 2 > max ? max : cap * 2;
            buf = realloc(buf, cap + 1);
            if (!buf)
                abort();
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return ws_seterr(e, "cannot read %s", path);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

void ws_last_line(const char *path, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    long size;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 8192)
        fseek(f, size - 8192, SEEK_SET);
    else
        fseek(f, 0, SEEK_SET);
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (l > 0)
            snprintf(out, n, "%s", line);
    }
    fclose(f);
}

int ws_random(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

int ws_guid_new(char out[37])
{
    unsigned char b[16];
    if (ws_random(b, sizeof b) != 0)
        return -1;
    b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
    b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

int ws_guid_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

int ws_password_new(char *out, size_t n)
{
    static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    unsigned char r[128];
    if (n < 2 || n > sizeof r || ws_random(r, n) != 0)
        return -1;
    for (size_t i = 0; i + 1 < n; i++)
        out[i] = alphabet[r[i] % (sizeof alphabet - 1)];
    out[n - 1] = '\0';
    return 0;
}

int64_t ws_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ws_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ws_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
