/* SPDX-License-Identifier: Apache-2.0 */
/* events: the catalogue of every event a lab machine writes, one row per event: its
 * id, log (channel), source, level and text template (printf-style). A writer names
 * the row and gives the template's arguments; the text is formatted here, so each
 * event's wording lives once (REFERENCE.md section 6 quotes several of them). Rows
 * are static; nothing here is allocated, so nothing is freed.
 *
 * A name is WS_EV_<log>_<id>, with a suffix when one id is written with several
 * texts. The comment after each name lists the template's arguments, in order: a
 * caller must pass exactly those (the compiler cannot check them, test_events.c
 * checks that every template formats). */
#ifndef WAPSIM_EVENTS_H
#define WAPSIM_EVENTS_H

#include <stdarg.h>
#include <stddef.h>

#include "lab/eventlog.h"
#include "lab/state.h"

typedef enum ws_ev {
    /* System */
    WS_EV_SCM_7036_RUNNING,  /* service display name */
    WS_EV_SCM_7036_STOPPED,  /* service display name */
    WS_EV_SCM_7031,          /* service display name, restarts (int), backoff ms (int) */
    WS_EV_KERNEL_1,          /* new time, old time (both ws_time_format) */
    /* Application */
    WS_EV_APP_1_LAB_CREATED, /* subnet prefix, where the keys came from */
    WS_EV_APP_1_FAILED,      /* the component's message; source: the program, given by the writer */
    WS_EV_APP_1_FABRIC,      /* what joined or left the fabric (one sentence) */
    WS_EV_PORTAL_100,        /* tenant, peer address */
    WS_EV_PORTAL_101,        /* user (printed to 64 chars), peer address */
    WS_EV_PORTAL_101_LOCKED, /* user (printed to 64 chars), peer address */
    WS_EV_PORTAL_429,        /* peer address, failed sign-ins (int), seconds (int) */
    WS_EV_PORTAL_403,        /* tenant, VM id (printed to 64 chars) */
    WS_EV_ADMIN_100,         /* the admin site: administrator, peer address */
    WS_EV_ADMIN_101,         /* user (printed to 64 chars), peer address */
    WS_EV_ADMIN_101_LOCKED,  /* user (printed to 64 chars), peer address */
    WS_EV_ADMIN_429,         /* peer address, failed sign-ins (int), seconds (int) */
    /* Service Provider Foundation */
    WS_EV_SPF_1_VMM_UNREACHABLE, /* VMM machine, error */
    WS_EV_SPF_1_VMM_ERROR,       /* VMM's message */
    WS_EV_SPF_401,               /* peer address, user (printed to 64 chars) */
    WS_EV_SPF_401_LOCKED,        /* peer address, user (printed to 64 chars) */
    WS_EV_SPF_403,               /* tenant, VM id */
    /* VMM */
    WS_EV_VMM_801_BAD_ID,          /* the ID asked for (printed to 64 chars) */
    WS_EV_VMM_801_NOT_FOUND,       /* VM id */
    WS_EV_VMM_1604,                /* peer address */
    WS_EV_VMM_1604_CREDENTIALS,    /* peer address, why the credentials are refused */
    WS_EV_VMM_12001_NOT_SET,       /* parameter, parameter */
    WS_EV_VMM_12001_NOT_LOADED,    /* parameter, certificate, error */
    WS_EV_VMM_12001_NO_KEY,        /* parameter, certificate, thumbprint */
    WS_EV_VMM_12001_EXPIRED,       /* parameter, certificate, thumbprint, not-after time */
    WS_EV_VMM_12001_NOT_YET,       /* parameter, certificate, thumbprint, not-before time */
    WS_EV_VMM_12001_KEY_USAGE,     /* parameter, certificate, thumbprint */
    WS_EV_VMM_12001_EKU,           /* parameter, certificate, thumbprint */
    WS_EV_VMM_12001_NO_ADDRESS,    /* host, identification mode */
    WS_EV_VMM_12001_NO_TOKENS,     /* host identifier, port (int) */
    WS_EV_VMM_12001_RDP_FILE,      /* VM name, error */
    WS_EV_VMM_12001_KEY_ACCESS,    /* parameter, certificate, thumbprint, store, service account, why */
    WS_EV_VMM_12002_KEYSET,        /* certificate, thumbprint, provider's message */
    WS_EV_VMM_12002_CSP,           /* certificate, thumbprint, CSP, provider's message, HRESULT (uint32_t) */
    WS_EV_VMM_12002_FORMAT,        /* certificate, thumbprint */
    WS_EV_VMM_12003,               /* host, certificate, thumbprint, the host's reason */
    WS_EV_VMM_12004,               /* host, error */
    WS_EV_VMM_12004_READ_HOST,     /* host, host FQDN, port (int), error */
    WS_EV_VMM_12010,               /* VM name, VM id, host, host identifier, valid-until time */
    WS_EV_VMM_12020,               /* summary of the settings changed */
    WS_EV_VMM_12021,               /* host, certificate, thumbprint, "installed in"/"already in", thumbprint */
    WS_EV_VMM_TRACE_CRYPTO,        /* the exception message (REFERENCE.md section 6 trace block) */
    /* RD Gateway, Operational */
    WS_EV_GATEWAY_200, /* user, client computer */
    WS_EV_GATEWAY_201, /* user, client computer, HRESULT (uint32_t), its name, reason */
    WS_EV_GATEWAY_301, /* user, client computer, resource, code (uint32_t), reason */
    WS_EV_GATEWAY_302, /* user, client computer, resource */
    WS_EV_GATEWAY_303, /* user, client computer, resource, bytes sent and received (unsigned long long),
                        * seconds (long long) */
    WS_EV_GATEWAY_304, /* user, client computer, resource, code (uint32_t), reason */
    WS_EV_GATEWAY_103, /* the error: "Keyset does not exist" and who may not read which key */
    /* RD Gateway, Admin */
    WS_EV_GATEWAY_ADMIN_1010, /* certificate, thumbprint, old certificate */
    WS_EV_GATEWAY_ADMIN_1011, /* new thumbprints, old thumbprints */
    WS_EV_GATEWAY_ADMIN_210,  /* RDG-Connection-Id, client computer */
    /* Schannel (System) */
    WS_EV_SCHANNEL_36888, /* TLS alert (int), internal error state (int), peer address, what arrived */
    /* Windows Azure Pack admin API */
    WS_EV_ADMINAPI_1100, /* gateway FQDN, old FQDN */
    /* Load balancer (lb01, wapsim-balancer) [model] */
    WS_EV_LB_100, /* public name, address, port (int), configuration text */
    WS_EV_LB_101, /* "added"/"changed"/"removed", public name, address, port (int), configuration text */
    WS_EV_LB_110, /* member, address, port (int), reason, seconds marked down (int) */
    WS_EV_LB_111, /* member, address, port (int) */
    WS_EV_LB_120, /* peer address, which limit, the limit (int) */
    WS_EV_LB_121, /* peer address, the last member's error */
    /* Certificate lifecycle */
    WS_EV_CERT_1004, /* store, subject, thumbprint */
    WS_EV_CERT_1006, /* store, subject, thumbprint, "with its private key"/"public key only" */
    /* DNS Client */
    WS_EV_DNS_1000, /* the view now, the view before (ws_dns_view_summary) */
    /* Hyper-V VMMS */
    WS_EV_HYPERV_14090,                    /* peer address */
    WS_EV_HYPERV_14090_CREDENTIALS,        /* peer address, why the credentials are refused */
    WS_EV_HYPERV_14100,                    /* thumbprint, error */
    WS_EV_HYPERV_14160,                    /* peer, VM label, " on "/": no such VM", host or "", pcb */
    WS_EV_HYPERV_14161,                    /* VM label, peer, signer, until, pcb, version, request version
                                            * (unsigned) */
    WS_EV_HYPERV_14162_TOKEN,              /* VM label, reason, peer, pcb, result name, result (unsigned),
                                            * version (unsigned) */
    WS_EV_HYPERV_14162_NO_TOKEN,           /* VM label, peer, pcb, requested protocols (unsigned), why,
                                            * error info name, error info (unsigned) */
    WS_EV_HYPERV_14162_ADMIN,              /* VM label, why, account, peer, pcb, error info name,
                                            * error info (unsigned) */
    WS_EV_HYPERV_14163_CLOSED,             /* VM label, peer, error, pcb */
    WS_EV_HYPERV_14163_CLOSED_EARLY,       /* peer, error */
    WS_EV_HYPERV_14163_SETTING,            /* setting name, its value */
    WS_EV_HYPERV_14164_CLOSED,             /* VM label, peer, error, pcb */
    WS_EV_HYPERV_14164_NO_TLS,             /* VM label, peer */
    WS_EV_HYPERV_14164_SESSION_CLOSED,     /* VM label, peer, error, pcb (a warning, as a session ends) */
    WS_EV_HYPERV_14165,                    /* the certificate's error */
    WS_EV_HYPERV_14165_CLOSED,             /* VM label, peer, the certificate's error, pcb */
    WS_EV_HYPERV_14166,                    /* peer, the limit (int) */
    WS_EV_HYPERV_14167,                    /* session (long long), VM label, peer, reason, frames (long) */
    WS_EV_HYPERV_14167_BEFORE_SESSION,     /* session (long long), VM label, peer, reason, step */
    WS_EV_HYPERV_14167_BEFORE_CLIENT_INFO, /* VM label, peer, reason, step, pcb */
    WS_EV_HYPERV_14168,                    /* session (long long), VM label, peer, who, client name,
                                            * build (unsigned), " It took ..." or "" */
    WS_EV_HYPERV_14170_RDSTLS_VERSION,     /* new version, old version */
    WS_EV_HYPERV_14170_TRUSTED_ISSUERS,    /* VMM machine, new thumbprints, old thumbprints */
    WS_EV_HYPERV_14170_AUTH_CERT,          /* new name, new thumbprint, old name, old thumbprint */
    /* Security */
    WS_EV_SECURITY_4740, /* machine (the subject, "NAME$"), account, caller computer */
    WS_EV_SECURITY_4767, /* who unlocked it, account */
    WS_EV_SECURITY_4670, /* who (subject), certificate, thumbprint, store, the change, old list, new list */
    /* Schannel (System) */
    WS_EV_SCHANNEL_36870, /* error code (uint32_t), internal error state (int), SSPI client process, pid (int) */
    WS_EV_COUNT
} ws_ev;

