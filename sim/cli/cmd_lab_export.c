/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_lab_export: `wapsim lab export OUT [--archive] [--redact]`: the lab as a deployment
 * file (lab/deployment.h), for `wapsim lab init DIR --from OUT` elsewhere. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/deployment.h"

static void print_export(const cJSON *o)
{
    printf("Exported %d machines and %d certificates%s to %s\n", (int)ws_cmd_json_num(o, "machines"),
           (int)ws_cmd_json_num(o, "certificates"), cJSON_IsTrue(cJSON_GetObjectItem(o, "redacted")) ? ", redacted," : "",
           ws_cmd_json_str(o, "path"));
    const cJSON *w, *warnings = cJSON_GetObjectItem(o, "warnings");
    cJSON_ArrayForEach(w, warnings) printf("  warning: %s\n", w->valuestring);
    printf("Load it with: wapsim lab init DIR --from %s\n", ws_cmd_json_str(o, "path"));
}

static int lab_export(int argc, char **argv)
{
    int archive = 0, redact = 0;
    const ws_opt opts[] = {WS_OPT_FLAG("archive", &archive), WS_OPT_FLAG("redact", &redact), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, WS_OPT_JSON, "where to? (wapsim lab export OUT [--archive] [--redact])", &cli);
    if (rc)
        return rc;
    const char *out = cli.argv[0];
    ws_error e = {""};
    /* Refused before the lab is read: nothing is written over. */
    if (ws_deploy_export_target_ok(out, archive, &e) != 0)
        return ws_cmd_usage_error("lab export: %s", e.msg);
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)) != 0)
        return rc;
    ws_deploy_export x;
    if (ws_deploy_export_build(st, &x, &e) != 0 || (redact && ws_deploy_redact(st, &x, &e) != 0) ||
        ws_deploy_export_write(&x, out, archive, &e) != 0) {
        if (x.doc)
            ws_deploy_export_free(&x);
        ws_warn("lab export: %s", e.msg);
        return ws_cmd_close(st, WS_EXIT_FAIL);
    }
    char abs[PATH_MAX];
    if (!realpath(out, abs))
        snprintf(abs, sizeof abs, "%s", out);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", abs);
    cJSON_AddStringToObject(o, "kind", archive ? "tar.gz" : "folder");
    cJSON_AddNumberToObject(o, "machines", x.machines);
    cJSON_AddNumberToObject(o, "certificates", ws_deploy_export_count(&x));
    cJSON_AddBoolToObject(o, "redacted", redact);
    cJSON *w = cJSON_AddArrayToObject(o, "warnings");
    for (int i = 0; i < x.warnings.n; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(x.warnings.v[i]));
    ws_deploy_export_free(&x);
    ws_cmd_output(cli.json, o, print_export);
    return ws_cmd_close(st, 0);
}

const ws_cmd ws_cmds_lab_export[] = {
    {"lab", "export", lab_export, "OUT [--archive] [--redact] [--json]",
     "Write the lab as a deployment file (deployment.json and certs/), for lab init --from.",
     "The lab (running or stopped) in the deployment format (schema/deployment-v1.schema.json):\n"
     "machines, addresses, clock skews, DNS views, the tenant's PC's hosts file, stores\n"
     "(certificates once each as certs/<name>.cer, DER; a held key's provider, type and\n"
     "access list), bindings, trusted issuers, VMM's console settings, the balancer,\n"
     "tenants, subscriptions and VMs; collected_at is the lab clock's now. Nothing private:\n"
     "no private key, no password. A fault that lives only in a running process (a service\n"
     "not restarted after a change) is not configuration and does not travel.\n"
     "OUT must not exist, or be an empty folder; it is written as OUT.tmp.PID, then renamed.\n"
     "  --archive   OUT is one .tar.gz file (must not exist; its name ends in .tar.gz or\n"
     "              .tgz) holding the same files\n"
     "  --redact    replace the names consistently, in the file and the certificates:\n"
     "              domains (contoso.com -> customer1.example, fabric.contoso.local ->\n"
     "              sub1.customer1.local), NetBIOS domains, accounts, tenants, subscriptions, VMs,\n"
     "              machine names holding such a word; the description is dropped;\n"
     "              certificates re-issued under the new names with the lab's own keys, so\n"
     "              thumbprints change and every reference follows (README: lab export)\n"
     "  --json      print {\"path\",\"kind\",\"machines\",\"certificates\",\"redacted\",\"warnings\"}\n"},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
