/* SPDX-License-Identifier: Apache-2.0 */
/* diagnose: see diagnose.h. The checks run in this order, each a function of its own:
 *   1. processes      the supervisor and each machine's service (ws_lab_status)
 *   2. clocks         each machine's clock against the lab's, with the token TTL as bound
 *   3. VMM            the VMConnectGatewayCertificate and VMConnectHyperVCertificate as
 *                     VMM holds them: configured, key, validity, key usage, EKU, CSP
 *                     (certreq.h, role vmm)
 *   4. hosts          each host's agent (as VMM, from its address): the certificate in
 *                     TrustedIssuerCertificateHashes and LocalMachine\My; the chain to its
 *                     LocalMachine\Root on its clock (store.h)
 *   5. gateway trust  FedAuthSettings.TrustedIssuerCertificates and the gateway's stores
 *                     (4 and 5 are steps of the token rule, lab/fedauth.h, each reported
 *                     on its own)
 *   6. gateway TLS    a TLS handshake from the tenant's PC: the served certificate against
 *                     the bound one (stale), then the bound one (certreq.h, role gateway,
 *                     with the cloud's RD Gateway FQDN), its name in the PC's hosts file,
 *                     and its chain to the PC's Root
 *   7. host TLS       each host's console certificate as the tenant's PC judges it (the
 *                     client's rule, wire/rdpfile.h ws_rdp_server_auth) for the name VMM puts
 *                     in the .rdp file (VMConnectHostIdentificationMode), with the PC's Root
 * Validity is judged on the lab's clock (the reference time); a machine whose own clock
 * is off is a clock-skew finding, and what only its clock breaks is left to that one. */
#include "train/diagnose.h"
#include "train/diagnose_int.h"

#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/net.h"
#include "crypto/cert.h"
#include "crypto/certreq.h"
#include "crypto/tls.h"
#include "lab/clock.h"
#include "lab/dns.h"
#include "lab/fedauth.h"
#include "crypto/csp.h"
#include "crypto/tls.h"
#include "wire/rdpfile.h"
#include "svc/httpc.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "svc/supervisor.h"
#include "lab/vault.h"
#include "lab/vm.h"

#define AGENT_PORT 5985 /* the host's VMM agent (WinRM in the product) */
#define DEFAULT_TIMEOUT_MS 3000

const char *const ws_diag_ids[] = {
    WS_DIAG_LAB_DOWN,
    WS_DIAG_PROCESS_DOWN,
    WS_DIAG_CLOCK_SKEW,
    WS_DIAG_VMM_CERT_MISSING,
    WS_DIAG_VMM_CERT_NO_KEY,
    WS_DIAG_VMM_CERT_EXPIRED,
    WS_DIAG_VMM_CERT_NOT_YET_VALID,
    WS_DIAG_VMM_CERT_EXPIRES_SOON,
    WS_DIAG_VMM_CERT_KEY_USAGE,
    WS_DIAG_VMM_CERT_EKU,
    WS_DIAG_VMM_CERT_CSP,
    WS_DIAG_VMM_CERT_KEY_SIZE,
    WS_DIAG_VMM_CERT_SIGNATURE_ALGORITHM,
    WS_DIAG_VMM_HOST_ID_MODE,
    WS_DIAG_HOST_AGENT_UNREACHABLE,
    WS_DIAG_HOST_TRUST_LIST_STALE,
    WS_DIAG_VMM_CERT_NOT_IN_HOST_MY,
    WS_DIAG_VMM_CERT_NOT_TRUSTED_ON_HOST,
    WS_DIAG_GATEWAY_ISSUER_NOT_TRUSTED,
    WS_DIAG_VMM_CERT_NOT_TRUSTED_ON_GATEWAY,
    WS_DIAG_GATEWAY_CERT_MISSING,
    WS_DIAG_GATEWAY_TLS_FAILED,
    WS_DIAG_GATEWAY_CERT_STALE,
    WS_DIAG_GATEWAY_CERT_EXPIRED,
    WS_DIAG_GATEWAY_CERT_NOT_YET_VALID,
    WS_DIAG_GATEWAY_CERT_EXPIRES_SOON,
    WS_DIAG_GATEWAY_CERT_EKU,
    WS_DIAG_GATEWAY_CERT_UNTRUSTED,
    WS_DIAG_GATEWAY_CERT_WILDCARD,
    WS_DIAG_GATEWAY_CERT_KEY_SIZE,
    WS_DIAG_GATEWAY_CERT_SIGNATURE_ALGORITHM,
    WS_DIAG_GATEWAY_FQDN_MISSING,
    WS_DIAG_GATEWAY_FQDN_DNS,
    WS_DIAG_GATEWAY_FQDN_MISMATCH,
    WS_DIAG_GATEWAY_CERT_NO_DNS_SAN,
    WS_DIAG_HOST_CERT_MISSING,
    WS_DIAG_HOST_CERT_EXPIRED,
    WS_DIAG_HOST_CERT_EKU,
    WS_DIAG_HOST_CERT_NAME_MISMATCH,
    WS_DIAG_HOST_CERT_UNTRUSTED,
    WS_DIAG_VMM_CERT_KEY_ACCESS,
    WS_DIAG_GATEWAY_CERT_KEY_ACCESS,
    WS_DIAG_GATEWAY_CANNOT_RESOLVE_HOST,
    WS_DIAG_BALANCER_TLS_OFFLOAD,
    WS_DIAG_BALANCER_NO_AFFINITY,
    WS_DIAG_PORTAL_CERT_UNTRUSTED,
    WS_DIAG_SPF_CERT_UNTRUSTED,
    NULL,
};

int ws_diag_id_known(const char *id)
{
    for (const char *const *p = ws_diag_ids; id && *p; p++)
        if (strcmp(*p, id) == 0)
            return 1;
    return 0;
}

const char *ws_diag_severity_name(ws_diag_severity s)
{
    return s == WS_DIAG_WARNING ? "warning" : "error";
}

/* ---- findings ---- */

char *ws_diag_vformat(const char *fmt, va_list ap)
{
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        abort();
    return out;
}

ws_finding *ws_diag_add(diag *g, const char *id, const char *machine, ws_diag_severity sev, const char *fmt, ...)
{
    ws_diagnosis *d = g->d;
    ws_finding *grown = realloc(d->findings, (size_t)(d->n + 1) * sizeof *grown);
    if (!grown)
        abort();
    d->findings = grown;
    ws_finding *f = &d->findings[d->n++];
    memset(f, 0, sizeof *f);
    f->id = id;
    snprintf(f->machine, sizeof f->machine, "%s", machine);
    f->severity = sev;
    va_list ap;
    va_start(ap, fmt);
    f->summary = ws_diag_vformat(fmt, ap);
    va_end(ap);
    f->evidence = ws_strdup("");
    return f;
}

void ws_diag_evidence(ws_finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *more = ws_diag_vformat(fmt, ap);
    va_end(ap);
    if (f->evidence[0]) {
        char *joined = ws_printf("%s %s", f->evidence, more);
        free(f->evidence);
        free(more);
        f->evidence = joined;
    } else {
        free(f->evidence);
        f->evidence = more;
    }
}

/* Appends the text of fmt to l. */
__attribute__((format(printf, 2, 0))) static void vadd(ws_strv *l, const char *fmt, va_list ap)
{
    char *s = ws_diag_vformat(fmt, ap);
    if (ws_strv_add(l, s) != 0)
        abort();
    free(s);
}

void ws_diag_fix(ws_finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(&f->fix, fmt, ap);
    va_end(ap);
}

void ws_diag_checked(diag *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(&g->d->checks, fmt, ap);
    va_end(ap);
}

void ws_diag_drop(diag *g, const char *id, const char *machine)
{
    ws_diagnosis *d = g->d;
    for (int i = 0; i < d->n; i++) {
        ws_finding *f = &d->findings[i];
        if (strcmp(f->id, id) != 0 || strcmp(f->machine, machine) != 0)
            continue;
        free(f->summary);
        free(f->evidence);
        ws_strv_free(&f->fix);
        memmove(f, f + 1, (size_t)(d->n - i - 1) * sizeof *f);
        d->n--;
        i--;
    }
}

void ws_diagnosis_free(ws_diagnosis *d)
{
    for (int i = 0; i < d->n; i++) {
        ws_finding *f = &d->findings[i];
        free(f->summary);
        free(f->evidence);
        ws_strv_free(&f->fix);
    }
    free(d->findings);
    ws_strv_free(&d->checks);
    memset(d, 0, sizeof *d);
}

cJSON *ws_diagnosis_json(const ws_diagnosis *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "findings");
    for (int i = 0; i < d->n; i++) {
        const ws_finding *f = &d->findings[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "id", f->id);
        cJSON_AddStringToObject(j, "machine", f->machine);
        cJSON_AddStringToObject(j, "severity", ws_diag_severity_name(f->severity));
        cJSON_AddStringToObject(j, "summary", f->summary);
        cJSON_AddStringToObject(j, "evidence", f->evidence);
        cJSON *fx = cJSON_AddArrayToObject(j, "fix");
        for (int k = 0; k < f->fix.n; k++)
            cJSON_AddItemToArray(fx, cJSON_CreateString(f->fix.v[k]));
        cJSON_AddItemToArray(arr, j);
    }
    cJSON *checks = cJSON_AddArrayToObject(o, "checks");
    for (int i = 0; i < d->checks.n; i++)
        cJSON_AddItemToArray(checks, cJSON_CreateString(d->checks.v[i]));
    return o;
}

/* ---- small helpers ---- */

const char *ws_diag_when(int64_t t, char buf[32])
{
    ws_time_format(t, buf, 32);
    return buf;
}

