/* SPDX-License-Identifier: Apache-2.0 */
/* eventlog: the lab's event log, one table for every machine, as Windows keeps one
 * per machine: time (the machine's lab clock), machine, channel, source, event id,
 * level and text. Trace blocks (the VMM trace) are records of channel "Trace" whose
 * text spans lines. */
#ifndef WAPSIM_EVENTLOG_H
#define WAPSIM_EVENTLOG_H

#include <stdarg.h>
#include <stdint.h>

#include "lab/state.h"

/* Channels a component writes to, spelt as Windows spells them. The events each
 * one carries are in the catalogue, events.h. */
#define WS_CHANNEL_SYSTEM "System"
#define WS_CHANNEL_APPLICATION "Application"
#define WS_CHANNEL_GATEWAY "Microsoft-Windows-TerminalServices-Gateway/Operational"
#define WS_CHANNEL_GATEWAY_ADMIN "Microsoft-Windows-TerminalServices-Gateway/Admin"
#define WS_CHANNEL_VMM "VMM"
#define WS_CHANNEL_TRACE "Trace"
#define WS_CHANNEL_HYPERV "Microsoft-Windows-Hyper-V-VMMS-Admin"
#define WS_CHANNEL_SPF "Microsoft-ServiceProviderFoundation/Admin" /* [model] */
#define WS_CHANNEL_ADMINAPI "Microsoft-WindowsAzurePack-MgmtSvc-AdminAPI/Operational"
#define WS_CHANNEL_BALANCER "LoadBalancer" /* [model] the appliance's log (lb01) */
#define WS_CHANNEL_SECURITY "Security"
#define WS_CHANNEL_CERT_LIFECYCLE "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"
#define WS_CHANNEL_DNS_CLIENT "Microsoft-Windows-DNS-Client/Operational"

#define WS_LEVEL_INFO "Information"
#define WS_LEVEL_WARNING "Warning"
#define WS_LEVEL_ERROR "Error"

/* Append one record, its text formatted from fmt, stamped with machine's lab clock:
 * 0, or -1 when the state file refused it. The raw writer: components write through
 * the catalogue (ws_event_write in events.h), so each text is spelt once. */
int ws_event(ws_state *st, const char *machine, const char *channel, const char *source, int event_id,
             const char *level, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
int ws_eventv(ws_state *st, const char *machine, const char *channel, const char *source, int event_id,
              const char *level, const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));
/* A trace block (channel Trace, event id 0, level Error): 0 or -1. */
int ws_trace(ws_state *st, const char *machine, const char *source, const char *text);

typedef struct ws_event_rec {
    int64_t id;
    int64_t time_ms;
    const char *machine, *channel, *source, *level, *text;
    int event_id;
} ws_event_rec;

typedef struct ws_event_filter {
    const char *machine; /* NULL: all */
    const char *channel; /* NULL: all */
    int64_t since_ms;    /* 0: all */
    int64_t after_id;    /* 0: all */
} ws_event_filter;

/* The id of the newest event written on machine (NULL: on any machine), 0 when there
 * is none or the state file cannot say; events after it are newer than "now". */
int64_t ws_event_newest_id(ws_state *st, const char *machine);
/* Calls fn for each matching record in order; fn returns non-zero to stop. Every text
 * of a record fn sees is non-NULL. 0; WS_EVENTLOG_DAMAGED when a record is damaged
 * (a NULL column) or the file is corrupt; -1 on another error of the state file. */
#define WS_EVENTLOG_DAMAGED (-3)
int ws_event_foreach(ws_state *st, const ws_event_filter *f, int (*fn)(const ws_event_rec *, void *), void *arg,
                     ws_error *e);

#endif
