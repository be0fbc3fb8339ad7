/* SPDX-License-Identifier: Apache-2.0 */
/* store: each machine's certificate stores, LocalMachine\My and LocalMachine\Root.
 * A certificate in a store is public only or with its private key. A machine builds
 * chains with its own Root store as the only trust anchors, as Windows does with
 * the machine's stores. */
#ifndef WAPSIM_STORE_H
#define WAPSIM_STORE_H

#include <openssl/x509.h>
#include <stdint.h>

#include "lab/state.h"

/* "My" or "Root" (case-insensitive; "Personal" and "TrustedRoot" too) to the
 * canonical name, or NULL. */
const char *ws_store_name(const char *text);

int ws_store_add(ws_state *st, const char *machine, const char *store, const char *cert_name,
                 int with_private_key, ws_error *e);
/* Puts a certificate in a store unless it is there already as asked: a key already
 * there is kept (with_private_key 0 never takes one away). *installed is 1 when the
 * store changed, 0 when it was there. 0, or -1 with e set (not in the vault, no key
 * to import, an unknown machine or store). */
int ws_store_install(ws_state *st, const char *machine, const char *store, const char *cert_name,
                     int with_private_key, int *installed, ws_error *e);
/* WS_NOT_FOUND when the certificate is not in that store. */
int ws_store_remove(ws_state *st, const char *machine, const char *store, const char *cert_name, ws_error *e);
/* 1 when present (and *has_key set if not NULL), 0 when not. */
int ws_store_contains(ws_state *st, const char *machine, const char *store, const char *cert_name, int *has_key);

/* All certificates of one store. Caller frees with sk_X509_pop_free(…, X509_free). */
STACK_OF(X509) *ws_store_certs(ws_state *st, const char *machine, const char *store, ws_error *e);
/* The certificate with this thumbprint in the store, or WS_NOT_FOUND. */
int ws_store_find(ws_state *st, const char *machine, const char *store, const char *thumbprint, X509 **cert,
                  ws_error *e);

/* Build and verify leaf's chain as that machine would: trust anchors from its Root
 * store, intermediates from its My store, at time at (its lab clock). */
int ws_store_verify_chain(ws_state *st, const char *machine, X509 *leaf, int64_t at, ws_error *e);

/* The change counter of machine's certificate stores (state file migration 7): a value
 * that changes, in the writer's transaction, whenever what the machine's My or Root
 * store holds changes (an entry, its private key or the key's access list, or the vault
 * certificate an entry names), and never comes back for that machine in that file. A
 * process may keep what it built from the stores while the value is the same. -1 (e
 * set) when it cannot be read. */
int64_t ws_store_generation(ws_state *st, const char *machine, ws_error *e);

/* One store entry, for listings. */
typedef struct ws_store_entry {
    const char *machine; /* NULL for a vault certificate in no store */
    const char *store;
    const char *cert_name;
    int has_private_key;
} ws_store_entry;

/* Entries matching machine and store (NULL: any), ordered by machine, store, name.
 * Without filters, vault certificates in no store are listed too (machine NULL). */
int ws_store_foreach(ws_state *st, const char *machine, const char *store,
                     int (*fn)(const ws_store_entry *, void *), void *arg, ws_error *e);

#endif