/* "1h", "31d2h", "1m30s", "45s" */
void ws_diag_duration(int64_t s, char *out, size_t n)
{
    if (s < 0)
        s = -s;
    if (s >= 86400)
        snprintf(out, n, "%" PRId64 "d%" PRId64 "h", s / 86400, (s % 86400) / 3600);
    else if (s >= 3600)
        snprintf(out, n, "%" PRId64 "h%" PRId64 "m", s / 3600, (s % 3600) / 60);
    else if (s >= 60)
        snprintf(out, n, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
    else
        snprintf(out, n, "%" PRId64 "s", s);
    /* Drop a zero tail: "1h0m" -> "1h", "31d0h" -> "31d". */
    size_t len = strlen(out);
    if (len > 2 && out[len - 2] == '0' && (out[len - 3] < '0' || out[len - 3] > '9'))
        out[len - 2] = '\0';
}

/* A PowerShell word: quoted when it holds spaces. */
char *ws_diag_q(const char *s, char *buf, size_t n)
{
    if (strpbrk(s, " \t'\\,") == NULL && *s)
        snprintf(buf, n, "%s", s);
    else
        snprintf(buf, n, "\"%s\"", s);
    return buf;
}

/* A word of a wapsim fix line, quoted so that a POSIX shell and `diagnose --fix`
 * (train/repair.h) both read it back as s: bare when plain, in double quotes when only
 * spaces and commas need it ("CN=Remote Console Connect"), else in single quotes. */
char *ws_diag_shq(const char *s, char *buf, size_t n)
{
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-") == strlen(s))
        snprintf(buf, n, "%s", s);
    else if (!strpbrk(s, "\"$`\\!"))
        snprintf(buf, n, "\"%s\"", s);
    else {
        size_t k = 0;
        buf[k++] = '\'';
        for (const char *p = s; *p && k + 6 < n; p++) {
            if (*p == '\'') {
                memcpy(buf + k, "'\\''", 4);
                k += 4;
            } else {
                buf[k++] = *p;
            }
        }
        buf[k++] = '\'';
        buf[k] = '\0';
    }
    return buf;
}

/* A certificate name for a fix line that makes a new certificate: base-new, or base-new2,
 * base-new3, ... when the vault has that already (a fix line runs as printed, so the
 * name must be free). At most 64 characters, the vault's limit. */
void ws_diag_new_cert_name(diag *g, const char *base, char *out, size_t n)
{
    char stem[56];
    snprintf(stem, sizeof stem, "%s", base);
    snprintf(out, n, "%s-new", stem);
    for (int i = 2; i < 100 && ws_vault_exists(g->st, out); i++)
        snprintf(out, n, "%s-new%d", stem, i);
}

int ws_diag_machine_down(const diag *g, const char *name)
{
    for (int i = 0; i < g->ndown; i++)
        if (strcmp(g->down[i], name) == 0)
            return 1;
    return 0;
}

int ws_diag_host_selected(const diag *g, const char *name)
{
    return !g->only_host || strcmp(g->only_host, name) == 0;
}

/* Short description of a certificate: "vmm-console (CN=..., thumbprint ..., valid until ...)";
 * a stand-in's thumbprint names the customer's ("... (stand-in for 8F3A...)"). */
char *ws_diag_describe(ws_state *st, X509 *c, const char *name)
{
    char tp[41], nb[32], na[32], vname[128] = "", tpd[160];
    ws_cert_thumbprint(c, tp);
    if (!name && ws_vault_name_by_thumbprint(st, tp, vname, sizeof vname, NULL) == 0)
        name = vname;
    ws_vault_describe_thumbprint(st, tp, tpd, sizeof tpd);
    char *subject = ws_cert_subject(c);
    char *out = ws_printf("%s%s(%s, thumbprint %s, valid %s to %s)", name ? name : "", name ? " " : "", subject, tpd,
                          ws_diag_when(ws_cert_not_before(c), nb), ws_diag_when(ws_cert_not_after(c), na));
    free(subject);
    return out;
}

void ws_diag_thumbprint(ws_state *st, const char *tp, char *out, size_t n)
{
    char name[128], desc[160];
    size_t len = strlen(tp);
    ws_vault_describe_thumbprint(st, tp, desc, sizeof desc);
    if (ws_vault_name_by_thumbprint(st, tp, name, sizeof name, NULL) != 0)
        snprintf(out, n, "%s", desc);
    else if (strlen(desc) > len + 2) /* "TP (stand-in for ORIG)" */
        snprintf(out, n, "%s (%s, %s", tp, name, desc + len + 2);
    else
        snprintf(out, n, "%s (%s)", tp, name);
}

void ws_diag_vault_root_of(ws_state *st, X509 *c, char *out, size_t n)
{
    out[0] = '\0';
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT name, der FROM certificates ORDER BY name", NULL);
    if (!s)
        return;
    X509 *cur = X509_dup(c);
    for (int depth = 0; depth < 6 && cur && !ws_cert_self_signed(cur); depth++) {
        X509 *next = NULL;
        sqlite3_reset(s);
        while (!next && sqlite3_step(s) == SQLITE_ROW) {
            X509 *cand = ws_cert_from_der(sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1));
            if (cand && X509_cmp(cand, cur) != 0 && X509_check_issued(cand, cur) == X509_V_OK) {
                next = cand;
                snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
            } else {
                X509_free(cand);
            }
        }
        X509_free(cur);
        cur = next;
        if (!next)
            out[0] = '\0';
    }
    X509_free(cur);
    sqlite3_finalize(s);
}

