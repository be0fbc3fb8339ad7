/* SPDX-License-Identifier: Apache-2.0 */
/* names: the symbolic name of a protocol code (a PDU type, an error code) from a
 * static table of {code, name} pairs. Nothing is allocated; the names are the table's. */
#ifndef WAPSIM_NAMES_H
#define WAPSIM_NAMES_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_code_name {
    uint32_t code;
    const char *name;
} ws_code_name;

/* A row whose name is its constant's, less the prefix: WS_CODE_ROW(WS_TSGU_, DATA) is
 * {WS_TSGU_DATA, "DATA"}, so a name is spelled once. */
#define WS_CODE_ROW(prefix, name) {prefix##name, #name}

/* The name of code in the n entries of t, or fallback when none has it. */
const char *ws_code_name_find(const ws_code_name *t, size_t n, uint32_t code, const char *fallback);

/* The same over a whole static array. */
#define WS_CODE_NAME(table, code, fallback) \
    ws_code_name_find((table), sizeof(table) / sizeof((table)[0]), (code), (fallback))

#endif
