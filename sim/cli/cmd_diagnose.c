/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim diagnose: what is wrong with the lab's Console Connect deployment, and how
 * to repair it (diagnose.h does the checks). Exit 0 with no findings, 1 with any,
 * 2 for a bad value (an unknown VM, no lab). --fix runs the repairs (repair.h): exit 0
 * when nothing is left after them, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "train/diagnose.h"
#include "train/exercise.h"
#include "train/repair.h"

/* Text wrapped at width columns, each line indented. */
static void wrapped(const char *indent, const char *text, int width)
{
    const char *p = text;
    int col = 0;
    fputs(indent, stdout);
    col = (int)strlen(indent);
    int start = col;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t w = strcspn(p, " ");
        if (col > start && col + 1 + (int)w > width) {
            printf("\n%s", indent);
            col = start;
        } else if (col > start) {
            putchar(' ');
            col++;
        }
        fwrite(p, 1, w, stdout);
        col += (int)w;
        p += w;
    }
    putchar('\n');
}

static void print_text(const ws_diagnosis *d, const char *lab, const char *vm)
{
    int errors = 0, warnings = 0;
    for (int i = 0; i < d->n; i++)
        if (d->findings[i].severity == WS_DIAG_WARNING)
            warnings++;
        else
            errors++;
    if (d->n == 0)
        printf("Diagnosis of %s%s%s: no findings. Every requirement checked holds.\n", lab, vm ? " for VM " : "",
               vm ? vm : "");
    else
        printf("Diagnosis of %s%s%s: %d finding%s (%d error%s, %d warning%s).\n", lab, vm ? " for VM " : "",
               vm ? vm : "", d->n, d->n == 1 ? "" : "s", errors, errors == 1 ? "" : "s", warnings,
               warnings == 1 ? "" : "s");
    for (int i = 0; i < d->n; i++) {
        const ws_finding *f = &d->findings[i];
        printf("\n%s  %s  on %s\n", f->severity == WS_DIAG_WARNING ? "WARNING" : "ERROR", f->id, f->machine);
        wrapped("  ", f->summary, 100);
        if (f->evidence[0]) {
            char *line = ws_printf("Evidence: %s", f->evidence);
            wrapped("  ", line, 100);
            free(line);
        }
        if (f->fix.n) {
            printf("  Fix:\n");
            for (int k = 0; k < f->fix.n; k++)
                printf("    %s\n", f->fix.v[k]);
        }
    }
    if (d->checks.n) {
        ws_buf all;
        ws_buf_init(&all, WS_BUF_MAX_REPORT);
        ws_buf_adds(&all, "Checked: ");
        for (int i = 0; i < d->checks.n; i++)
            ws_buf_addf(&all, "%s%s", d->checks.v[i], i + 1 < d->checks.n ? "; " : ".");
        putchar('\n');
        wrapped("", ws_buf_str(&all), 100);
        ws_buf_free(&all);
    }
}

/* diagnose --fix, as it goes: each line before it runs, its output after. */
static void fix_progress(void *arg, const ws_fix_step *s, int done)
{
    (void)arg;
    if (!done) {
        printf("%s\n", s->line);
        fflush(stdout);
        return;
    }
    if (s->status < 0) {
        printf("%s   (already run for an earlier finding)\n", s->line);
        return;
    }
    ws_cmd_print_indented(s->output);
    if (s->status != 0)
        printf("  (exit %d)\n", s->status);
    fflush(stdout);
}

/* diagnose --fix: 0 when nothing is left, 1 otherwise (the failing line named on stderr). */
static int run_fix(ws_state *st, const ws_diag_opts *o, int json, const char *vm)
{
    ws_fix_report r;
    ws_error e;
    if (!json)
        printf("Diagnosing %s, then running each finding's wapsim fix lines in order.\n", st->lab_dir);
    if (ws_diagnose_fix(st, st->lab_dir, o, json ? NULL : fix_progress, NULL, &r, &e) != 0)
        return ws_cmd_usage_error("%s", e.msg);
    if (json) {
        ws_cmd_print_json(ws_fix_report_json(&r));
    } else if (r.before.n == 0) {
        printf("Nothing to repair: no findings.\n");
    } else {
        for (int i = 0; i < r.unfixable.n; i++)
            printf("%s has no wapsim fix line that can run: repair it by hand (wapsim diagnose shows how).\n",
                   r.unfixable.v[i]);
        if (r.failed < 0 && r.have_after) {
            printf("\nAfter the repair:\n");
            print_text(&r.after, st->lab_dir, vm);
        }
    }
    if (r.failed >= 0)
        ws_warn("diagnose --fix: stopped at a fix line that failed (exit %d): %s", r.steps[r.failed].status,
                r.steps[r.failed].line);
    int rc = r.ok ? WS_EXIT_OK : WS_EXIT_FAIL;
    ws_fix_report_free(&r);
    return rc;
}