/* The certificate names of one store, "a, b, c" (or "(empty)"). */
char *ws_diag_store_names(ws_state *st, const char *machine, const char *store)
{
    sqlite3_stmt *s = ws_state_prepare(
        st, "SELECT group_concat(certificate, ', ') FROM (SELECT certificate FROM store_entries WHERE machine = ? AND"
            " store = ? ORDER BY certificate)",
        NULL);
    char *out = NULL;
    if (s) {
        sqlite3_bind_text(s, 1, machine, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, store, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            out = ws_strdup((const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    return out ? out : ws_strdup("(empty)");
}

static int collect_machine(const ws_machine *m, void *arg)
{
    diag *g = arg;
    if (g->nmachines < WS_DIAG_MAX_MACHINES)
        g->machines[g->nmachines++] = *m;
    return 0;
}

const ws_machine *ws_diag_machine_named(const diag *g, const char *name)
{
    for (int i = 0; i < g->nmachines; i++)
        if (strcmp(g->machines[i].name, name) == 0)
            return &g->machines[i];
    return NULL;
}

/* " --machine NAME" when the gateway being checked is not the one `gateway` commands
 * default to (the first by name), else "": a repair line for it then runs as printed. */
static const char *gw_opt(const diag *g, char *buf, size_t n)
{
    ws_machine first;
    buf[0] = '\0';
    if (ws_machine_by_role(g->st, "gateway", &first, NULL) == 0 && strcmp(first.name, g->gw.name) != 0)
        snprintf(buf, n, " --machine %s", g->gw.name);
    return buf;
}

/* A finding id at machine already reported (several gateways bound to one certificate
 * are one finding at the tenant's PC). */
int ws_diag_has_finding(const diag *g, const char *id, const char *machine)
{
    for (int i = 0; i < g->d->n; i++)
        if (strcmp(g->d->findings[i].id, id) == 0 && strcmp(g->d->findings[i].machine, machine) == 0)
            return 1;
    return 0;
}

/* How many gateway machines the lab has. */
static int gateway_count(const diag *g)
{
    int n = 0;
    for (int i = 0; i < g->nmachines; i++)
        n += strcmp(g->machines[i].role, "gateway") == 0;
    return n;
}

/* ---- 1. processes ---- */

/* The real service's start command, for a role. */
static const char *start_service_ps(const char *role)
{
    if (strcmp(role, "host") == 0)
        return "Start-Service vmms";
    if (strcmp(role, "gateway") == 0)
        return "Start-Service TSGateway";
    if (strcmp(role, "vmm") == 0)
        return "Start-Service SCVMMService";
    return "Start-Service W3SVC"; /* the portal and SPF run in IIS */
}

static void check_processes(diag *g)
{
    ws_proc_status *list = NULL;
    int n = 0;
    ws_error e;
    ws_diag_checked(g, "processes");
    g->lab_running = ws_supervisor_pid(g->st) != 0;
    if (ws_lab_status(g->st, &list, &n, &e) != 0) {
        free(list);
        return;
    }
    if (!g->lab_running) {
        ws_finding *f = ws_diag_add(g, WS_DIAG_LAB_DOWN, "all", WS_DIAG_ERROR,
                            "The lab is not running: no machine's service runs.");
        ws_diag_evidence(f, "No supervisor runs for %s (run/supervisor.pid), so none of its %d services (portal, SPF, VMM, "
                    "RD Gateway, hosts) answers; the other checks read the configuration only.",
                 g->st->lab_dir, n);
        ws_diag_fix(f, "wapsim up");
        for (int i = 0; i < n && g->ndown < WS_DIAG_MAX_MACHINES; i++)
            snprintf(g->down[g->ndown++], 64, "%s", list[i].machine);
        free(list);
        return;
    }
    for (int i = 0; i < n; i++) {
        const ws_proc_status *p = &list[i];
        const ws_machine *m = ws_diag_machine_named(g, p->machine);
        if (!m || p->healthy)
            continue;
        if (strcmp(m->role, "host") == 0 && !ws_diag_host_selected(g, m->name))
            continue;
        if (g->ndown < WS_DIAG_MAX_MACHINES)
            snprintf(g->down[g->ndown++], 64, "%s", p->machine);
        const ws_role *r = ws_role_find(m->role);
        const char *service = r && r->service_name ? r->service_name : m->role;
        ws_finding *f = ws_diag_add(g, WS_DIAG_PROCESS_DOWN, m->name, WS_DIAG_ERROR, "%s's %s service is not running.",
                            m->name, service);
        char logpath[4300], last[300];
        snprintf(logpath, sizeof logpath, "%s/log/%s.log", g->st->lab_dir, m->name);
        ws_last_line(logpath, last, sizeof last);
        if (p->stopped)
            ws_diag_evidence(f, "%s (%s) was stopped by the operator (wapsim service stop, as Stop-Service) and is kept "
                        "stopped: nothing answers on %s:%d.",
                     p->program, service, p->address, p->port);
        else if (p->pid)
            ws_diag_evidence(f, "%s (%s) runs as pid %ld but does not accept connections on %s:%d.", p->program, service,
                     (long)p->pid, p->address, p->port);
        else
            ws_diag_evidence(f, "%s (%s) is not running (%d restart%s so far); nothing answers on %s:%d.", p->program,
                     service, p->restarts, p->restarts == 1 ? "" : "s", p->address, p->port);
        if (last[0])
            ws_diag_evidence(f, "Its last log line: \"%s\".", last);
        ws_diag_fix(f, "wapsim service %s %s", p->stopped || !p->pid ? "start" : "restart", m->name);
        ws_diag_fix(f, "PowerShell: %s   # on %s", start_service_ps(m->role), m->fqdn);
    }
    free(list);
}

/* ---- 2. clocks ---- */

static void check_clocks(diag *g)
{
    int64_t bound = (int64_t)g->ttl_minutes * 60;
    ws_diag_checked(g, "clocks (token time to live %d min)", g->ttl_minutes);
    for (int i = 0; i < g->nmachines; i++) {
        const ws_machine *m = &g->machines[i];
        if (strcmp(m->role, "host") == 0 && !ws_diag_host_selected(g, m->name))
            continue;
        int64_t skew = m->skew_seconds;
        if (skew <= bound && skew >= -bound)
            continue;
        int token_path = strcmp(m->role, "vmm") == 0 || strcmp(m->role, "gateway") == 0 ||
                         strcmp(m->role, "host") == 0;
        char d[48], at[32], lab[32];
        ws_diag_duration(skew, d, sizeof d);
        ws_finding *f = ws_diag_add(g, WS_DIAG_CLOCK_SKEW, m->name, token_path ? WS_DIAG_ERROR : WS_DIAG_WARNING,
                            "%s's clock is %s %s the lab's time, more than the console token's time to live.",
                            m->name, d, skew > 0 ? "ahead of" : "behind");
        ws_diag_evidence(f, "%s says %s while the lab's time is %s (skew %+" PRId64 " s); tokens live %d min "
                    "(VMConnectTimeToLiveInMinutes %d).",
                 m->name, ws_diag_when(g->now + skew, at), ws_diag_when(g->now, lab), skew, g->ttl_minutes, g->ttl_minutes);
        if (strcmp(m->role, "vmm") == 0)
            ws_diag_evidence(f, "%s", skew < 0 ? "The tokens VMM signs have expired by the gateway's and the hosts' clocks "
                                         "when they arrive."
                                       : "The tokens VMM signs stay valid longer than they should.");
        else if (token_path)
            ws_diag_evidence(f, "%s", skew > 0 ? "Tokens VMM signs look expired to this machine the moment they arrive."
                                       : "This machine accepts tokens that have already expired.");
        ws_diag_fix(f, "wapsim clock skew %s 0", m->name);
        ws_diag_fix(f, "PowerShell: w32tm /resync /force   # on %s (or Set-Date; check its time source)", m->fqdn);
    }
}

/* ---- certificate problems ---- */

/* A problem ws_certreq_check finds, as a finding: its id and what the summary says of
 * the certificate; validity: it is about the validity period; keep: the certificate's
 * fields are right, what it lacks is elsewhere (its private key). diagnose's repair of a
 * VMM certificate is a new one either way (fix_reissue). */
typedef struct cert_problem {
    const char *problem, *id, *what;
    int validity, keep;
} cert_problem;

static const cert_problem vmm_problems[] = {
    {WS_CERTREQ_ID_EXPIRED, WS_DIAG_VMM_CERT_EXPIRED, "has expired", 1, 0},
    {WS_CERTREQ_ID_NOT_YET_VALID, WS_DIAG_VMM_CERT_NOT_YET_VALID, "is not valid yet", 1, 0},
    {WS_CERTREQ_ID_EXPIRES_SOON, WS_DIAG_VMM_CERT_EXPIRES_SOON, "expires within 30 days", 0, 0},
    {WS_CERTREQ_ID_KEY_USAGE, WS_DIAG_VMM_CERT_KEY_USAGE, "lacks the Digital Signature key usage", 0, 0},
    {WS_CERTREQ_ID_EKU, WS_DIAG_VMM_CERT_EKU, "lacks the Client Authentication EKU", 0, 0},
    {WS_CERTREQ_ID_CSP, WS_DIAG_VMM_CERT_CSP, "has its key in a provider that cannot hash SHA-256", 0, 0},
    {WS_CERTREQ_ID_NO_PRIVATE_KEY, WS_DIAG_VMM_CERT_NO_KEY, "has no private key in the VMM database", 0, 1},
    {WS_CERTREQ_ID_KEY_SIZE, WS_DIAG_VMM_CERT_KEY_SIZE, "has an RSA key shorter than 2048 bits", 0, 0},
    {WS_CERTREQ_ID_SIGNATURE_ALGORITHM, WS_DIAG_VMM_CERT_SIGNATURE_ALGORITHM, "is signed with a weak hash", 0, 0},
    {NULL, NULL, NULL, 0, 0},
};

static const cert_problem gateway_problems[] = {
    {WS_CERTREQ_ID_EXPIRED, WS_DIAG_GATEWAY_CERT_EXPIRED, "has expired", 1, 0},
    {WS_CERTREQ_ID_NOT_YET_VALID, WS_DIAG_GATEWAY_CERT_NOT_YET_VALID, "is not valid yet", 1, 0},
    {WS_CERTREQ_ID_EXPIRES_SOON, WS_DIAG_GATEWAY_CERT_EXPIRES_SOON, "expires within 30 days", 0, 0},
    {WS_CERTREQ_ID_EKU, WS_DIAG_GATEWAY_CERT_EKU, "lacks the Server Authentication EKU", 0, 0},
    {WS_CERTREQ_ID_NAME_MISMATCH, WS_DIAG_GATEWAY_FQDN_MISMATCH, "does not match the cloud's RD Gateway FQDN", 0, 0},
    {WS_CERTREQ_ID_NO_DNS_SAN, WS_DIAG_GATEWAY_CERT_NO_DNS_SAN, "has no DNS Subject Alternative Name", 0, 0},
    {WS_CERTREQ_ID_WILDCARD, WS_DIAG_GATEWAY_CERT_WILDCARD, "is a wildcard certificate", 0, 0},
    {WS_CERTREQ_ID_KEY_SIZE, WS_DIAG_GATEWAY_CERT_KEY_SIZE, "has an RSA key shorter than 2048 bits", 0, 0},
    {WS_CERTREQ_ID_SIGNATURE_ALGORITHM, WS_DIAG_GATEWAY_CERT_SIGNATURE_ALGORITHM, "is signed with a weak hash", 0, 0},
    {NULL, NULL, NULL, 0, 0},
};

/* The host's console certificate: one finding for either end of its validity. */
static const cert_problem host_problems[] = {
    {WS_CERTREQ_ID_EXPIRED, WS_DIAG_HOST_CERT_EXPIRED, "has expired", 1, 0},
    {WS_CERTREQ_ID_NOT_YET_VALID, WS_DIAG_HOST_CERT_EXPIRED, "is not valid yet", 1, 0},
    {WS_CERTREQ_ID_EKU, WS_DIAG_HOST_CERT_EKU, "lacks the Server Authentication EKU", 0, 0},
    {NULL, NULL, NULL, 0, 0},
};

/* The row of table (ending in a NULL problem) for problem, or NULL. */
static const cert_problem *cert_problem_find(const cert_problem *table, const char *problem)
{
    for (; table->problem; table++)
        if (strcmp(table->problem, problem) == 0)
            return table;
    return NULL;
}

/* ---- 3. the VMM server's certificates ---- */

static void load_signer(diag *g, signer *s)
{
    ws_error e;
    if (ws_setting_get(g->st, g->vmm.name, s->setting, s->name, sizeof s->name) != 0) {
        s->name[0] = '\0';
        return;
    }
    if (ws_vault_get(g->st, s->name, &s->cert, &s->key, &s->csp, &e) != 0) {
        s->cert = NULL;
        return;
    }
    ws_cert_thumbprint(s->cert, s->tp);
    s->expired = ws_cert_not_after(s->cert) <= g->now || ws_cert_not_before(s->cert) > g->now;
}

static void free_signer(signer *s)
{
    X509_free(s->cert);
    EVP_PKEY_free(s->key);
    free(s->csp);
    s->cert = NULL;
    s->key = NULL;
    s->csp = NULL;
}

/* [model] What the lab's own VMM certificate is made as (lab init's vmm-console; the
 * REFERENCE.md section 2 makecert recipe): the subject of a new one when there is no
 * old one to copy. */
#define VMM_CERT_DEFAULT_SUBJECT "CN=Remote Console Connect"

/* The repair of a certificate VMM cannot sign with (or cannot load, or has none of): a
 * new one made right, under a name the vault does not hold yet, set up where the old one
 * was (REFERENCE.md section 2, the makecert recipe), for the roles it has. Every wapsim
 * line runs as printed, in this order (diagnose --fix). */
static void fix_reissue(diag *g, ws_finding *f, const signer *s)
{
    int as_gateway = strcmp(s->name, g->gwc.name) == 0, as_hyperv = strcmp(s->name, g->hvc.name) == 0;
    char *subject = s->cert ? ws_cert_subject(s->cert) : ws_strdup(VMM_CERT_DEFAULT_SUBJECT);
    char root[128] = "", newname[80], qs[400], ps[400];
    ws_diag_new_cert_name(g, s->name[0] ? s->name : "vmm-console", newname, sizeof newname);
    int self = !s->cert || ws_cert_self_signed(s->cert);
    if (s->cert)
        ws_diag_vault_root_of(g->st, s->cert, root, sizeof root);
    if (!self && !root[0])
        self = 1; /* no issuer in the vault: a self-signed one is what the administrator can make */
    char issuer[200];
    if (self)
        snprintf(issuer, sizeof issuer, "--self-signed");
    else
        snprintf(issuer, sizeof issuer, "--issuer %s", root);
    ws_diag_fix(f,
        "wapsim cert new %s --subject %s %s --eku clientAuth --key-usage digitalSignature --csp \"%s\" --days 365",
        newname, ws_diag_shq(subject, qs, sizeof qs), issuer, WS_CSP_ENHANCED_RSA_AES);
    if (as_hyperv) {
        for (int i = 0; i < g->nmachines; i++)
            if (strcmp(g->machines[i].role, "host") == 0 && self)
                ws_diag_fix(f, "wapsim cert import %s --machine %s --store Root --public-only", newname,
                    g->machines[i].name);
    }
    /* Every RD Gateway must know the new signer: a member that does not rejects its share
     * of the connections (issue 14, pitfall 1). */
    ws_machine saved = g->gw;
    for (int i = 0; as_gateway && g->have_gw && i < g->nmachines; i++) {
        if (strcmp(g->machines[i].role, "gateway") != 0)
            continue;
        g->gw = g->machines[i];
        char mo[96];
        ws_diag_fix(f, "wapsim cert import %s --machine %s --store My --public-only", newname, g->gw.name);
        if (self)
            ws_diag_fix(f, "wapsim cert import %s --machine %s --store Root --public-only", newname, g->gw.name);
        /* by name: its thumbprint is printed */
        ws_diag_fix(f, "wapsim gateway set%s --add-trusted-issuer %s", gw_opt(g, mo, sizeof mo), newname);
    }
    g->gw = saved;
    ws_diag_fix(f, "wapsim vmm set%s%s%s%s", as_gateway ? " --gateway-cert " : "", as_gateway ? newname : "",
        as_hyperv ? " --hyperv-cert " : "", as_hyperv ? newname : "");
    if (as_hyperv) {
        ws_diag_fix(f, "wapsim vmm refresh-host --all");
        /* Each host's service reads its new trust list when it restarts (host/trust.h). */
        for (int i = 0; i < g->nmachines; i++)
            if (strcmp(g->machines[i].role, "host") == 0)
                ws_diag_fix(f, "wapsim service restart %s", g->machines[i].name);
    }
    ws_diag_fix(f,
        "PowerShell: makecert -n %s %s-pe -a sha256 -len 2048 -sky signature -eku 1.3.6.1.5.5.7.3.2 -ss My -sr "
        "LocalMachine -sy 24   # PROV_RSA_AES: \"%s\"; or New-SelfSignedCertificate -Provider \"%s\" -KeyUsage "
        "DigitalSignature",
        ws_diag_q(subject, ps, sizeof ps), self ? "-r " : "", WS_CSP_ENHANCED_RSA_AES, WS_CSP_ENHANCED_RSA_AES);
    ws_diag_fix(f, "PowerShell: Set-SCVMMServer%s%s; Get-SCVMHost | Read-SCVMHost; Restart-Service vmms on each host%s",
        as_gateway ? " -VMConnectGatewayCertificatePath C:\\certs\\new.pfx -VMConnectGatewayCertificatePassword $pw"
                   : "",
        as_hyperv ? " -VMConnectHyperVCertificatePath C:\\certs\\new.pfx -VMConnectHyperVCertificatePassword $pw"
                  : "",
        as_gateway ? ", and register the new thumbprint on the RD Gateway (FedAuthSettings.TrustedIssuerCertificates)"
                   : "");
    free(subject);
}

/* A certificate VMM can sign with as it stands: in the vault with its private key. */
static int signer_usable(diag *g, const char *name)
{
    EVP_PKEY *k = NULL;
    if (!name[0] || ws_vault_get(g->st, name, NULL, &k, NULL, NULL) != 0)
        return 0;
    EVP_PKEY_free(k);
    return k != NULL;
}

static const char *role_words(diag *g, const signer *s)
{
    int as_gateway = strcmp(s->name, g->gwc.name) == 0, as_hyperv = strcmp(s->name, g->hvc.name) == 0;
    return as_gateway && as_hyperv ? "VMConnectGatewayCertificate and VMConnectHyperVCertificate"
           : as_gateway            ? "VMConnectGatewayCertificate"
                                   : "VMConnectHyperVCertificate";
}

static void check_one_signer(diag *g, signer *s)
{
    const char *vmm = g->vmm.name;
    if (!s->name[0]) {
        ws_finding *f = ws_diag_add(g, WS_DIAG_VMM_CERT_MISSING, vmm, WS_DIAG_ERROR, "VMM has no %s configured.", s->param);
        ws_diag_evidence(f, "%s has no %s setting (Set-SCVMMServer -%sPath was never run): VMM cannot sign console tokens.",
                 vmm, s->setting, s->param);
        /* The other certificate VMM signs with, or the lab's own, when usable; else a new one. */
        const signer *other = s == &g->gwc ? &g->hvc : &g->gwc;
        const char *use = signer_usable(g, other->name) ? other->name
                          : signer_usable(g, "vmm-console") ? "vmm-console"
                                                            : NULL;
        int both = !other->name[0]; /* neither is configured: this finding stands for both */
        if (use && both)
            ws_diag_fix(f, "wapsim vmm set --gateway-cert %s --hyperv-cert %s", use, use);
        else if (use)
            ws_diag_fix(f, "wapsim vmm set --%s %s",
                strcmp(s->setting, WS_SET_VMM_GATEWAY_CERT) == 0 ? "gateway-cert" : "hyperv-cert", use);
        else
            fix_reissue(g, f, s);
        if (use && (both || s == &g->hvc))
            ws_diag_fix(f, "wapsim vmm refresh-host --all"); /* the hosts learn a VMConnectHyperVCertificate only so */
        ws_diag_fix(f, "PowerShell: Set-SCVMMServer -%sPath C:\\certs\\console.pfx -%sPassword $pw", s->param, s->param);
        return;
    }
    const char *roles = role_words(g, s);
    if (!s->cert) {
        ws_finding *f = ws_diag_add(g, WS_DIAG_VMM_CERT_MISSING, vmm, WS_DIAG_ERROR,
                            "VMM's %s '%s' cannot be loaded.", roles, s->name);
        ws_diag_evidence(f, "%s's %s names '%s', which is not in the certificate vault.", vmm, s->setting, s->name);
        fix_reissue(g, f, s);
        ws_diag_fix(f, "PowerShell: Set-SCVMMServer -%sPath C:\\certs\\console.pfx -%sPassword $pw", s->param, s->param);
        return;
    }
    char *desc = ws_diag_describe(g->st, s->cert, s->name);
    ws_certreq_problem probs[WS_CERTREQ_MAX_PROBLEMS];
    int n = ws_certreq_check(s->cert, s->key, s->csp, 1, WS_CERTREQ_VMM, NULL, g->now, probs,
                             WS_CERTREQ_MAX_PROBLEMS);
    if (n > WS_CERTREQ_MAX_PROBLEMS)
        n = WS_CERTREQ_MAX_PROBLEMS;
    for (int i = 0; i < n; i++) {
        const ws_certreq_problem *p = &probs[i];
        const cert_problem *cp = cert_problem_find(vmm_problems, p->id);
        if (!cp)
            continue; /* self-signed-root: the hosts' and gateway's Root stores are checked one by one */
        const char *id = cp->id, *what = cp->what;
        ws_finding *f = ws_diag_add(g, id, vmm, p->severity == WS_CERTREQ_WARNING ? WS_DIAG_WARNING : WS_DIAG_ERROR,
                            "VMM's %s %s %s.", roles, s->name, what);
        ws_diag_evidence(f, "%s: %s.", desc, p->text);
        if (strcmp(id, WS_DIAG_VMM_CERT_CSP) == 0) {
            ws_diag_evidence(f, "Signing the SHA-256 console tokens fails with 0x%08X, and VMM's trace ends with "
                        "\"Exception Message=%s\": the browser gets JSON instead of an .rdp file.",
                     WS_NTE_BAD_ALGID, ws_hresult_message(WS_NTE_BAD_ALGID));
        }
        /* A new certificate repairs each problem, a missing private key too (VMM gets the
         * new one's key with it). */
        fix_reissue(g, f, s);
    }
    free(desc);
}

static void check_vmm(diag *g)
{
    if (!g->have_vmm)
        return;
    ws_diag_checked(g, "VMM certificates on %s", g->vmm.name);
    load_signer(g, &g->gwc);
    load_signer(g, &g->hvc);
    check_one_signer(g, &g->gwc);
    if (strcmp(g->gwc.name, g->hvc.name) != 0)
        check_one_signer(g, &g->hvc);
}

/* ---- 4. the Hyper-V hosts' trust in the VMM certificate ---- */

/* Ask the host's agent, as VMM does over WinRM, from the VMM server's address. */
static cJSON *ask_host(diag *g, const ws_machine *host, const char *tp, ws_error *e)
{
    char url[512], resolve[512];
    snprintf(url, sizeof url, "http://%s:%d/wsman/console-trust-settings?thumbprint=%s", host->fqdn, AGENT_PORT, tp);
    snprintf(resolve, sizeof resolve, "%s:%d:%s", host->fqdn, AGENT_PORT, host->address);
    ws_http_request rq = {.method = "GET", .url = url, .resolve = resolve, .st = g->st,
                          .from_machine = g->vmm.name, .timeout_ms = g->timeout_ms};
    ws_http_response rs;
    if (ws_http(&rq, &rs, e) != 0)
        return NULL;
    cJSON *o = cJSON_ParseWithLength((const char *)rs.body, rs.body_len);
    if (rs.status != 200 || !cJSON_IsObject(o)) {
        const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(o, "error"));
        ws_seterr(e, "HTTP %ld%s%s", rs.status, err ? ": " : "", err ? err : "");
        cJSON_Delete(o);
        o = NULL;
    }
    ws_http_response_free(&rs);
    return o;
}

static void check_host_trust(diag *g, const ws_machine *h)
{
    signer *s = &g->hvc;
    cJSON *o = NULL;
    ws_error e;
    char hb[32];
    if (!ws_diag_machine_down(g, h->name)) {
        o = ask_host(g, h, s->tp, &e);
        if (!o) {
            ws_finding *f = ws_diag_add(g, WS_DIAG_HOST_AGENT_UNREACHABLE, h->name, WS_DIAG_ERROR,
                                "%s does not answer VMM's questions (WinRM, port %d).", h->name, AGENT_PORT);
            ws_diag_evidence(f, "From %s (%s) to %s:%d: %s. VMM asks the host before it issues each console token.",
                     g->vmm.name, g->vmm.address, h->address, AGENT_PORT, e.msg);
            ws_diag_fix(f, "wapsim service restart %s", h->name);
            ws_diag_fix(f, "PowerShell: Restart-Service WinRM; Test-WSMan %s   # on %s", h->fqdn, h->fqdn);
        }
    }
    int64_t host_now = g->now + h->skew_seconds;
    int in_list = -1, in_my = -1;
    char *list_text = NULL;
    if (o) {
        in_list = cJSON_IsTrue(cJSON_GetObjectItem(o, "in_trusted_issuers"));
        in_my = cJSON_IsTrue(cJSON_GetObjectItem(o, "in_my"));
        const cJSON *item;
        size_t len = 0;
        list_text = ws_strdup("");
        cJSON_ArrayForEach(item, cJSON_GetObjectItem(o, "trusted_issuer_certificate_hashes"))
        {
            const char *v = cJSON_GetStringValue(item);
            if (!v)
                continue;
            char d[384];
            ws_diag_thumbprint(g->st, v, d, sizeof d);
            char *grown = ws_printf("%s%s%s", list_text, len ? ", " : "", d);
            free(list_text);
            list_text = grown;
            len = strlen(list_text);
        }
        const cJSON *t = cJSON_GetObjectItem(o, "time");
        if (cJSON_IsNumber(t))
            host_now = (int64_t)t->valuedouble;
    }
    char *desc = ws_diag_describe(g->st, s->cert, s->name);
    if (in_list == 0) {
        ws_finding *f = ws_diag_add(g, WS_DIAG_HOST_TRUST_LIST_STALE, h->name, WS_DIAG_ERROR,
                            "%s does not trust the current VMM certificate: it was not refreshed (Read-SCVMHost).",
                            h->name);
        ws_diag_evidence(f, "VMM signs VMTokens with %s; %s's TrustedIssuerCertificateHashes holds {%s}%s.", desc, h->name,
                 list_text && list_text[0] ? list_text : "", in_my ? "" : ", and the certificate is not in its "
                                                                         "LocalMachine\\My");
        /* The refresh changes the list; the running service reads it at its start
         * (host/trust.h, diag_trust.c): the restart belongs to the repair. */
        ws_diag_fix(f, "wapsim vmm refresh-host %s", h->name);
        ws_diag_fix(f, "wapsim service restart %s", h->name);
        ws_diag_fix(f, "PowerShell: Get-SCVMHost -ComputerName %s | Read-SCVMHost   # on %s", h->fqdn, g->vmm.fqdn);
        ws_diag_fix(f, "PowerShell: Restart-Service vmms   # on %s", h->fqdn);
    } else if (in_list == 1 && in_my == 0) {
        ws_finding *f = ws_diag_add(g, WS_DIAG_VMM_CERT_NOT_IN_HOST_MY, h->name, WS_DIAG_ERROR,
                            "The VMM certificate is not in %s's LocalMachine\\My store.", h->name);
        char *mine = ws_diag_store_names(g->st, h->name, "My");
        ws_diag_evidence(f, "%s is in %s's TrustedIssuerCertificateHashes, but its LocalMachine\\My holds only %s: the host "
                    "cannot check the VMTokens' signature, so VMM refuses to issue them (the browser gets JSON "
                    "instead of an .rdp file).",
                 desc, h->name, mine);
        free(mine);
        ws_diag_fix(f, "wapsim cert import %s --machine %s --store My --public-only", s->name, h->name);
        ws_diag_fix(f, "wapsim vmm refresh-host %s", h->name);
        ws_diag_fix(f, "PowerShell: Import-Certificate -FilePath .\\%s.cer -CertStoreLocation Cert:\\LocalMachine\\My   # on "
               "%s; or Get-SCVMHost -ComputerName %s | Read-SCVMHost",
            s->name, h->fqdn, h->fqdn);
    }
    /* The chain, as the host builds it (the token rule's chain step): its own Root, on its
     * own clock. A certificate that is not valid at that time is vmm-cert-expired or the
     * host's clock-skew instead. */
    int valid_there = ws_cert_not_before(s->cert) <= host_now && ws_cert_not_after(s->cert) > host_now;
    if (valid_there && ws_fedauth_signer_chains(g->st, h->name, s->cert, host_now, &e) != 0) {
        int self = ws_cert_self_signed(s->cert);
        char root[128];
        ws_diag_vault_root_of(g->st, s->cert, root, sizeof root);
        const char *to_import = self ? s->name : root[0] ? root : NULL;
        char *roots = ws_diag_store_names(g->st, h->name, "Root");
        ws_finding *f = ws_diag_add(g, WS_DIAG_VMM_CERT_NOT_TRUSTED_ON_HOST, h->name, WS_DIAG_ERROR,
                            "%s does not trust the VMM certificate: no chain to its LocalMachine\\Root store.",
                            h->name);
        ws_diag_evidence(f, "%s does not chain on %s at %s: %s. %s's LocalMachine\\Root holds %s.%s", desc, h->name,
                 ws_diag_when(host_now, hb), e.msg, h->name, roots,
                 self ? " A self-signed certificate is its own root: it must itself be in Root." : "");
        free(roots);
        if (to_import) {
            ws_diag_fix(f, "wapsim cert import %s --machine %s --store Root --public-only", to_import, h->name);
            ws_diag_fix(f, "PowerShell: Import-Certificate -FilePath .\\%s.cer -CertStoreLocation Cert:\\LocalMachine\\Root"
                   "   # on %s",
                to_import, h->fqdn);
        } else {
            /* The issuing root is not in the vault: no wapsim command can install it. */
            ws_diag_fix(f, "PowerShell: Import-Certificate -FilePath .\\root.cer -CertStoreLocation Cert:\\LocalMachine\\Root"
                   "   # on %s",
                h->fqdn);
        }
    }
    free(desc);
    free(list_text);
    cJSON_Delete(o);
}

static void check_hosts(diag *g)
{
    if (!g->have_vmm || !g->hvc.cert)
        return;
    for (int i = 0; i < g->nmachines; i++) {
        const ws_machine *h = &g->machines[i];
        if (strcmp(h->role, "host") != 0 || !ws_diag_host_selected(g, h->name))
            continue;
        ws_diag_checked(g, "%s trusts the VMM certificate %s%s", h->name, g->hvc.name,
                ws_diag_machine_down(g, h->name) ? " (its stores only: the host does not answer)" : "");
        check_host_trust(g, h);
    }
}

/* ---- 5. the gateway's trust in the HostToken's signer ---- */

static void check_gateway_trust(diag *g)
{
    signer *s = &g->gwc;
    if (!g->have_gw || !g->have_vmm || !s->cert)
        return;
    const char *gw = g->gw.name;
    ws_diag_checked(g, "%s trusts the VMM certificate %s", gw, s->name);
    char *desc = ws_diag_describe(g->st, s->cert, s->name);
    if (!ws_fedauth_signer_listed(g->st, gw, s->tp, NULL)) {
        sqlite3_stmt *st = ws_state_prepare(
            g->st, "SELECT thumbprint FROM trusted_issuers WHERE machine = ? ORDER BY rowid", NULL);
        char list[4096] = "";
        size_t len = 0;
        if (st) {
            sqlite3_bind_text(st, 1, gw, -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW && len + 400 < sizeof list) {
                char d[384];
                ws_diag_thumbprint(g->st, (const char *)sqlite3_column_text(st, 0), d, sizeof d);
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", d);
            }
            sqlite3_finalize(st);
        }
        ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_ISSUER_NOT_TRUSTED, gw, WS_DIAG_ERROR,
                            "The RD Gateway does not accept HostTokens signed by the VMM certificate: its thumbprint "
                            "is not registered.");
        ws_diag_evidence(f, "VMM signs HostTokens with %s; %s's FedAuthSettings.TrustedIssuerCertificates is {%s}. The "
                    "gateway rejects the cookie (50331701, event 201).",
                 desc, gw, list);
        char mo[96];
        ws_diag_fix(f, "wapsim gateway set%s --add-trusted-issuer %s", gw_opt(g, mo, sizeof mo), s->tp);
        ws_diag_fix(f, "PowerShell: $s = Get-WmiObject -Namespace root\\TSGatewayFedAuth2 -Class FedAuthSettings; "
               "$s.TrustedIssuerCertificates = \"%s\"; $s.Put()   # on %s",
            s->tp, g->gw.fqdn);
    }
    /* The plug-in finds the certificate in My or Root and builds its chain on its clock:
     * the token rule's store and chain steps, each reported on its own. */
    int64_t gw_now = g->now + g->gw.skew_seconds;
    int valid_there = ws_cert_not_before(s->cert) <= gw_now && ws_cert_not_after(s->cert) > gw_now;
    X509 *found = NULL;
    ws_error e;
    int in_store = ws_fedauth_signer_find(g->st, gw, s->tp, WS_FEDAUTH_STORES_GATEWAY, &found, NULL) == 0;
    X509_free(found);
    int chains = !valid_there || ws_fedauth_signer_chains(g->st, gw, s->cert, gw_now, &e) == 0;
    if (!in_store || !chains) {
        int self = ws_cert_self_signed(s->cert);
        char root[128];
        ws_diag_vault_root_of(g->st, s->cert, root, sizeof root);
        ws_finding *f = ws_diag_add(g, WS_DIAG_VMM_CERT_NOT_TRUSTED_ON_GATEWAY, gw, WS_DIAG_ERROR,
                            "The RD Gateway cannot validate the VMM certificate that signs HostTokens.");
        if (!in_store)
            ws_diag_evidence(f, "%s is in neither LocalMachine\\My nor LocalMachine\\Root of %s.", desc, gw);
        if (!chains)
            ws_diag_evidence(f, "%s does not chain to a root %s trusts: %s.", in_store ? desc : "It", gw, e.msg);
        if (!in_store)
            ws_diag_fix(f, "wapsim cert import %s --machine %s --store My --public-only", s->name, gw);
        if (!chains && (self || root[0]))
            ws_diag_fix(f, "wapsim cert import %s --machine %s --store Root --public-only", self ? s->name : root, gw);
        ws_diag_fix(f, "PowerShell: Import-Certificate -FilePath .\\%s.cer -CertStoreLocation Cert:\\LocalMachine\\%s   # on "
               "%s",
            !chains && !self && root[0] ? root : s->name, !chains ? "Root" : "My", g->gw.fqdn);
    }
    free(desc);
}

/* ---- 6. the gateway's TLS certificate ---- */

/* A TLS handshake with the gateway from the tenant's PC, trusting nothing: only to see
 * the certificate it serves. */
static X509 *served_certificate(diag *g, const char *sni, ws_error *e)
{
    int fd = ws_tcp_connect_from(g->have_client ? g->client.address : NULL, g->gw.address, g->gw.port, g->timeout_ms,
                                 WS_TCP_IO_TIMEOUT, e);
    if (fd < 0)
        return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    X509 *cert = NULL;
    if (!ssl) {
        ws_seterr(e, "cannot create TLS");
    } else {
        SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
        SSL_set_fd(ssl, fd);
        if (sni && *sni) /* as the tenant's PC: SNI for a name, none for an address */
            ws_tls_expect_peer_flags(ssl, sni, WS_PEER_RDGATEWAY);
        if (SSL_connect(ssl) == 1) {
            cert = SSL_get1_peer_certificate(ssl);
            if (!cert)
                ws_seterr(e, "the gateway presented no certificate");
            SSL_shutdown(ssl);
        } else {
            unsigned long code = ERR_get_error();
            char reason[200] = "the connection closed during the handshake";
            if (code)
                ERR_error_string_n(code, reason, sizeof reason);
            ws_seterr(e, "TLS handshake with %s:%d failed: %s", g->gw.address, g->gw.port, reason);
        }
    }
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return cert;
}

/* The repair of a gateway certificate: a new one for the FQDN (under a name the vault
 * does not hold yet, issued by bound's root, else the lab's), bound, the service
 * restarted. bound may be NULL (none is bound). */
static void fix_gateway_reissue(diag *g, ws_finding *f, X509 *bound, const char *bound_name, const char *fqdn)
{
    const char *gw = g->gw.name;
    char root[128] = "", newname[160];
    if (bound)
        ws_diag_vault_root_of(g->st, bound, root, sizeof root);
    ws_diag_new_cert_name(g, bound_name, newname, sizeof newname);
    int addr = ws_is_ip_literal(fqdn); /* an address is matched only by an IP SAN (crypto/tls.h) */
    ws_diag_fix(f,
        "wapsim cert new %s --subject CN=%s --san %s:%s --eku serverAuth --key-usage "
        "digitalSignature,keyEncipherment --issuer %s --days 365",
        newname, fqdn, addr ? "IP" : "DNS", fqdn, root[0] ? root : "lab-root-ca");
    char mo[96];
    ws_diag_fix(f, "wapsim cert import %s --machine %s --store My", newname, gw);
    ws_diag_fix(f, "wapsim gateway set%s --ssl-cert %s", gw_opt(g, mo, sizeof mo), newname);
    ws_diag_fix(f, "wapsim service restart %s", gw);
    if (addr)
        ws_diag_fix(f, "PowerShell: certreq -new with SubjectName CN=%s and the extension 2.5.29.17 \"{text}IPAddress=%s\"   # "
               "on %s; bind it in RD Gateway Manager (SSL Certificate), then Restart-Service TSGateway",
            fqdn, fqdn, g->gw.fqdn);
    else
        ws_diag_fix(f, "PowerShell: Get-Certificate -Template WebServer -SubjectName CN=%s -DnsName %s -CertStoreLocation "
               "Cert:\\LocalMachine\\My   # on %s; bind it in RD Gateway Manager (SSL Certificate), then "
               "Restart-Service TSGateway",
            fqdn, fqdn, g->gw.fqdn);
}

/* Another gateway's binding that carries fqdn with its key in the vault, into out (""
 * when none): the certificate a member of several should be bound to as well. */
static void binding_for_name(diag *g, const char *fqdn, char *out, size_t n, char *where, size_t wn)
{
    out[0] = '\0';
    for (int i = 0; i < g->nmachines && !out[0]; i++) {
        const ws_machine *m = &g->machines[i];
        char name[128];
        X509 *c = NULL;
        EVP_PKEY *k = NULL;
        if (strcmp(m->role, "gateway") != 0 || strcmp(m->name, g->gw.name) == 0 ||
            ws_setting_get(g->st, m->name, WS_SET_SSL_CERT, name, sizeof name) != 0 ||
            ws_vault_get(g->st, name, &c, &k, NULL, NULL) != 0)
            continue;
        if (k && ws_cert_matches_peer(c, fqdn, WS_PEER_RDGATEWAY)) {
            snprintf(out, n, "%s", name);
            snprintf(where, wn, "%s", m->name);
        }
        X509_free(c);
        EVP_PKEY_free(k);
    }
}

/* The repair of one gateway among several whose certificate lacks the name the tenants
 * use, when another gateway's binding carries it: the same certificate, bound here too.
 * Behind a balancer every member answers for the one public name: it must be in the CN
 * or SAN of the certificate on each RD Gateway (AWS, "How to generate TLS certificates
 * for a highly available Remote Desktop Gateway Farm"; notes/fabric-README.md). */
static void fix_member_binding(diag *g, ws_finding *f, const char *good)
{
    const char *gw = g->gw.name;
    char mo[96];
    int has_key = 0;
    if (!ws_store_contains(g->st, gw, "My", good, &has_key) || !has_key)
        ws_diag_fix(f, "wapsim cert import %s --machine %s --store My", good, gw);
    ws_diag_fix(f, "wapsim gateway set%s --ssl-cert %s", gw_opt(g, mo, sizeof mo), good);
    ws_diag_fix(f, "wapsim service restart %s", gw);
    ws_diag_fix(f, "PowerShell: Import-PfxCertificate -FilePath .\\%s.pfx -CertStoreLocation Cert:\\LocalMachine\\My   # "
                   "on %s; bind it in RD Gateway Manager (SSL Certificate), then Restart-Service TSGateway",
                good, g->gw.fqdn);
}

static void check_bound_cert(diag *g, X509 *bound, const char *bound_name, const char *fqdn)
{
    const char *gw = g->gw.name;
    char *desc = ws_diag_describe(g->st, bound, bound_name);
    ws_certreq_problem probs[WS_CERTREQ_MAX_PROBLEMS];
    int n = ws_certreq_check(bound, NULL, NULL, 0, WS_CERTREQ_GATEWAY, fqdn, g->now, probs, WS_CERTREQ_MAX_PROBLEMS);
    if (n > WS_CERTREQ_MAX_PROBLEMS)
        n = WS_CERTREQ_MAX_PROBLEMS;
    int validity = 0;
    char *sans = ws_cert_sans(bound);
    for (int i = 0; i < n; i++) {
        const ws_certreq_problem *p = &probs[i];
        const cert_problem *cp = cert_problem_find(gateway_problems, p->id);
        if (!cp)
            continue; /* self-signed-root: the PC's Root store is checked below */
        const char *id = cp->id, *what = cp->what;
        validity |= cp->validity;
        ws_diag_severity sev = p->severity == WS_CERTREQ_WARNING ? WS_DIAG_WARNING : WS_DIAG_ERROR;
        ws_finding *f;
        if (strcmp(id, WS_DIAG_GATEWAY_FQDN_MISMATCH) == 0) {
            /* The cloud's setting is the usual culprit: the certificate names a DNS name users use. */
            if (ws_is_ip_literal(fqdn))
                f = ws_diag_add(g, id, gw, sev, "The cloud's RD Gateway FQDN %s is an IP address, and the gateway's "
                                        "certificate does not carry it as an IP SAN.",
                        fqdn);
            else
                f = ws_diag_add(g, id, gw, sev, "The cloud's RD Gateway FQDN %s matches neither the SAN nor the CN of the "
                                        "gateway's certificate.",
                        fqdn);
            ws_diag_evidence(f, "The .rdp files name gatewayhostname %s; the gateway's certificate is %s, SAN %s; %s. "
                        "Remote Desktop Connection stops with 50331654 (name mismatch).",
                     fqdn, desc, sans[0] ? sans : "(none)", p->text);
            char first[256] = "", good[128] = "", other[64] = "";
            if (gateway_count(g) > 1)
                binding_for_name(g, fqdn, good, sizeof good, other, sizeof other);
            if (good[0]) {
                ws_diag_evidence(f, "The tenants reach the lab's gateways by the one name %s (through a balancer, "
                                    "each connection to one member), and %s is bound to %s, which carries it: %s "
                                    "fails the share of connections it receives. Every gateway must be bound to a "
                                    "certificate for the public name, not its machine name.",
                                 fqdn, other, good, gw);
                fix_member_binding(g, f, good);
                continue;
            }
            if (strncmp(sans, "DNS:", 4) == 0) {
                snprintf(first, sizeof first, "%s", sans + 4);
                first[strcspn(first, ",")] = '\0';
            }
            if (first[0]) {
                ws_diag_evidence(f, "Either the cloud names the gateway by a name its certificate does not carry (set it to "
                            "%s), or the certificate must be reissued for %s.",
                         first, fqdn);
                ws_diag_fix(f, "wapsim cloud set --rd-gateway-fqdn %s", first);
                ws_diag_fix(f, "Portal: WAP admin portal > VM Clouds > Clouds > %s > Edit > Remote Desktop Gateway FQDN = %s",
                    g->have_vmm ? g->vmm.name : "the VMM server", first);
            } else {
                fix_gateway_reissue(g, f, bound, bound_name, fqdn);
            }
        } else {
            f = ws_diag_add(g, id, gw, sev, "The RD Gateway's certificate %s %s.", bound_name, what);
            ws_diag_evidence(f, "%s: %s.", desc, p->text);
            /* A wildcard name the FQDN matches only through: the client refuses it as it does any
             * name the certificate does not carry (crypto/tls.h, WS_PEER_RDGATEWAY: Microsoft,
             * "Wild-card TLS/SSL certificates don't work"); beside an exact name, a warning. */
            if (strcmp(id, WS_DIAG_GATEWAY_CERT_NO_DNS_SAN) == 0 ||
                (strcmp(id, WS_DIAG_GATEWAY_CERT_WILDCARD) == 0 && sev == WS_DIAG_ERROR))
                ws_diag_evidence(f, "The cloud's RD Gateway FQDN (the .rdp files' gatewayhostname) is %s. Remote Desktop "
                            "Connection stops with 50331654 (name mismatch).",
                         fqdn);
            fix_gateway_reissue(g, f, bound, bound_name, fqdn);
        }
    }
    /* The tenant's PC must trust it: a chain to the client's Root (50331653 otherwise). */
    ws_error e;
    if (!validity && g->have_client && !ws_diag_has_finding(g, WS_DIAG_GATEWAY_CERT_UNTRUSTED, g->client.name) &&
        ws_store_verify_chain(g->st, g->client.name, bound, g->now, &e) != 0) {
        char root[128];
        ws_diag_vault_root_of(g->st, bound, root, sizeof root);
        int self = ws_cert_self_signed(bound);
        char *roots = ws_diag_store_names(g->st, g->client.name, "Root");
        ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_CERT_UNTRUSTED, g->client.name, WS_DIAG_ERROR,
                            "The tenant's PC does not trust the RD Gateway's certificate %s.", bound_name);
        ws_diag_evidence(f, "%s does not chain to the Root store of %s: %s (it holds %s). Remote Desktop Connection stops "
                    "with 50331653.",
                 desc, g->client.name, e.msg, roots);
        free(roots);
        if (self || root[0])
            ws_diag_fix(f, "wapsim cert import %s --machine %s --store Root --public-only", self ? bound_name : root,
                g->client.name);
        ws_diag_fix(f, "PowerShell: Import-Certificate -FilePath .\\%s.cer -CertStoreLocation Cert:\\LocalMachine\\Root   # "
               "on the tenant's PC (or use a certificate from a CA the PCs trust)",
            self || !root[0] ? bound_name : root);
    }
    free(sans);
    free(desc);
}

/* The repair of a gateway with no usable binding: the lab's rdgw-ssl when the vault has
 * it with its key (installed in My first: gateway set requires it there), else a new
 * certificate for the FQDN. */
static void fix_gateway_bind(diag *g, ws_finding *f, const char *fqdn)
{
    EVP_PKEY *k = NULL;
    if (ws_vault_get(g->st, "rdgw-ssl", NULL, &k, NULL, NULL) == 0 && k) {
        char mo[96];
        ws_diag_fix(f, "wapsim cert import rdgw-ssl --machine %s --store My", g->gw.name);
        ws_diag_fix(f, "wapsim gateway set%s --ssl-cert rdgw-ssl", gw_opt(g, mo, sizeof mo));
        ws_diag_fix(f, "wapsim service restart %s", g->gw.name);
    } else {
        fix_gateway_reissue(g, f, NULL, "rdgw-ssl", fqdn[0] ? fqdn : g->gw.public_fqdn[0] ? g->gw.public_fqdn
                                                                                        : g->gw.fqdn);
    }
    EVP_PKEY_free(k);
}

/* The address the tenants' name may resolve to: a gateway's, or a balancer's in front
 * of gateways (issue 14: the public name resolves to lb01). */
static int serves_gateway(const diag *g, const char *addr)
{
    for (int i = 0; i < g->nmachines; i++)
        if (strcmp(g->machines[i].address, addr) == 0 &&
            (strcmp(g->machines[i].role, "gateway") == 0 || strcmp(g->machines[i].role, "balancer") == 0))
            return 1;
    return 0;
}

/* The cloud's RD Gateway FQDN (into fqdn, "" when missing) and that the tenant's PC
 * reaches a gateway by it: once per diagnosis, whatever the number of gateways. */
static void check_cloud_fqdn(diag *g, char *fqdn, size_t n)
{
    fqdn[0] = '\0';
    if (!g->have_gw)
        return;
    const char *gw = g->gw.name; /* the first gateway: its public name is the usual repair */
    if (ws_setting_get(g->st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, fqdn, n) != 0 || !fqdn[0]) {
        ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_FQDN_MISSING, g->have_portal ? g->portal.name : "portal", WS_DIAG_ERROR,
                            "The cloud has no Remote Desktop Gateway FQDN.");
        ws_diag_evidence(f, "The .rdp files VMM issues name no gatewayhostname.");
        ws_diag_fix(f, "wapsim cloud set --rd-gateway-fqdn %s", g->gw.public_fqdn[0] ? g->gw.public_fqdn : g->gw.fqdn);
        ws_diag_fix(f, "Portal: WAP admin portal > VM Clouds > Clouds > %s > Edit > Remote Desktop Gateway FQDN",
            g->have_vmm ? g->vmm.name : "the VMM server");
        fqdn[0] = '\0';
    } else {
        char addr[64];
        ws_error re;
        int resolves = ws_lab_resolve(g->st, WS_RESOLVE_TENANT_PC, fqdn, addr, sizeof addr, &re) == 0;
        if (!resolves || !serves_gateway(g, addr)) {
            ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_FQDN_DNS, g->have_portal ? g->portal.name : "portal", WS_DIAG_ERROR,
                                "The tenant's PC cannot reach the RD Gateway by the cloud's FQDN %s.", fqdn);
            if (ws_is_ip_literal(fqdn))
                ws_diag_evidence(f, "%s is an address: the tenant's PC connects to it as is, without a lookup, and it is "
                            "not %s's address %s.",
                         fqdn, gw, g->gw.address);
            else if (resolves)
                ws_diag_evidence(f, "%s resolves to %s on the tenant's PC (the lab's hosts file), not to %s's address %s.",
                         fqdn, addr, gw, g->gw.address);
            else
                ws_diag_evidence(f, "%s does not resolve on the tenant's PC (the lab's hosts file names the public names "
                            "only).",
                         fqdn);
            if (g->gw.public_fqdn[0] && strcmp(g->gw.public_fqdn, fqdn) != 0)
                ws_diag_fix(f, "wapsim cloud set --rd-gateway-fqdn %s", g->gw.public_fqdn);
            ws_diag_fix(f, "Portal: WAP admin portal > VM Clouds > Clouds > %s > Edit > Remote Desktop Gateway FQDN = the "
                   "gateway's public name (or publish %s in DNS)",
                g->have_vmm ? g->vmm.name : "the VMM server", fqdn);
        }
    }
}

