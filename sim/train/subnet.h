/* SPDX-License-Identifier: Apache-2.0 */
/* subnet: the loopback subnet of a scenario's lab, one no other lab on this machine
 * uses. Scenario labs live in 127.160.0.0 - 127.191.255.0, away from the subnets lab
 * init picks for hand-made labs (127.64 - 127.126). Runners agree through a lock file
 * per subnet in /tmp/wapsim-subnets-UID (whatever $TMPDIR says, so runners with
 * different TMPDIRs share it), held with flock until released or until the process
 * ends; labs started by hand are seen with ws_subnet_in_use. The lock is the caller's,
 * released with ws_subnet_lock_release. */
#ifndef WAPSIM_SUBNET_H
#define WAPSIM_SUBNET_H

typedef struct ws_subnet_lock {
    int fd;          /* the held lock file, or -1 */
    char path[4300]; /* its path, "" when none */
    char subnet[32]; /* "127.X.Y.0/24" */
} ws_subnet_lock;

/* Takes a free subnet, trying from base + index on; 0, or -1 when none of the
 * subnets tried is free. */
int ws_subnet_lock_take(unsigned base, int index, ws_subnet_lock *l);
/* Gives it back (nothing when none is held). */
void ws_subnet_lock_release(ws_subnet_lock *l);

#endif
