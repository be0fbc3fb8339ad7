/* SPDX-License-Identifier: Apache-2.0 */
/* names: see names.h. */
#include "base/names.h"

const char *ws_code_name_find(const ws_code_name *t, size_t n, uint32_t code, const char *fallback)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return t[i].name;
    return fallback;
}