/* One gateway's TLS certificate (g->gw), for the tenants' name fqdn ("" when the cloud
 * has none): its binding, what it serves, and the bound certificate's checks. */
static void check_gateway_tls(diag *g, const char *fqdn)
{
    const char *gw = g->gw.name;
    char bound_name[128] = "";
    ws_diag_checked(g, "%s's TLS certificate", gw);
    if (ws_setting_get(g->st, gw, WS_SET_SSL_CERT, bound_name, sizeof bound_name) != 0 || !bound_name[0]) {
        ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_CERT_MISSING, gw, WS_DIAG_ERROR,
                            "No SSL certificate is bound on the RD Gateway.");
        ws_diag_evidence(f, "%s has no ssl_cert setting (RD Gateway Manager: SSL Certificate): the service cannot start.", gw);
        fix_gateway_bind(g, f, fqdn);
        ws_diag_fix(f, "PowerShell: RD Gateway Manager > Properties > SSL Certificate > Import; Restart-Service TSGateway");
        return;
    }
    X509 *bound = NULL;
    ws_error e;
    if (ws_vault_get(g->st, bound_name, &bound, NULL, NULL, &e) != 0) {
        ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_CERT_MISSING, gw, WS_DIAG_ERROR,
                            "The RD Gateway's bound SSL certificate '%s' does not exist.", bound_name);
        ws_diag_evidence(f, "%s", e.msg);
        fix_gateway_bind(g, f, fqdn);
        return;
    }
    char bound_tp[41];
    ws_cert_thumbprint(bound, bound_tp);
    /* The service binds it from its My store, with its key, when it starts (REFERENCE.md
     * section 2): without that it does not start, whatever else is right. */
    int has_key = 0;
    if (!ws_store_contains(g->st, gw, "My", bound_name, &has_key) || !has_key) {
        EVP_PKEY *k = NULL;
        int vault_key = ws_vault_get(g->st, bound_name, NULL, &k, NULL, NULL) == 0 && k;
        EVP_PKEY_free(k);
        ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_CERT_MISSING, gw, WS_DIAG_ERROR,
                            "The RD Gateway's bound SSL certificate %s is not in %s's LocalMachine\\My with its "
                            "private key.",
                            bound_name, gw);
        ws_diag_evidence(f, "The service binds its certificate when it starts: without it the RD Gateway does not start "
                    "(its log: \"cannot bind the SSL certificate\").");
        if (vault_key) { /* imported again, mapped again: the mapping grants the service its key (lab/keyacl.h) */
            fix_member_binding(g, f, bound_name);
        } else {
            fix_gateway_bind(g, f, fqdn);
            ws_diag_fix(f, "PowerShell: Import-PfxCertificate -FilePath .\\%s.pfx -CertStoreLocation Cert:\\LocalMachine\\My   # on "
                   "%s; then Restart-Service TSGateway",
                bound_name, g->gw.fqdn);
        }
    }
    /* What the running gateway really serves. */
    if (!ws_diag_machine_down(g, gw)) {
        X509 *served = served_certificate(g, fqdn, &e);
        if (!served) {
            ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_TLS_FAILED, gw, WS_DIAG_ERROR,
                                "No TLS handshake with the RD Gateway completes.");
            ws_diag_evidence(f, "From the tenant's PC (%s) to %s:%d: %s.", g->have_client ? g->client.address : "?",
                     g->gw.address, g->gw.port, e.msg);
            ws_diag_fix(f, "wapsim service restart %s", gw);
            ws_diag_fix(f, "PowerShell: Restart-Service TSGateway   # on %s", g->gw.fqdn);
        } else {
            char served_tp[41];
            ws_cert_thumbprint(served, served_tp);
            if (strcmp(served_tp, bound_tp) != 0) {
                char *sd = ws_diag_describe(g->st, served, NULL), *bd = ws_diag_describe(g->st, bound, bound_name);
                char t[32];
                int64_t na = ws_cert_not_after(served);
                ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_CERT_STALE, gw, WS_DIAG_ERROR,
                                    "The RD Gateway still serves its old certificate: the bound one takes effect "
                                    "only when the service restarts.");
                ws_diag_evidence(f, "A TLS handshake from the tenant's PC gets %s; the binding (RD Gateway Manager) is %s.",
                         sd, bd);
                if (na <= g->now)
                    ws_diag_evidence(f, "The served certificate expired on %s, so Remote Desktop Connection stops with "
                                "50331655; that expiry is this same cause.",
                             ws_diag_when(na, t));
                else if (ws_cert_not_before(served) > g->now)
                    ws_diag_evidence(f, "The served certificate is not valid before %s.", ws_diag_when(ws_cert_not_before(served), t));
                ws_diag_fix(f, "wapsim service restart %s", gw);
                ws_diag_fix(f, "PowerShell: Restart-Service TSGateway   # on %s", g->gw.fqdn);
                free(sd);
                free(bd);
            }
            X509_free(served);
        }
    }
    /* The bound certificate: what is served after a restart (and now, unless stale). */
    if (fqdn[0])
        check_bound_cert(g, bound, bound_name, fqdn);
    X509_free(bound);
}

