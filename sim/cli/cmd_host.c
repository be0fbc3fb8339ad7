/* wapsim host set: a Hyper-V host's console settings, as an administrator changes
 * Msvm_TerminalServiceSettingData through WMI. The host reads them at each console
 * connection (host/rdp.c), so a change takes effect at the next connection. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/events.h"
#include "lab/machine.h"
#include "lab/settings.h"

static int cmd_host_set(int argc, char **argv)
{
    const char *version = NULL;
    const ws_opt opts[] = {WS_OPT_STR("rdstls-reply-version", &version), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, 0,
                              "which host? (wapsim host set HOST --rdstls-reply-version 1|echo)", &cli);
    if (rc)
        return rc;
    const char *host = cli.argv[0];
    if (!version)
        return ws_cmd_usage_error("nothing to set on '%s' (--rdstls-reply-version 1|echo)", host);
    if (strcmp(version, "1") != 0 && strcmp(version, "echo") != 0)
        return ws_cmd_usage_error("bad --rdstls-reply-version '%s' (1 or echo)", version);
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_machine m;
    ws_error e;
    if ((rc = ws_cmd_machine(st, host, "host", &m)))
        return ws_cmd_close(st, rc);
    char old[32] = "";
    if (ws_setting_get(st, m.name, WS_SET_RDSTLS_REPLY_VERSION, old, sizeof old) != 0)
        snprintf(old, sizeof old, "1");
    if (ws_setting_set(st, m.name, WS_SET_RDSTLS_REPLY_VERSION, version, &e) != 0) {
        ws_state_close(st);
        ws_warn("%s", e.msg);
        return WS_EXIT_FAIL;
    }
    ws_event_write(st, m.name, WS_EV_HYPERV_14170_RDSTLS_VERSION, version, old);
    printf("%s: RDSTLS Auth response Version set to %s (was %s)%s; takes effect at the next console connection.\n",
           m.name, version, old,
           strcmp(version, "echo") == 0 ? ": the request's Version, as FreeRDP 3.30 and later need"
                                        : ": Version 1, as FreeRDP 3.29 needs");
    return ws_cmd_close(st, 0);
}

const ws_cmd ws_cmds_host[] = {
    {"host", "set", cmd_host_set, "HOST --rdstls-reply-version 1|echo",
     "Change a Hyper-V host's console settings (Msvm_TerminalServiceSettingData).",
     "  --rdstls-reply-version 1|echo\n"
     "           the Version of the host's RDSTLS Auth response: 1 (the default; FreeRDP 3.29\n"
     "           accepts only Version 1) or echo (the request's Version; FreeRDP 3.30 and later\n"
     "           require it). Both clients send identical requests, so the host cannot tell\n"
     "           them apart (REFERENCE.md section 8). Read at each console connection.\n"
     "HOST must be a machine with role host (hv01, hv02).\n"},
    {0},
};
