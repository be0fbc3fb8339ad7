/* SPDX-License-Identifier: Apache-2.0 */
/* lab_int: what lab.c and lab_init.c share: the default world's machines. */
#ifndef WAPSIM_LAB_INT_H
#define WAPSIM_LAB_INT_H

#include <stddef.h>

typedef struct ws_lab_default_machine {
    const char *name, *fqdn, *public_fqdn, *role;
    int octet; /* the last octet in the lab's /24 */
} ws_lab_default_machine;

extern const ws_lab_default_machine ws_lab_default_machines[];
extern const size_t ws_lab_n_default_machines;

#endif