static int cmd_diagnose(int argc, char **argv)
{
    const char *vm = NULL;
    int fix = 0;
    const ws_opt opts[] = {WS_OPT_STR("vm", &vm), WS_OPT_FLAG("fix", &fix), WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, WS_OPT_JSON, 0, 0, &cli);
    if (rc)
        return rc;
    if (vm && !*vm)
        return ws_cmd_usage_error("option '--vm' needs a VM name");
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_attempt att;
    if (ws_exercise_current(st, &att) == WS_ATTEMPT_ACTIVE && !att.allow_diagnose) {
        ws_state_close(st);
        return ws_cmd_usage_error("diagnose%s is not available during an exercise (the trainer did not start it "
                                  "with --allow-diagnose)",
                                  fix ? " --fix" : "");
    }
    ws_diag_opts o = {.vm = vm};
    if (fix)
        return ws_cmd_close(st, run_fix(st, &o, cli.json, vm));
    ws_diagnosis d;
    ws_error e;
    if (ws_diagnose(st, &o, &d, &e) != 0)
        return ws_cmd_close(st, ws_cmd_usage_error("%s", e.msg));
    if (cli.json)
        ws_cmd_print_json(ws_diagnosis_json(&d));
    else
        print_text(&d, st->lab_dir, vm);
    rc = d.n ? WS_EXIT_FAIL : WS_EXIT_OK;
    ws_diagnosis_free(&d);
    return ws_cmd_close(st, rc);
}

const ws_cmd ws_cmds_diagnose[] = {
    {NULL, "diagnose", cmd_diagnose, "[--vm V] [--fix] [--json]",
     "What is wrong with Console Connect in this lab, and how to repair it.",
     "Checks every requirement of the field note by reading the lab's configuration and\n"
     "probing the running lab, in this order:\n"
     "  1. processes     the lab and each machine's service (lab-down, process-down)\n"
     "  2. clocks        each machine's clock against the lab's, bound by the token time to\n"
     "                   live (clock-skew)\n"
     "  3. VMM           the certificates VMM signs with: configured, private key, validity,\n"
     "                   key usage, EKU, CSP (vmm-cert-*)\n"
     "  4. hosts         each host's agent, asked from the VMM server's address: its\n"
     "                   TrustedIssuerCertificateHashes and LocalMachine\\My; the chain to its\n"
     "                   LocalMachine\\Root on its clock (host-trust-list-stale,\n"
     "                   vmm-cert-not-in-host-my, vmm-cert-not-trusted-on-host); its System\n"
     "                   log: a service started (7036) before its list last changed (14170)\n"
     "                   still trusts the old thumbprint (host-trust-list-stale)\n"
     "  5. gateway trust FedAuthSettings.TrustedIssuerCertificates and the gateway's stores\n"
     "                   (gateway-issuer-not-trusted, vmm-cert-not-trusted-on-gateway)\n"
     "  6. gateway TLS   a TLS handshake from the tenant's PC: the served certificate against\n"
     "                   the bound one (gateway-cert-stale), then the bound one against the\n"
     "                   cloud's RD Gateway FQDN (gateway-fqdn-mismatch, gateway-cert-no-dns-san,\n"
     "                   gateway-cert-expired, gateway-cert-eku, ...)\n"
     "  7. host TLS      each host's console certificate as the tenant's PC judges it, for the\n"
     "                   name the .rdp file gives the host (host-cert-name-mismatch: 0x607;\n"
     "                   host-cert-untrusted, a warning: tenants click through the identity warning)\n"
     "  8. gateway DNS   each gateway resolves each host's .rdp name through its own view\n"
     "                   (wapsim dns show): gateway-cannot-resolve-host\n"
     "  9. balancers     each load balancer in front of the gateways: a plain HTTP request from\n"
     "                   its address to each member when it offloads TLS without re-encrypting\n"
     "                   (balancer-tls-offload); its affinity for the legacy transport's pair of\n"
     "                   connections (balancer-no-affinity: a warning, an error once a member\n"
     "                   logged event 210)\n"
     " 10. HTTPS         a TLS handshake from the tenant's PC to the tenant site and from the\n"
     "                   portal to SPF, each judged on the caller's Root store, clock and the\n"
     "                   name it connects by (portal-cert-untrusted, spf-cert-untrusted: HTTP\n"
     "                   502 on Connect)\n"
     "Each finding names one cause, once, at its machine, with the values seen and the repair\n"
     "as wapsim commands and as the real PowerShell or portal step.\n"
     "Every wapsim fix line runs as printed (a new certificate is made under a name the lab\n"
     "does not hold yet, then used by that name).\n"
     "  --vm V    host checks only for V's host (the other checks still run)\n"
     "  --fix     repair: run each finding's wapsim fix lines in order, as `wapsim --lab LAB ...`\n"
     "            subprocesses, printing each line and its output; stop at the first that\n"
     "            fails; a line already run for an earlier finding is not run again. Then\n"
     "            diagnose again. Exit 0 only when no finding (error or warning) is left; a\n"
     "            finding without a wapsim line (a step outside the lab) is named and left.\n"
     "            Refused while an exercise runs, unless it was started with --allow-diagnose\n"
     "  --json    {\"findings\":[{\"id\",\"machine\",\"severity\":\"error|warning\",\"summary\",\n"
     "            \"evidence\",\"fix\":[\"wapsim ...\",\"PowerShell: ...\"]}],\"checks\":[...]}\n"
     "            with --fix: {\"ok\",\"before\":{...},\"steps\":[{\"finding\",\"machine\",\"line\",\n"
     "            \"status\",\"repeat\",\"output\"}],\"failed\":\"LINE\"|null,\"unfixable\":[\"id@machine\"],\n"
     "            \"after\":{...}}\n"
     "Exit 0 with no findings, 1 with any, 2 for an unknown VM or an unusable lab (or an exercise\n"
     "in progress). With --fix: 0 when nothing is left, 1 when a line failed or findings remain.\n"},
    {0},
};
