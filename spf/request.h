/* SPDX-License-Identifier: Apache-2.0 */
/* spf/request.h: what SPF parses from outside: the OData resource path a caller asks for
 * (after the service root), and the JSON error body VMM answers a console request with.
 * Bytes and a length in, a struct or a reason out: no connection, nothing kept, so the
 * fuzz target and the unit tests call them as the request handler does (main.c). */
#ifndef WAPSIM_SPF_REQUEST_H
#define WAPSIM_SPF_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define SPF_ROOT "/SC2012R2/VMM/Microsoft.Management.Odata.svc"

typedef enum spf_resource {
    SPF_RES_VMS = 1,     /* <root>/VirtualMachines */
    SPF_RES_VMCONNECTION /* <root>/VirtualMachines(ID=guid'..',StampId=guid'..')/VMConnection */
} spf_resource;

typedef struct spf_request {
    spf_resource resource;
    char vm_id[37]; /* VMCONNECTION: the ID GUID as written */
    char stamp[37]; /* VMCONNECTION: the StampId GUID as written */
    unsigned status; /* on refusal: 404 (no such resource) or 400 (a malformed key) */
} spf_request;

/* The url's len bytes (the request target): 0 with out->resource set, or -1 with
 * out->status and e saying why. */
int spf_request_parse(const char *url, size_t len, spf_request *out, ws_error *e);
/* VMM's error body {"error":"..."}: its message into msg (n bytes, cut to fit), or
 * "unknown error" (returns -1, e saying why) when the body is not that. */
int spf_vmm_error(const uint8_t *body, size_t len, char *msg, size_t n, ws_error *e);

#endif
