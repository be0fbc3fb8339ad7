/* SPDX-License-Identifier: Apache-2.0 */
/* throttle: the portal's per-source sign-in throttle [model: the values are the lab's;
 * IIS's Dynamic IP Restrictions module does the like for a real portal]. Each client
 * address has a leaky bucket of failed sign-ins: a failure adds one, and the bucket
 * drains THROTTLE_FAILURES per THROTTLE_WINDOW_S. While it holds THROTTLE_FAILURES, a
 * sign-in from that address is answered 429 with Retry-After at once, before any
 * password is hashed: nothing waits on a server thread (the portal once slept 1 s on
 * each failure, holding one of its few threads). The account lockout
 * (lab/accounts.h) guards each account; this guards the portal's CPU against one
 * guessing address. Kept in the portal's memory, as the sessions are: a restart
 * forgets it. Thread-safe. */
#ifndef WAPSIM_PORTAL_THROTTLE_H
#define WAPSIM_PORTAL_THROTTLE_H

#define THROTTLE_FAILURES 20  /* failed sign-ins from one address ... */
#define THROTTLE_WINDOW_S 60  /* ... per this many seconds, after which it waits */
#define THROTTLE_SOURCES 1024 /* addresses remembered; the emptiest bucket is reused first */

/* 0 when peer may try to sign in now; else the whole seconds until it may (>= 1). */
int throttle_wait(const char *peer);
/* A failed sign-in from peer: 1 when this one filled its bucket, the first time since
 * the bucket was last empty (log it then), else 0. */
int throttle_failed(const char *peer);

#endif
