/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim rdp-file | rdp-verify: the tenant's browser asking the portal for a console,
 * and checking an .rdp file's signature as Remote Desktop Connection does.
 * (vmm fedauth, New-SCVMConnectFedAuth, is in cmd_vmm.c with the other VMM commands.) */
#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cert.h"
#include "client/client.h"
#include "lab/clock.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "svc/httpc.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "wire/rdpfile.h"
#include "lab/store.h"

static void print_failure_json(const ws_http_response *rs, const char *saved)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddNumberToObject(o, "http_status", (double)rs->status);
    cJSON_AddStringToObject(o, "content_type", rs->content_type);
    cJSON_AddStringToObject(o, "content_disposition", rs->content_disposition);
    if (saved)
        cJSON_AddStringToObject(o, "file", saved);
    else
        cJSON_AddNullToObject(o, "file");
    cJSON *body = cJSON_ParseWithLength((const char *)rs->body, rs->body_len);
    if (body)
        cJSON_AddItemToObject(o, "body", body);
    else
        cJSON_AddStringToObject(o, "body", (const char *)rs->body);
    ws_cmd_print_json(o);
}

/* Where the browser's answer goes: --out FILE, or as a browser saves a download, under the
 * name its Content-Disposition gives (else fallback) in --out DIR or the current
 * directory. 1 when path was set, 0 when --out names a file and this is not the .rdp. */
static int save_path(const char *out, const ws_http_response *rs, const char *fallback, int rdp, char *path,
                     size_t n)
{
    struct stat sb;
    int is_dir = !out || (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode));
    if (!is_dir) {
        snprintf(path, n, "%s", out);
        return rdp;
    }
    char name[256];
    ws_browser_file_name(rs, fallback, name, sizeof name);
    if (!rdp && !strchr(rs->content_disposition, '=')) /* not a download: the browser shows it */
        return 0;
    snprintf(path, n, "%s/%s", out ? out : ".", name);
    return 1;
}

static int cmd_rdp_file(int argc, char **argv)
{
    const char *tenant = NULL, *vm = NULL, *out = NULL, *password = NULL;
    const ws_opt opts[] = {WS_OPT_STR("tenant", &tenant), WS_OPT_STR("vm", &vm), WS_OPT_STR("out", &out),
                           WS_OPT_STR("password", &password), WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, WS_OPT_JSON, 0, 0, &cli);
    if (rc)
        return rc;
    int json = cli.json;
    if (!tenant || !vm)
        return ws_cmd_usage_error("rdp-file needs --tenant and --vm");
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    char pw[128];
    if (!password) {
        if (ws_lab_password(st, tenant, pw, sizeof pw) != 0)
            return ws_cmd_close(st, ws_cmd_usage_error("unknown tenant '%s' (see wapsim lab accounts)", tenant));
        password = pw;
    }
    ws_error e;
    ws_http_response rs = {0};
    char path[4200], fallback[300];
    rc = WS_EXIT_FAIL;
    if (ws_browser_get_console(st, tenant, password, vm, &rs, &e) != 0)
        goto transport;
    int rdp = rs.status == 200 && strcmp(rs.content_type, "application/x-rdp") == 0;
    snprintf(fallback, sizeof fallback, "%s.%s", vm, rdp ? "rdp" : "json");
    int save = save_path(out, &rs, fallback, rdp, path, sizeof path);
    if (save && ws_write_file(path, rs.body, rs.body_len, 0600, &e) != 0) {
        ws_warn("%s", e.msg);
        goto done;
    }
    if (!rdp)
        goto refused;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "ok", 1);
        cJSON_AddStringToObject(o, "file", path);
        cJSON_AddNumberToObject(o, "bytes", (double)rs.body_len);
        cJSON_AddStringToObject(o, "content_disposition", rs.content_disposition);
        ws_cmd_print_json(o);
    } else {
        printf("Saved %s (%zu bytes, %s)\n", path, rs.body_len, rs.content_type);
    }
    rc = 0;
    goto done;