typedef struct ws_event_def {
    ws_ev ev;            /* the row's own name: rows are in enum order */
    const char *name;    /* the name as text, "WS_EV_GATEWAY_201", for tests and messages */
    int event_id;        /* 0..65535, as Windows numbers them; 0 for a trace block */
    const char *channel; /* the log, a WS_CHANNEL_* of eventlog.h */
    const char *source;  /* the provider; NULL: the writing program, named by the writer */
    const char *level;   /* WS_LEVEL_* */
    const char *text;    /* printf template; arguments as listed in ws_ev */
    const char *origin;  /* where id, source and text come from: "REFERENCE.md section N ..." and/or
                          * "[model] ..." (what is the lab's own choice) */
} ws_event_def;

/* The row of ev, or NULL when ev is not a catalogue name. Static: never freed. */
const ws_event_def *ws_event_def_get(ws_ev ev);

/* Format ev's template with the arguments, into out (n bytes, cut as vsnprintf cuts)
 * and return the text's full length, or -1 when ev is not a catalogue name (out is
 * then ""). The caller passes the arguments the template needs (see ws_ev). */
int ws_event_vformat(ws_ev ev, char *out, size_t n, va_list ap);
int ws_event_format(ws_ev ev, char *out, size_t n, ...);

/* Write ev on machine's log, its text formatted from the arguments: 0, or -1 when ev
 * is not a catalogue name or the state file refused the write. The caller passes the
 * arguments the template needs; rows without a source need ws_event_put. */
int ws_event_write(ws_state *st, const char *machine, ws_ev ev, ...);

/* Write ev with a text the caller already formatted with ws_event_vformat (to log
 * it elsewhere too, or cut to its own buffer). source NULL: the row's. 0 or -1. */
int ws_event_put(ws_state *st, const char *machine, ws_ev ev, const char *source, const char *text);

#endif
