/* SPDX-License-Identifier: Apache-2.0 */
/* keyacl: a private key's access list on a machine (table key_access, state migration
 * 5), as `certutil -store -v My` and certlm.msc's "All Tasks > Manage Private Keys"
 * show it: who may use the key of a certificate held with its key in one of the
 * machine's stores, and with which right ("Read" or "Full Control"). A service signs
 * or serves TLS with a key only if its logon account may use it (ws_keyacl_can_use,
 * the one rule VMM, the gateway and diagnose share).
 *
 * What Windows sets and who is in it, with sources (the README's "Private keys and
 * their access lists" names them all):
 * - An import into LocalMachine\My (Import-PfxCertificate, certutil -importpfx) leaves
 *   "Only SYSTEM account and Administrators group" with access (Azure/azure-powershell
 *   issue 22480, 2024-07-02; the MachineKeys folder's defaults, KB 278381: SYSTEM and
 *   Administrator Full Control); both Full Control is [model].
 * - "Manage Private Keys" adds or removes an account with Read or Full Control (RD
 *   Gateway event 103's resolution, technet ee907376); the event the lab writes for
 *   it is [model] (Security 4670, "Permissions on an object were changed").
 * - The RD Gateway's logon account is NT AUTHORITY\NETWORK SERVICE [model: the sources
 *   found do not name TSGateway's account; Remote Desktop's own TLS key needs
 *   NT Authority\NetworkService (AskDS, "Remote Desktop Services enrolling for TLS
 *   certificate from an Enterprise CA")]. Mapping a certificate in RD Gateway Manager
 *   gives it Read [inference from event 103's own advice: "To resolve this issue, bind
 *   (map) a valid SSL certificate by using RD Gateway Manager"].
 * - VMM runs as its machine's service logon (accounts.h, CONTOSO\svc-vmm), a member of
 *   the VMM server's local Administrators [model: VMM's installer needs local
 *   administrator rights (technet dd548295) and its Administrator role takes the local
 *   Administrators (technet hh341475); the service account's own membership is not
 *   stated there]. Local Administrators are a machine's setting local_administrators
 *   (comma-separated accounts) [model].
 *
 * A key whose list the lab never recorded (no row at all: a lab made before lists were
 * kept, or a store entry made by a command that records none) is usable by every
 * service of its machine [model]; `cert show` says "not recorded". A recorded list is
 * never emptied (the last entry cannot be revoked [model]: Windows would allow it and
 * leave the key unusable to all). Rows are owned by the state file; nothing here is
 * allocated except ws_keyacl_list's array. */
#ifndef WAPSIM_KEYACL_H
#define WAPSIM_KEYACL_H

#include <cJSON.h>
#include <stddef.h>

#include "lab/state.h"

#define WS_ACCOUNT_SYSTEM "NT AUTHORITY\\SYSTEM"
#define WS_ACCOUNT_NETWORK_SERVICE "NT AUTHORITY\\NETWORK SERVICE"
#define WS_ACCOUNT_ADMINISTRATORS "BUILTIN\\Administrators"
#define WS_ACCOUNT_EVERYONE "Everyone"
#define WS_ACCOUNT_AUTHENTICATED_USERS "NT AUTHORITY\\Authenticated Users"

#define WS_KEYACL_READ "Read"
#define WS_KEYACL_FULL "Full Control"

#define WS_SET_LOCAL_ADMINS "local_administrators" /* a machine's local Administrators, comma-separated [model] */

#define WS_KEYACL_ACCOUNT_MAX 128

/* "read" / "full" / "Full Control" (any case) to WS_KEYACL_READ or WS_KEYACL_FULL;
 * NULL for anything else. */
const char *ws_keyacl_rights_name(const char *text);

/* An account as the lab spells it: the well-known names canonical ("network service",
 * "NT AUTHORITY\NetworkService" -> WS_ACCOUNT_NETWORK_SERVICE; "SYSTEM", "LocalSystem";
 * "Administrators"; "Everyone"; "Authenticated Users"), any other "DOMAIN\name" or
 * "name" as given. 0 with out (WS_KEYACL_ACCOUNT_MAX bytes) filled, or -1 with e naming
 * the bad text (empty, too long, a control character or a comma). */
int ws_keyacl_account_canon(const char *text, char out[WS_KEYACL_ACCOUNT_MAX], ws_error *e);

/* The account machine's services log on as: its service_account setting (accounts.h)
 * when it has one, else by role: gateway NETWORK SERVICE, anything else SYSTEM
 * [model]. 0, or -1 with e for an unknown machine. */
int ws_keyacl_service_account(ws_state *st, const char *machine, char out[WS_KEYACL_ACCOUNT_MAX], ws_error *e);

/* 1 when account is in machine's local Administrators (SYSTEM always is), else 0. */
int ws_keyacl_local_admin(ws_state *st, const char *machine, const char *account);

/* The access list Windows gives a key imported into LocalMachine (SYSTEM and
 * Administrators, Full Control), replacing any rows the entry had. The entry must be
 * in the store with its key: else -1 with e. Callers make it part of their transaction. */
int ws_keyacl_set_import_default(ws_state *st, const char *machine, const char *store, const char *cert,
                                 ws_error *e);

/* Manage Private Keys: give account rights (WS_KEYACL_READ or WS_KEYACL_FULL), replacing
 * what it had. An unrecorded list is first recorded as the import default. *changed 1
 * when the list changed. 0, or -1 with e (not in that store with its key). */
int ws_keyacl_grant(ws_state *st, const char *machine, const char *store, const char *cert, const char *account,
                    const char *rights, int *changed, ws_error *e);
/* Take account's entry away: 0; WS_NOT_FOUND when it has none; -1 with e (no key
 * there, or the last entry). */
int ws_keyacl_revoke(ws_state *st, const char *machine, const char *store, const char *cert, const char *account,
                     ws_error *e);

typedef struct ws_keyacl_entry {
    char account[WS_KEYACL_ACCOUNT_MAX];
    char rights[16]; /* WS_KEYACL_READ or WS_KEYACL_FULL */
} ws_keyacl_entry;

/* The recorded list, in the order certutil prints it (SYSTEM, Administrators, then by
 * name): 0 with *out (caller frees; NULL when *n is 0) and *n; -1 with e. */
int ws_keyacl_list(ws_state *st, const char *machine, const char *store, const char *cert, ws_keyacl_entry **out,
                   size_t *n, ws_error *e);

/* The recorded list as JSON, [{"account","rights"}] in ws_keyacl_list's order, as
 * `cert show --json` and a deployment file give it: 0 with *out (caller frees; NULL
 * when the lab never recorded one); -1 with e. */
int ws_keyacl_json(ws_state *st, const char *machine, const char *store, const char *cert, cJSON **out,
                   ws_error *e);

/* One line for logs and evidence: "NT AUTHORITY\SYSTEM: Full Control, ..." or
 * "not recorded". */
void ws_keyacl_describe(ws_state *st, const char *machine, const char *store, const char *cert, char *out,
                        size_t n);

/* The rule: may account use (sign, decrypt with) the private key of cert in machine's
 * store? 1 yes; 0 no, with why (one line naming the account, the list and whether the
 * account is a local administrator); the certificate not being there with its key is
 * 0 too ("no private key"). An entry grants when it names the account, or is
 * Administrators and the account is a local administrator of machine, or is Everyone
 * or Authenticated Users. Read suffices to use a key. */
int ws_keyacl_can_use(ws_state *st, const char *machine, const char *store, const char *cert, const char *account,
                      ws_error *why);

#endif