/* ---- 7. the hosts' console certificates ---- */

/* Candidates for a host's console: its My store's certificates with their keys. */
typedef struct host_candidates {
    char names[32][128];
    int n;
    int any; /* every entry, with its key in the store or not */
} host_candidates;

static int collect_candidate(const ws_store_entry *en, void *arg)
{
    host_candidates *hc = arg;
    if ((hc->any || en->has_private_key) && hc->n < 32)
        snprintf(hc->names[hc->n++], sizeof hc->names[0], "%s", en->cert_name);
    return 0;
}

/* The tenant's PC's judgement of cert for name: the client's rule (crypto/tls.h). */
static unsigned host_peer_check(diag *g, const ws_machine *h, X509 *cert, const char *name, ws_peer_check *pc)
{
    STACK_OF(X509) *roots = g->have_client ? ws_store_certs(g->st, g->client.name, "Root", NULL) : NULL;
    STACK_OF(X509) *chain = ws_store_certs(g->st, h->name, "My", NULL);
    unsigned p = ws_tls_check_peer(cert, chain, roots, g->now, name, pc);
    sk_X509_pop_free(roots, X509_free);
    sk_X509_pop_free(chain, X509_free);
    return p;
}

/* A root of the tenant's PC whose key the lab holds: the issuer for a new certificate. */
static int client_root_with_key(diag *g, char *out, size_t n)
{
    out[0] = '\0';
    host_candidates roots = {.any = 1};
    ws_error e;
    if (!g->have_client || ws_store_foreach(g->st, g->client.name, "Root", collect_candidate, &roots, &e) != 0)
        return -1;
    for (int i = 0; i < roots.n; i++) {
        X509 *c = NULL;
        EVP_PKEY *k = NULL;
        if (ws_vault_get(g->st, roots.names[i], &c, &k, NULL, &e) == 0 && k && ws_cert_self_signed(c))
            snprintf(out, n, "%s", roots.names[i]);
        X509_free(c);
        EVP_PKEY_free(k);
        if (out[0])
            return 0;
    }
    return -1;
}