refused:
    if (json)
        print_failure_json(&rs, save ? path : NULL);
    else
        printf("The browser %s%s%s HTTP %ld (%s) instead of an .rdp file:\n%s\n", save ? "saved " : "received",
               save ? path : "", save ? ":" : "", rs.status, rs.content_type[0] ? rs.content_type : "no content type",
               (const char *)rs.body);
    goto done;
transport:
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "ok", 0);
        cJSON_AddNullToObject(o, "http_status");
        cJSON_AddStringToObject(o, "error", e.msg);
        ws_cmd_print_json(o);
    } else {
        printf("The browser could not reach the portal: %s\n", e.msg);
    }
done:
    ws_http_response_free(&rs);
    return ws_cmd_close(st, rc);
}

static int cmd_rdp_verify(int argc, char **argv)
{
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, NULL, WS_OPT_JSON, 0, -1, &cli);
    if (rc)
        return rc;
    if (cli.argc != 1)
        return ws_cmd_usage_error("which file? (wapsim rdp-verify FILE)");
    int json = cli.json;
    const char *file = cli.argv[0];
    unsigned char *data;
    size_t len;
    ws_error e;
    if (ws_read_file(file, WS_RDP_FILE_MAX, &data, &len, &e) != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    ws_rdp_file f;
    rc = ws_rdp_parse(data, len, &f, &e);
    free(data);
    if (rc != 0) {
        ws_warn("%s: %s", file, e.msg);
        return WS_EXIT_USAGE;
    }
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st))) {
        ws_rdp_free(&f);
        return rc;
    }
    STACK_OF(X509) *roots = ws_store_certs(st, "client", "Root", NULL);
    ws_rdp_signature sig;
    memset(&sig, 0, sizeof sig);
    int valid = ws_rdp_verify(&f, roots, ws_clock_now(st, "client"), &sig, &e) == 0;
    char *subject = sig.signer ? ws_cert_subject(sig.signer) : NULL;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "signed", valid);
        if (!valid)
            cJSON_AddStringToObject(o, "error", e.msg);
        if (subject) {
            cJSON_AddStringToObject(o, "signer_subject", subject);
            cJSON_AddStringToObject(o, "signer_thumbprint", sig.thumbprint);
        }
        cJSON_AddBoolToObject(o, "trusted_by_client", valid && sig.trusted);
        if (valid && !sig.trusted)
            cJSON_AddStringToObject(o, "trust_error", sig.trust_error);
        ws_cmd_print_json(o);
    } else if (valid) {
        printf("Signature: valid\nSigner:    %s\nThumbprint: %s\nPublisher trusted by the client: %s%s%s\n", subject,
               sig.thumbprint, sig.trusted ? "yes" : "no (Remote Desktop Connection warns: unknown publisher)",
               sig.trusted ? "" : ": ", sig.trusted ? "" : sig.trust_error);
    } else {
        printf("Signature: not valid: %s\n", e.msg);
    }
    free(subject);
    X509_free(sig.signer);
    sk_X509_pop_free(roots, X509_free);
    ws_state_close(st);
    ws_rdp_free(&f);
    return valid ? 0 : WS_EXIT_FAIL;
}

const ws_cmd ws_cmds_rdpfile[] = {
    {NULL, "rdp-file", cmd_rdp_file, "--tenant T --vm V [--out FILE|DIR] [--password P] [--json]",
     "Do what the tenant's browser does: sign in, ask for a VM's console, save the file.",
     "Resolves names through the lab's hosts file and trusts the client machine's Root store.\n"
     "The password defaults to the lab's (wapsim lab accounts). Without --out, or with --out DIR,\n"
     "the file is saved as a browser saves a download: under the name the portal's\n"
     "Content-Disposition gives (web01.rdp), in DIR or the current directory. On failure prints\n"
     "what the browser received instead of an .rdp file (saving it too, as web01.json, unless\n"
     "--out names a file) and exits 1.\n"
     "  --json   {\"ok\":true,\"file\":...} or {\"ok\":false,\"http_status\":500,\"content_type\":...,\"body\":{...}}\n"},
    {NULL, "rdp-verify", cmd_rdp_verify, "FILE [--json]",
     "Check an .rdp file's signature and whether the client trusts its publisher.", NULL},
    {0},
};
