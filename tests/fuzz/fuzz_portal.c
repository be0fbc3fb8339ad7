/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_portal: what the portal parses from a browser (portal/request.h): the input as
 * the sign-in form, as the sign-in JSON, and (up to its first NUL) as the path after
 * /api/ of a console request, as a VM dashboard's path and as a Content-Type. An
 * accepted sign-in must hold bounded, NUL-free fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../portal/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    portal_login l;
    ws_error e;
    if (portal_login_form(data, size, &l, &e) == 0 &&
        (strlen(l.user) > PORTAL_USER_MAX || strlen(l.password) > PORTAL_PASSWORD_MAX))
        abort();
    if (portal_login_json(data, size, &l, &e) == 0 &&
        (strlen(l.user) > PORTAL_USER_MAX || strlen(l.password) > PORTAL_PASSWORD_MAX))
        abort();
    char *path = malloc(size + 1), vm_id[PORTAL_VM_ID_MAX + 1];
    if (!path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    if (portal_console_path(path, vm_id) && strlen(vm_id) > PORTAL_VM_ID_MAX)
        abort();
    if (portal_vm_path(path, vm_id) && (strlen(vm_id) > PORTAL_VM_ID_MAX || !vm_id[0] || strchr(vm_id, '/')))
        abort();
    (void)portal_form_type(path);
    free(path);
    return 0;
}