/* The repair of a host's console certificate, as commands that run as printed: bind a
 * certificate the host already holds that the tenant's PC accepts for name, else make
 * one (issued by a root the PC trusts, naming the FQDN and, for an address, an IP SAN),
 * put it in the host's My store and bind it; the host binds it when its service
 * restarts (REFERENCE.md section 2). */
static void fix_host_cert(diag *g, ws_finding *f, const ws_machine *h, const char *bound, const char *name)
{
    host_candidates hc = {0};
    ws_error e;
    ws_store_foreach(g->st, h->name, "My", collect_candidate, &hc, &e);
    const char *use = NULL;
    for (int i = 0; !use && i < hc.n; i++) {
        X509 *c = NULL;
        ws_peer_check pc;
        ws_certreq_problem probs[WS_CERTREQ_MAX_PROBLEMS];
        int n = 0;
        if (strcmp(hc.names[i], bound) != 0 && ws_vault_get(g->st, hc.names[i], &c, NULL, NULL, &e) == 0 &&
            (n = ws_certreq_check(c, NULL, NULL, 0, WS_CERTREQ_HOST, NULL, g->now, probs, WS_CERTREQ_MAX_PROBLEMS)) >=
                0 &&
            !ws_certreq_has_error(probs, n < WS_CERTREQ_MAX_PROBLEMS ? n : WS_CERTREQ_MAX_PROBLEMS) &&
            host_peer_check(g, h, c, name, &pc) == 0)
            use = hc.names[i];
        X509_free(c);
    }
    char fresh[160], root[128];
    if (!use) {
        snprintf(fresh, sizeof fresh, "%s-console", h->name);
        char tp[41];
        for (int i = 2; i < 100 && ws_vault_thumbprint(g->st, fresh, tp) == 0; i++)
            snprintf(fresh, sizeof fresh, "%s-console-%d", h->name, i);
        int ip = ws_is_ip_literal(name);
        int have_root = client_root_with_key(g, root, sizeof root) == 0;
        ws_diag_fix(f,
            "wapsim cert new %s --subject CN=%s --san DNS:%s%s%s --eku serverAuth --key-usage "
            "digitalSignature,keyEncipherment %s%s --days 365",
            fresh, h->fqdn, h->fqdn, ip ? ",IP:" : "", ip ? name : "",
            have_root ? "--issuer " : "--self-signed", have_root ? root : "");
        ws_diag_fix(f, "wapsim cert import %s --machine %s --store My", fresh, h->name);
        if (!have_root && g->have_client)
            ws_diag_fix(f, "wapsim cert import %s --machine %s --store Root --public-only", fresh, g->client.name);
        use = fresh;
    }
    ws_diag_fix(f, "wapsim host set %s --rdp-cert %s", h->name, use);
    ws_diag_fix(f, "wapsim service restart %s", h->name);
    ws_diag_fix(f, "PowerShell: on %s, a certificate for %s%s%s in Cert:\\LocalMachine\\My, its thumbprint set as "
           "AuthCertificateHash (Msvm_TerminalService.ModifyServiceSettings); Restart-Service vmms",
        h->fqdn, h->fqdn, ws_is_ip_literal(name) ? " and " : "", ws_is_ip_literal(name) ? name : "");
}

