/* SPDX-License-Identifier: Apache-2.0 */
/* spf/request.c: the resource path and VMM's error body (request.h).
 *
 *   <root>/VirtualMachines
 *   <root>/VirtualMachines(ID=guid'<36>',StampId=guid'<36>')/VMConnection
 * with <root> SPF_ROOT (the OData service of the VMM stamp, REFERENCE.md section 1); a
 * GUID is 8-4-4-4-12 hex digits. Anything else is 404, a malformed key 400, as WCF Data
 * Services answers ("Bad Request - Error in query syntax."). */
#include "request.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* "VirtualMachines(ID=guid'<36>',StampId=guid'<36>')/VMConnection", len bytes at path. */
static int connection_path(const char *path, size_t len, spf_request *out, ws_error *e)
{
    static const char a[] = "/VirtualMachines(ID=guid'", b[] = "',StampId=guid'", c[] = "')/VMConnection";
    size_t la = sizeof a - 1, lb = sizeof b - 1, lc = sizeof c - 1;
    out->status = 400;
    if (len != la + 36 + lb + 36 + lc || memcmp(path, a, la) != 0 || memcmp(path + la + 36, b, lb) != 0 ||
        memcmp(path + la + 36 + lb + 36, c, lc) != 0)
        return ws_seterr(e, "resource path: not VirtualMachines(ID=guid'..',StampId=guid'..')/VMConnection");
    memcpy(out->vm_id, path + la, 36);
    out->vm_id[36] = '\0';
    memcpy(out->stamp, path + la + 36 + lb, 36);
    out->stamp[36] = '\0';
    if (!ws_guid_valid(out->vm_id) || !ws_guid_valid(out->stamp))
        return ws_seterr(e, "resource path: the %s is not a GUID", ws_guid_valid(out->vm_id) ? "StampId" : "ID");
    out->resource = SPF_RES_VMCONNECTION;
    return 0;
}

int spf_request_parse(const char *url, size_t len, spf_request *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    out->status = 404;
    if (memchr(url, '\0', len))
        return ws_seterr(e, "resource path: a NUL byte");
    size_t lr = sizeof SPF_ROOT - 1;
    if (len < lr || memcmp(url, SPF_ROOT, lr) != 0)
        return ws_seterr(e, "resource path: not under %s", SPF_ROOT);
    const char *path = url + lr;
    len -= lr;
    static const char vms[] = "/VirtualMachines";
    if (len == sizeof vms - 1 && memcmp(path, vms, len) == 0) {
        out->resource = SPF_RES_VMS;
        return 0;
    }
    if (len >= sizeof vms && memcmp(path, "/VirtualMachines(", sizeof vms) == 0)
        return connection_path(path, len, out, e);
    return ws_seterr(e, "resource path: no such resource");
}

int spf_vmm_error(const uint8_t *body, size_t len, char *msg, size_t n, ws_error *e)
{
    cJSON *o = cJSON_ParseWithLength((const char *)body, len);
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(o, "error"));
    int rc = m ? 0 : ws_seterr(e, "VMM's body: %s", o ? "no string \"error\"" : "not JSON");
    snprintf(msg, n, "%s", m ? m : "unknown error");
    cJSON_Delete(o);
    return rc;
}
