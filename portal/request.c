/* SPDX-License-Identifier: Apache-2.0 */
/* portal/request.c: the sign-in bodies and the console path (request.h).
 *
 *   form:  name=value pairs joined by '&'; '+' is a space, %XX a byte (HTML 4.01 17.13.4,
 *          application/x-www-form-urlencoded); the first "user" and "password" count.
 *   JSON:  an object whose "user" and "password" are strings (RFC 8259, cJSON).
 * Each value is bounded by its field in portal_login; a NUL inside one is refused, as
 * the account lookup compares C strings. */
#include "request.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

static int hexval(uint8_t ch)
{
    return isdigit(ch) ? ch - '0' : tolower(ch) - 'a' + 10;
}

/* A form value's len bytes decoded into out (n bytes with its NUL). */
static int form_decode(const uint8_t *v, size_t len, const char *name, char *out, size_t n, ws_error *e)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (o + 1 >= n)
            return ws_seterr(e, "form field %s: over %zu bytes", name, n - 1);
        uint8_t ch = v[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            if (i + 2 >= len || !isxdigit(v[i + 1]) || !isxdigit(v[i + 2]))
                return ws_seterr(e, "form field %s: a '%%' at offset %zu without two hex digits", name, i);
            ch = (uint8_t)(hexval(v[i + 1]) << 4 | hexval(v[i + 2]));
            i += 2;
        }
        if (ch == '\0')
            return ws_seterr(e, "form field %s: a NUL byte", name);
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return 0;
}

int portal_form_field(const uint8_t *body, size_t len, const char *name, char *out, size_t n, ws_error *e)
{
    size_t nl = strlen(name);
    for (size_t at = 0; at < len;) {
        const uint8_t *amp = memchr(body + at, '&', len - at);
        size_t end = amp ? (size_t)(amp - body) : len;
        if (end - at > nl && memcmp(body + at, name, nl) == 0 && body[at + nl] == '=')
            return form_decode(body + at + nl + 1, end - at - nl - 1, name, out, n, e);
        at = end + 1;
    }
    ws_seterr(e, "the form has no %s field", name);
    return 1;
}

int portal_login_form(const uint8_t *body, size_t len, portal_login *out, ws_error *e)
{
    portal_login l;
    if (portal_form_field(body, len, "user", l.user, sizeof l.user, e) != 0 ||
        portal_form_field(body, len, "password", l.password, sizeof l.password, e) != 0)
        return -1;
    *out = l;
    return 0;
}

/* A member that must be a string of at most n-1 bytes. */
static int json_string(const cJSON *o, const char *name, char *out, size_t n, ws_error *e)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, name));
    if (!v)
        return ws_seterr(e, "not {\"user\",\"password\"}: no string %s", name);
    if (strlen(v) >= n)
        return ws_seterr(e, "%s: over %zu bytes", name, n - 1);
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

int portal_login_json(const uint8_t *body, size_t len, portal_login *out, ws_error *e)
{
    cJSON *o = cJSON_ParseWithLength((const char *)body, len);
    portal_login l;
    int rc = -1;
    if (!cJSON_IsObject(o))
        ws_seterr(e, "not {\"user\",\"password\"}: %s", o ? "not an object" : "not JSON");
    else if (json_string(o, "user", l.user, sizeof l.user, e) == 0 &&
             json_string(o, "password", l.password, sizeof l.password, e) == 0)
        rc = 0;
    cJSON_Delete(o);
    if (rc == 0)
        *out = l;
    return rc;
}

int portal_console_path(const char *path, char vm_id[PORTAL_VM_ID_MAX + 1])
{
    if (strncmp(path, "vms/", 4) != 0)
        return 0;
    const char *id = path + 4, *slash = strchr(id, '/');
    if (!slash || strcmp(slash, "/console") != 0 || slash - id > PORTAL_VM_ID_MAX)
        return 0;
    memcpy(vm_id, id, (size_t)(slash - id));
    vm_id[slash - id] = '\0';
    return 1;
}

int portal_vm_path(const char *path, char vm_id[PORTAL_VM_ID_MAX + 1])
{
    if (strncmp(path, "vms/", 4) != 0)
        return 0;
    const char *id = path + 4;
    size_t n = strlen(id);
    if (n == 0 || n > PORTAL_VM_ID_MAX || strchr(id, '/'))
        return 0;
    memcpy(vm_id, id, n + 1);
    return 1;
}

int portal_form_type(const char *content_type)
{
    static const char *const form[] = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"};
    if (!content_type)
        return 0;
    const char *p = content_type;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "; \t");
    for (size_t i = 0; i < sizeof form / sizeof form[0]; i++)
        if (n == strlen(form[i]) && strncasecmp(p, form[i], n) == 0)
            return 1;
    return 0;
}