/* The name VMM's .rdp files give host (vmm/issue.c): by VMConnectHostIdentificationMode. */
static void host_name_in_file(const ws_machine *h, const char *mode, char *name, size_t n)
{
    if (ws_dns_host_identifier(mode, h->name, h->fqdn, h->address, name, n) != 0)
        snprintf(name, n, "%s", h->fqdn);
}

/* One host: its bound certificate as the tenant's PC judges it (the client's rule,
 * ws_rdp_server_auth, for a file without an authentication level, as VMM writes
 * them): a name the certificate does not carry is an error (0x607), anything else
 * the PC cannot verify a warning the tenant clicks through. One finding per host: one
 * certificate, one repair. */
static void check_host_cert(diag *g, const ws_machine *h, const char *mode)
{
    ws_diag_checked(g, "%s's console certificate", h->name);
    char cname[128] = "";
    X509 *c = NULL;
    ws_error e;
    if (ws_setting_get(g->st, h->name, WS_SET_AUTH_CERT, cname, sizeof cname) != 0 ||
        ws_vault_get(g->st, cname, &c, NULL, NULL, &e) != 0) {
        ws_finding *f = ws_diag_add(g, WS_DIAG_HOST_CERT_MISSING, h->name, WS_DIAG_ERROR,
                            "%s has no usable certificate for console connections (port 2179).", h->name);
        ws_diag_evidence(f, "%s's AuthCertificateHash (auth_cert) %s%s%s.", h->name, cname[0] ? "names '" : "is not set",
                 cname, cname[0] ? "', which is not in the vault" : "");
        char name[256];
        host_name_in_file(h, mode, name, sizeof name);
        fix_host_cert(g, f, h, cname, name);
        return;
    }
    char name[256];
    host_name_in_file(h, mode, name, sizeof name);
    ws_peer_check pc;
    unsigned p = host_peer_check(g, h, c, name, &pc);
    ws_certreq_problem probs[WS_CERTREQ_MAX_PROBLEMS];
    int n = ws_certreq_check(c, NULL, NULL, 0, WS_CERTREQ_HOST, NULL, g->now, probs, WS_CERTREQ_MAX_PROBLEMS);
    const cert_problem *cp = NULL;
    for (int k = 0; k < n && k < WS_CERTREQ_MAX_PROBLEMS && !cp; k++)
        if (probs[k].severity == WS_CERTREQ_ERROR)
            cp = cert_problem_find(host_problems, probs[k].id);
    ws_srvauth verdict = ws_rdp_server_auth(WS_RDP_AUTH_LEVEL_DEFAULT, p, 0);
    if (verdict == WS_SRVAUTH_OK && !cp) {
        X509_free(c);
        return;
    }
    char *desc = ws_diag_describe(g->st, c, cname), why[600];
    ws_tls_peer_text(&pc, why, sizeof why);
    ws_diag_severity sev = verdict == WS_SRVAUTH_FAIL ? WS_DIAG_ERROR : WS_DIAG_WARNING;
    ws_finding *f;
    if (p & WS_PEER_NAME) {
        f = ws_diag_add(g, WS_DIAG_HOST_CERT_NAME_MISMATCH, h->name, sev,
                "%s's console certificate does not carry the name the .rdp file gives the host (%s).", h->name, name);
        ws_diag_evidence(f, "VMConnectHostIdentificationMode %s names %s as %s in full address; its certificate is %s: %s. "
                    "Remote Desktop Connection stops at the host: \"An authentication error occurred\" (0x607), "
                    "whatever the PC trusts [field: marcvaneijk 2014].",
                 mode, h->name, name, desc, why);
    } else if (cp && cp->validity) {
        f = ws_diag_add(g, cp->id, h->name, sev, "%s's console certificate %s %s.", h->name, cname, cp->what);
        ws_diag_evidence(f, "%s: %s. The tenant sees the identity warning and may connect anyway.", desc, why);
    } else if (cp) {
        f = ws_diag_add(g, cp->id, h->name, sev, "%s's console certificate %s %s.", h->name, cname, cp->what);
        ws_diag_evidence(f, "%s%s%s.", desc, p ? ": " : "", why);
    } else {
        f = ws_diag_add(g, WS_DIAG_HOST_CERT_UNTRUSTED, h->name, sev,
                "The tenant's PC cannot verify %s's console certificate %s: tenants see a warning.", h->name, cname);
        char *roots = g->have_client ? ws_diag_store_names(g->st, g->client.name, "Root") : ws_strdup("?");
        ws_diag_evidence(f, "%s: %s (the PC's Root store holds %s). Remote Desktop Connection warns \"The identity of the "
                    "remote computer cannot be verified\"; the tenant may connect anyway (a file with "
                    "authentication level:i:1, or connect --strict, stops with 0x607).",
                 desc, why, roots);
        free(roots);
    }
    fix_host_cert(g, f, h, cname, name);
    if (p & WS_PEER_NAME) {
        ws_diag_fix(f, "PowerShell: Set-SCVMMServer -VMConnectHostIdentificationMode FQDN   # on %s, when the gateway can "
               "resolve the hosts' FQDNs",
            g->vmm.fqdn);
        ws_diag_fix(f, "PowerShell: on the SPF server, an IIS URL Rewrite outbound rule adding \"authentication level:i:0\" "
               "to the /VMConnection answers (the field's repair, marcvaneijk 2014)");
    }
    free(desc);
    X509_free(c);
}

