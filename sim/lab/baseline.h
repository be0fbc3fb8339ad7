/* SPDX-License-Identifier: Apache-2.0 */
/* baseline: a lab's healthy state kept aside and put back in place (a classroom seat's
 * DIR/seatNN/baseline.db and baseline.hosts, train/classroom.h).
 *
 * Put back in place means: in one transaction of the running lab's own lab.db, every
 * world table's rows are replaced by the baseline's, so the processes that keep running
 * (the seat's portal, whose admin site serves the trainer's page) never see a file
 * swapped under them. What survives a restore:
 *   - exercises: the seat's history (an active attempt is voided by the caller);
 *   - store_generations: the triggers of migration 7 bump every machine whose stores the
 *     restore rewrites, so a process drops the trust it cached (a counter never goes back);
 *   - processes: the supervisor's record of its children (kept for the machines that
 *     remain: deleting a machine would cascade into it);
 *   - lab_meta but its clock offset: the lab's name, subnet, identity (lab_instance) and
 *     classroom stay; the lab clock returns to the baseline's offset.
 * Everything else (machines, certificates, stores, settings, trusted issuers, accounts
 * with their lockouts, subscriptions, VMs, events, tokens, sessions, key access, connects,
 * and any table a later migration adds) is the baseline's afterwards. The lab's hosts file
 * (what the tenant's PC resolves; fabric add-balancer moves names in it) is restored too. */
#ifndef WAPSIM_BASELINE_H
#define WAPSIM_BASELINE_H

#include "lab/state.h"

#define WS_BASELINE_DB "baseline.db"
#define WS_BASELINE_HOSTS "baseline.hosts"

/* Keeps the lab's state now as its baseline, <lab>/baseline.db (VACUUM INTO, mode 0600)
 * and <lab>/baseline.hosts. 0, or -1 with e. */
int ws_baseline_save(ws_state *st, ws_error *e);
/* 1 when the lab has a baseline. */
int ws_baseline_exists(const char *lab_dir);
/* Puts the baseline back in place, as described above; the caller has stopped the
 * processes that must not read the world half-way (all but the portal). Refuses a baseline
 * of another schema version or that is no wapsim file. 0, or -1 with e (nothing changed). */
int ws_baseline_restore(ws_state *st, ws_error *e);
/* 1 when the lab's world tables equal its baseline's (nothing was changed since), 0 when
 * not, -1 with e. */
int ws_baseline_is_fresh(ws_state *st, ws_error *e);

#endif