static void check_host_certs(diag *g)
{
    if (!g->have_vmm)
        return;
    char mode[16] = "FQDN";
    ws_setting_get(g->st, g->vmm.name, WS_SET_VMM_HOST_ID_MODE, mode, sizeof mode);
    for (int i = 0; i < g->nmachines; i++) {
        const ws_machine *h = &g->machines[i];
        if (strcmp(h->role, "host") == 0 && ws_diag_host_selected(g, h->name))
            check_host_cert(g, h, mode);
    }
}

/* ---- the whole diagnosis ---- */

int ws_diagnose(ws_state *st, const ws_diag_opts *o, ws_diagnosis *d, ws_error *e)
{
    memset(d, 0, sizeof *d);
    diag *g = calloc(1, sizeof *g);
    if (!g)
        abort();
    g->st = st;
    g->d = d;
    g->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    g->now = ws_clock_now(st, NULL);
    g->gwc = (signer){.param = "VMConnectGatewayCertificate", .setting = WS_SET_VMM_GATEWAY_CERT};
    g->hvc = (signer){.param = "VMConnectHyperVCertificate", .setting = WS_SET_VMM_HYPERV_CERT};
    ws_error ignored;
    if (ws_machine_foreach(st, collect_machine, g, e) != 0) {
        free(g);
        return -1;
    }
    g->have_vmm = ws_machine_by_role(st, "vmm", &g->vmm, &ignored) == 0;
    g->have_gw = ws_machine_by_role(st, "gateway", &g->gw, &ignored) == 0;
    g->have_client = ws_machine_by_role(st, "client", &g->client, &ignored) == 0;
    g->have_portal = ws_machine_by_role(st, "portal", &g->portal, &ignored) == 0;
    char host[64] = "";
    if (o && o->vm) {
        ws_vm vm;
        int found = ws_vm_find(st, o->vm, &vm, e);
        if (found == -1) {
            free(g);
            return -1;
        }
        if (found == 0)
            snprintf(host, sizeof host, "%s", vm.host);
        if (!host[0]) {
            free(g);
            return ws_seterr(e, "unknown VM '%s'", o->vm);
        }
        g->only_host = host;
    }
    g->ttl_minutes = 2;
    char v[32];
    if (g->have_vmm && ws_setting_get(st, g->vmm.name, WS_SET_VMM_TTL_MINUTES, v, sizeof v) == 0 && atoi(v) > 0)
        g->ttl_minutes = atoi(v);

    check_processes(g);
    check_clocks(g);
    check_vmm(g);
    check_hosts(g);
    ws_diag_check_trust(g);
    /* Every RD Gateway on its own, each finding at its machine: behind a balancer each
     * member takes its share of the connections (issue 14). The TLS probe goes to the
     * member's own address with the name the tenants use as SNI, as an administrator's
     * `openssl s_client -connect rdgw02:8443 -servername rdgw.contoso.com`. */
    char fqdn[256] = "";
    ws_machine first = g->gw;
    check_gateway_trust(g);
    check_cloud_fqdn(g, fqdn, sizeof fqdn);
    if (g->have_gw)
        check_gateway_tls(g, fqdn);
    for (int i = 0; g->have_gw && i < g->nmachines; i++) {
        if (strcmp(g->machines[i].role, "gateway") != 0 || strcmp(g->machines[i].name, first.name) == 0)
            continue;
        g->gw = g->machines[i];
        check_gateway_trust(g);
        check_gateway_tls(g, fqdn);
    }
    g->gw = first;
    check_host_certs(g);
    ws_diag_check_keys(g);
    ws_diag_check_dns(g);
    ws_diag_check_balancer(g);
    ws_diag_check_https(g);

    free_signer(&g->gwc);
    free_signer(&g->hvc);
    free(g);
    return 0;
}
