/* SPDX-License-Identifier: Apache-2.0 */
/* events: see events.h. */
#include "lab/events.h"

#include <inttypes.h>
#include <stdio.h>

/* Sources, spelt as Windows spells them. */
#define SCM "Service Control Manager"
#define KERNEL_GENERAL "Microsoft-Windows-Kernel-General"
#define TENANT_SITE "MgmtSvc-TenantSite"
#define ADMIN_SITE "MgmtSvc-AdminSite"
#define SPF "Service Provider Foundation"
#define VMM "VMM"
#define GATEWAY "Microsoft-Windows-TerminalServices-Gateway"
#define ADMINAPI "MgmtSvc-AdminAPI"
#define LIFECYCLE "Microsoft-Windows-CertificateServicesClient-Lifecycle-System"
#define VMMS "Hyper-V-VMMS"
#define BALANCER "Load Balancer" /* [model] an appliance's log, kept as a Windows-style channel */
#define SECURITY_AUDITING "Microsoft-Windows-Security-Auditing"
#define SCHANNEL "Schannel"
#define DNS_CLIENT "Microsoft-Windows-DNS-Client"

#define INFO WS_LEVEL_INFO
#define WARNING WS_LEVEL_WARNING
#define ERROR WS_LEVEL_ERROR

/* origin: where the row's id, source and text come from, a REFERENCE.md section or
 * [model] (test_events.c requires one; the README's table of events lists them, from
 * `wapsim symptoms`). A row written without it still builds, with no origin, so that
 * test names it instead of the whole build failing. */
#define ROW7(ev, id, channel, source, level, text, origin) [ev] = {ev, #ev, id, channel, source, level, text, origin}
#define ROW6(ev, id, channel, source, level, text) ROW7(ev, id, channel, source, level, text, NULL)
#define ROW_PICK(a1, a2, a3, a4, a5, a6, a7, name, ...) name
#define ROW(...) ROW_PICK(__VA_ARGS__, ROW7, ROW6, _)(__VA_ARGS__)

static const ws_event_def catalogue[WS_EV_COUNT] = {
    /* Service Control Manager: the supervisor and each component as it starts. */
    ROW(WS_EV_SCM_7036_RUNNING, 7036, WS_CHANNEL_SYSTEM, SCM, INFO, "The %s service entered the running state.",
        "[model] Windows' Service Control Manager wording, written by the lab's supervisor (README Models)"),
    ROW(WS_EV_SCM_7036_STOPPED, 7036, WS_CHANNEL_SYSTEM, SCM, INFO, "The %s service entered the stopped state.",
        "[model] Windows' Service Control Manager wording, written by the lab's supervisor (README Models)"),
    ROW(WS_EV_SCM_7031, 7031, WS_CHANNEL_SYSTEM, SCM, ERROR,
        "The %s service terminated unexpectedly.  It has done this %d time(s).  The following corrective action "
        "will be taken in %d milliseconds: Restart the service.",
        "[model] Windows' Service Control Manager wording; the restart policy is the lab's (README Models)"),
    ROW(WS_EV_KERNEL_1, 1, WS_CHANNEL_SYSTEM, KERNEL_GENERAL, INFO,
        "The system time has changed to %s from %s. Change Reason: An application or system component changed the "
        "time.",
        "[model] Windows' Kernel-General wording, written when the lab clock is moved"),

    ROW(WS_EV_APP_1_LAB_CREATED, 1, WS_CHANNEL_APPLICATION, "wapsim", INFO, "Lab created on subnet %s (keys %s).",
        "[model] the lab's own event"),
    ROW(WS_EV_APP_1_FAILED, 1, WS_CHANNEL_APPLICATION, NULL, ERROR, "%s",
        "[model] the lab's own event: a component that cannot start"),
    ROW(WS_EV_APP_1_FABRIC, 1, WS_CHANNEL_APPLICATION, "wapsim", INFO, "%s",
        "[model] the lab's own event: a machine joined or left the fabric (wapsim fabric)"),
    ROW(WS_EV_PORTAL_100, 100, WS_CHANNEL_APPLICATION, TENANT_SITE, INFO, "Tenant '%s' signed in from %s.",
        "[model] id and text: the tenant site's sign-in logging is not public"),
    ROW(WS_EV_PORTAL_101, 101, WS_CHANNEL_APPLICATION, TENANT_SITE, WARNING, "Sign-in failed for '%.64s' from %s.",
        "[model] id and text: the tenant site's sign-in logging is not public"),
    ROW(WS_EV_PORTAL_101_LOCKED, 101, WS_CHANNEL_APPLICATION, TENANT_SITE, WARNING,
        "Sign-in failed for '%.64s' from %s: the referenced account is currently locked out and may not be logged on "
        "to.",
        "[model] id and text (the tenant site's logging is not public); the reason is Windows' text for "
        "ERROR_ACCOUNT_LOCKED_OUT (1909)"),
    /* [model] the portal's per-source sign-in throttle (portal/throttle.h); logged once as
     * an address becomes throttled. */
    ROW(WS_EV_PORTAL_429, 429, WS_CHANNEL_APPLICATION, TENANT_SITE, WARNING,
        "Sign-in attempts from %s are refused for now (429): %d failed sign-ins from that address within %d "
        "seconds.",
        "[model] the lab's per-source sign-in throttle (HTTP 429, RFC 6585)"),
    ROW(WS_EV_PORTAL_403, 403, WS_CHANNEL_APPLICATION, TENANT_SITE, WARNING,
        "Tenant '%s' asked for the console of '%.64s', which is not one of its virtual machines.",
        "[model] id and text: the tenant site's logging is not public"),
    /* The admin site on the same machine (portal/admin_site.c), its own source as IIS runs
     * it as its own site. */
    ROW(WS_EV_ADMIN_100, 100, WS_CHANNEL_APPLICATION, ADMIN_SITE, INFO, "Administrator '%s' signed in from %s.",
        "[model] id and text: the admin site's sign-in logging is not public"),
    ROW(WS_EV_ADMIN_101, 101, WS_CHANNEL_APPLICATION, ADMIN_SITE, WARNING, "Sign-in failed for '%.64s' from %s.",
        "[model] id and text: the admin site's sign-in logging is not public"),
    ROW(WS_EV_ADMIN_101_LOCKED, 101, WS_CHANNEL_APPLICATION, ADMIN_SITE, WARNING,
        "Sign-in failed for '%.64s' from %s: the referenced account is currently locked out and may not be logged on "
        "to.",
        "[model] id and text (the admin site's logging is not public); the reason is Windows' text for "
        "ERROR_ACCOUNT_LOCKED_OUT (1909)"),
    ROW(WS_EV_ADMIN_429, 429, WS_CHANNEL_APPLICATION, ADMIN_SITE, WARNING,
        "Sign-in attempts from %s are refused for now (429): %d failed sign-ins from that address within %d "
        "seconds.",
        "[model] the lab's per-source sign-in throttle (HTTP 429, RFC 6585), shared by both sites"),

    ROW(WS_EV_SPF_1_VMM_UNREACHABLE, 1, WS_CHANNEL_SPF, SPF, ERROR,
        "Operation manager plugin method 'GetReadStream' for resource name 'VMM.VirtualMachine' failed with error "
        "messsage 'VMM server %s is not reachable: %s'",
        "REFERENCE.md section 6 (SPF's GetReadStream wording, [field]); [model] id, channel and inner message"),
    ROW(WS_EV_SPF_1_VMM_ERROR, 1, WS_CHANNEL_SPF, SPF, ERROR,
        "Operation manager plugin method 'GetReadStream' for resource name 'VMM.VirtualMachine' failed with error "
        "messsage '%s'",
        "REFERENCE.md section 6 (SPF's GetReadStream wording, [field]); [model] id and channel"),
    ROW(WS_EV_SPF_401, 401, WS_CHANNEL_SPF, SPF, WARNING, "Refused a request from %s: bad credentials for '%.64s'.",
        "[model] id and text"),
    ROW(WS_EV_SPF_401_LOCKED, 401, WS_CHANNEL_SPF, SPF, WARNING,
        "Refused a request from %s: the account '%.64s' is locked out.",
        "[model] id and text"),
    ROW(WS_EV_SPF_403, 403, WS_CHANNEL_SPF, SPF, WARNING,
        "Tenant '%s' asked for a console of virtual machine %s, which is not in its subscriptions.",
        "[model] id and text"),

    /* VMM's events are [model] ids on the "VMM" channel; 12004 is also what Read-SCVMHost
     * logs when a host does not answer. */
    ROW(WS_EV_VMM_801_BAD_ID, 801, WS_CHANNEL_VMM, VMM, ERROR, "'%.64s' is not a virtual machine ID.",
        "[model] id and text (VMM's event ids are not public)"),
    ROW(WS_EV_VMM_801_NOT_FOUND, 801, WS_CHANNEL_VMM, VMM, ERROR, "VMM cannot find the virtual machine %s.",
        "[model] id and text (VMM's event ids are not public)"),
    ROW(WS_EV_VMM_1604, 1604, WS_CHANNEL_VMM, VMM, WARNING,
        "Refused a request from %s: the caller is not Service Provider Foundation.",
        "[model] id and text: VMM refusing a caller that is not SPF (how real VMM logs it is not public)"),
    ROW(WS_EV_VMM_1604_CREDENTIALS, 1604, WS_CHANNEL_VMM, VMM, WARNING,
        "Refused a request from %s: %s.",
        "[model] id and text: VMM refusing SPF's service account credentials"),
    ROW(WS_EV_VMM_12001_NOT_SET, 12001, WS_CHANNEL_VMM, VMM, ERROR, "No %s is configured (Set-SCVMMServer -%sPath).",
        "REFERENCE.md section 2 (Set-SCVMMServer -VMConnect*CertificatePath); [model] id and text"),
    ROW(WS_EV_VMM_12001_NOT_LOADED, 12001, WS_CHANNEL_VMM, VMM, ERROR, "The %s '%s' cannot be loaded: %s.",
        "REFERENCE.md section 2 (the certificate requirements); [model] id and text"),
    ROW(WS_EV_VMM_12001_NO_KEY, 12001, WS_CHANNEL_VMM, VMM, ERROR,
        "The %s %s (%s) has no private key in the VMM database: Keyset does not exist.",
        "REFERENCE.md sections 6 and 9 (\"Keyset does not exist\", [field]); [model] id"),
    ROW(WS_EV_VMM_12001_EXPIRED, 12001, WS_CHANNEL_VMM, VMM, ERROR, "The %s %s (%s) expired on %s.",
        "REFERENCE.md section 2 (not expired); [model] id and text"),
    ROW(WS_EV_VMM_12001_NOT_YET, 12001, WS_CHANNEL_VMM, VMM, ERROR, "The %s %s (%s) is not valid before %s.",
        "REFERENCE.md section 2 (validity); [model] id and text"),
    ROW(WS_EV_VMM_12001_KEY_USAGE, 12001, WS_CHANNEL_VMM, VMM, ERROR,
        "The %s %s (%s) cannot sign tokens: its key usage does not include Digital Signature.",
        "REFERENCE.md section 2 (Key Usage Digital Signature); [model] id and text"),
    ROW(WS_EV_VMM_12001_EKU, 12001, WS_CHANNEL_VMM, VMM, ERROR,
        "The %s %s (%s) cannot sign tokens: its enhanced key usage does not include Client Authentication "
        "(1.3.6.1.5.5.7.3.2).",
        "REFERENCE.md section 2 (EKU Client Authentication); [model] id and text"),
    ROW(WS_EV_VMM_12001_NO_ADDRESS, 12001, WS_CHANNEL_VMM, VMM, ERROR,
        "Host %s has no address for identification mode %s.",
        "REFERENCE.md section 2 (-VMConnectHostIdentificationMode); [model] id and text"),
    ROW(WS_EV_VMM_12001_NO_TOKENS, 12001, WS_CHANNEL_VMM, VMM, ERROR, "Cannot form tokens for host '%s' port %d.",
        "[model] id and text"),
    ROW(WS_EV_VMM_12001_RDP_FILE, 12001, WS_CHANNEL_VMM, VMM, ERROR, "Cannot sign the RDP file for %s: %s",
        "REFERENCE.md section 4 (the signed file); [model] id and text"),
    /* The service account cannot open the key container (keyacl.h): CryptoAPI's
     * NTE_BAD_KEYSET, "Keyset does not exist", the field's words (REFERENCE.md sections
     * 6 and 9). */
    ROW(WS_EV_VMM_12001_KEY_ACCESS, 12001, WS_CHANNEL_VMM, VMM, ERROR,
        "The %s %s (%s) cannot be used: the VMM service account cannot open its private key in LocalMachine\\%s "
        "(%s; %s): Keyset does not exist.",
        "REFERENCE.md sections 6 and 9 (\"Keyset does not exist\", [field]); [model] id and the rest of the text"),
    ROW(WS_EV_VMM_12002_KEYSET, 12002, WS_CHANNEL_VMM, VMM, ERROR, "Signing the console token with %s (%s) failed: %s",
        "REFERENCE.md section 6 (\"Keyset does not exist\", [field]); [model] id"),
    ROW(WS_EV_VMM_12002_CSP, 12002, WS_CHANNEL_VMM, VMM, ERROR,
        "Signing the console token with %s (%s), CSP \"%s\", failed: %s (0x%08" PRIX32 ")",
        "REFERENCE.md section 2 (NTE_BAD_ALGID 0x80090008, \"Invalid algorithm specified.\"); [model] id"),
    ROW(WS_EV_VMM_12002_FORMAT, 12002, WS_CHANNEL_VMM, VMM, ERROR, "Cannot form a console token signed by %s (%s).",
        "[model] id and text"),
    ROW(WS_EV_VMM_12003, 12003, WS_CHANNEL_VMM, VMM, ERROR,
        "Host %s cannot validate console tokens signed by %s (%s): %s. Run Read-SCVMHost after installing the "
        "certificate on the host.",
        "[model] the VMM-to-host check before issuing (the lab's VMM asks the host's agent; real VMM is not known to), its id and text"),
    ROW(WS_EV_VMM_12004, 12004, WS_CHANNEL_VMM, VMM, ERROR, "Host %s did not answer VMM (WinRM): %s.",
        "[model] id and text: a host that does not answer VMM"),
    ROW(WS_EV_VMM_12004_READ_HOST, 12004, WS_CHANNEL_VMM, VMM, ERROR,
        "Read-SCVMHost %s failed: the host did not answer VMM (WinRM) at %s:%d: %s.",
        "REFERENCE.md section 2 (Read-SCVMHost); [model] id and text"),
    ROW(WS_EV_VMM_12010, 12010, WS_CHANNEL_VMM, VMM, INFO,
        "Issued console access to %s (%s) on host %s as %s, valid until %s.",
        "[model] id and text: console access issued"),
    ROW(WS_EV_VMM_12020, 12020, WS_CHANNEL_VMM, VMM, INFO, "Set-SCVMMServer: %s.",
        "REFERENCE.md section 2 (Set-SCVMMServer); [model] id and text"),
    ROW(WS_EV_VMM_12021, 12021, WS_CHANNEL_VMM, VMM, INFO,
        "Read-SCVMHost %s: VMConnectHyperVCertificate %s (%s) %s the host's LocalMachine\\My; "
        "TrustedIssuerCertificateHashes = {%s}.",
        "REFERENCE.md section 2 (Read-SCVMHost installs the certificate, sets the trust list); [model] id and text"),
    /* The trace VMM writes when the provider cannot hash SHA-256 (REFERENCE.md section 6). */
    ROW(WS_EV_VMM_TRACE_CRYPTO, 0, WS_CHANNEL_TRACE, "vmmservice.exe", ERROR,
        "SCVMM Version=3.2.7620.0\n"
        "SCVMM flavor=C-buddy-RTL-AMD64\n"
        "Default Assembly Version=3.2.7620.0\n"
        "Executable Name=vmmservice.exe\n"
        "Executable Version=3.2.7510.0\n"
        "Base Exception Target Site=140727707248024\n"
        "Base Exception Assembly name=mscorlib.dll\n"
        "Base Exception Method Name=System.Security.Cryptography.CryptographicException."
        "ThrowCryptographicException\n"
        "Exception Message=%s",
        "REFERENCE.md section 6 (the trace block, verbatim from the seed)"),

    ROW(WS_EV_GATEWAY_200, 200, WS_CHANNEL_GATEWAY, GATEWAY, INFO,
        "The user \"%s\", on client computer \"%s\", met connection authorization policy requirements and was "
        "therefore authorized to access the RD Gateway server. The following authentication method was used: "
        "\"Cookie\".",
        "REFERENCE.md section 6 (id and text, [doc]); [model] the authentication method \"Cookie\" (what the FedAuth plug-in reports is not public)"),
    ROW(WS_EV_GATEWAY_201, 201, WS_CHANNEL_GATEWAY, GATEWAY, ERROR,
        "The user \"%s\", on client computer \"%s\", did not meet connection authorization policy requirements and "
        "was therefore not authorized to access the RD Gateway server. The following error occurred: \"0x%08X "
        "(%s): %s\".",
        "REFERENCE.md section 6 (id and text, [doc]; 201 for a refused cookie is [model] there); [model] the error's wording"),
    ROW(WS_EV_GATEWAY_301, 301, WS_CHANNEL_GATEWAY, GATEWAY, ERROR,
        "The user \"%s\", on client computer \"%s\", did not meet resource authorization policy requirements and "
        "was therefore not authorized to resource \"%s\". The following error occurred: \"0x%08X: %s\".",
        "REFERENCE.md section 6 (id and text, [doc]); [model] the error's wording \"0x...: reason\""),
    ROW(WS_EV_GATEWAY_302, 302, WS_CHANNEL_GATEWAY, GATEWAY, INFO,
        "The user \"%s\", on client computer \"%s\", connected to resource \"%s\".",
        "REFERENCE.md section 6 (id and text, [doc])"),
    ROW(WS_EV_GATEWAY_303, 303, WS_CHANNEL_GATEWAY, GATEWAY, INFO,
        "The user \"%s\", on client computer \"%s\", disconnected from the following network resource: \"%s\". "
        "Before the user disconnected, the client transferred %llu bytes and received %llu bytes. The client "
        "session duration was %lld seconds.",
        "REFERENCE.md section 6 (id and first sentence, [doc]); [model] the transfer sentence, worded as event 202's in the same doc"),
    ROW(WS_EV_GATEWAY_304, 304, WS_CHANNEL_GATEWAY, GATEWAY, ERROR,
        "The user \"%s\", on client computer \"%s\", met connection authorization policy and resource authorization "
        "policy requirements, but could not connect to resource \"%s\". The following error occurred: \"0x%08X: "
        "%s\".",
        "REFERENCE.md section 6 (id and text, [doc]; AAG_EVENT_CHANNEL_CONNECT_FAILED, TechNet cc727375); [model] the "
        "error's wording \"0x...: reason\", for a name the gateway cannot resolve WSAHOST_NOT_FOUND's text"),
    ROW(WS_EV_GATEWAY_103, 103, WS_CHANNEL_GATEWAY, GATEWAY, ERROR,
        "The Remote Desktop Gateway service does not have sufficient permissions to access the Secure Sockets Layer "
        "(SSL) certificate that is required to accept connections. To resolve this issue, bind (map) a valid SSL "
        "certificate by using RD Gateway Manager. For more information, see \"Obtain a certificate for the RD "
        "Gateway server\" in the RD Gateway Help. The following error occurred: \"%s\".",
        "[doc: technet ee907376, event 103 AAG_EVENT_STARTED_NOCERT_ACLS, id, source and text]; [model] the channel "
        "(Operational) and the error's wording"),
    ROW(WS_EV_GATEWAY_ADMIN_1010, 1010, WS_CHANNEL_GATEWAY_ADMIN, GATEWAY, INFO,
        "The SSL certificate of the RD Gateway server was changed to %s (thumbprint %s; was %s). The change takes "
        "effect when the Remote Desktop Gateway service restarts.",
        "[model] id and text; REFERENCE.md section 2 (the certificate is bound at start)"),
    ROW(WS_EV_GATEWAY_ADMIN_1011, 1011, WS_CHANNEL_GATEWAY_ADMIN, GATEWAY, INFO,
        "FedAuthSettings.TrustedIssuerCertificates = {%s} (was {%s}).",
        "REFERENCE.md section 2 (FedAuthSettings.TrustedIssuerCertificates); [model] id and text"),
    /* The legacy HTTP transport's IN channel (RDG_IN_DATA) arrived at a gateway that holds
     * no OUT channel (RDG_OUT_DATA) of its RDG-Connection-Id: behind a balancer without
     * affinity the pair went to two members (REFERENCE.md sections 7 and 9). */
    ROW(WS_EV_GATEWAY_ADMIN_210, 210, WS_CHANNEL_GATEWAY_ADMIN, GATEWAY, ERROR,
        "Http transport: IN channel could not find a corresponding OUT channel. RDG-Connection-Id %s, client computer "
        "\"%s\".",
        "[field: sevecek.com, \"RD Gateway error event 210 caused by NLB configured with no affinity\"; the "
        "provider's event list (detection-wiki, Microsoft-Windows-TerminalServices-Gateway)] id, Admin channel and "
        "first sentence; [model] the level Error and the second sentence"),
    /* A TLS listener that read something other than a TLS record (plain HTTP from an
     * offloading balancer): Schannel's fatal alert, as Windows Server 2012 R2 words 36888. */
    ROW(WS_EV_SCHANNEL_36888, 36888, WS_CHANNEL_SYSTEM, SCHANNEL, ERROR,
        "The following fatal alert was generated: %d. The internal error state is %d. (Peer %s sent %s.)",
        "[doc: Schannel Events, dn786445: 36888 \"A fatal alert was generated\", System log]; [field: Microsoft "
        "TechNet blog (K. Abluton, 2016) quoting 36888 \"The following fatal alert was generated: 20. The internal "
        "error state is 960\" on 2008 R2 to 2012 R2]; [model] alert 10 (unexpected_message, RFC 5246) with state "
        "1203 for bytes that are not a TLS record (field posts pair 10/1203 with non-TLS traffic), and the "
        "sentence in brackets"),
    ROW(WS_EV_ADMINAPI_1100, 1100, WS_CHANNEL_ADMINAPI, ADMINAPI, INFO,
        "VM Cloud updated: Remote Desktop Gateway FQDN = %s (was %s).",
        "REFERENCE.md section 2 (Remote Desktop Gateway FQDN); [model] id and text"),
    /* The load balancer (lb01): an appliance's own log [model]. The member lines follow the
     * shape of F5 BIG-IP's /var/log/ltm health messages ("Pool ... member ... monitor status
     * down"); ids and wording are the lab's. */
    ROW(WS_EV_LB_100, 100, WS_CHANNEL_BALANCER, BALANCER, INFO, "Virtual server %s (%s:%d) is serving: %s.",
        "[model] id and text: the balancer's start with its configuration"),
    ROW(WS_EV_LB_101, 101, WS_CHANNEL_BALANCER, BALANCER, INFO,
        "Configuration %s by the operator: virtual server %s on %s:%d, %s.",
        "[model] id and text: wapsim fabric add-balancer, set-balancer, remove-balancer"),
    ROW(WS_EV_LB_110, 110, WS_CHANNEL_BALANCER, BALANCER, WARNING,
        "Pool member %s (%s:%d) monitor status down: %s. New connections go to the other members for %d s.",
        "[model] id and text, shaped after F5 BIG-IP's \"Pool ... member ... monitor status down\" log line"),
    ROW(WS_EV_LB_111, 111, WS_CHANNEL_BALANCER, BALANCER, INFO, "Pool member %s (%s:%d) monitor status up.",
        "[model] id and text, shaped after F5 BIG-IP's \"Pool ... member ... monitor status up\" log line"),
    ROW(WS_EV_LB_120, 120, WS_CHANNEL_BALANCER, BALANCER, WARNING, "Connection from %s refused: %s (limit %d).",
        "[model] id and text: a connection limit of the virtual server (README: the HA layout and the load balancer)"),
    ROW(WS_EV_LB_121, 121, WS_CHANNEL_BALANCER, BALANCER, ERROR,
        "Connection from %s closed: no pool member is available (last error: %s).",
        "[model] id and text: every member refused or did not answer"),
    /* Where Windows logs certificates installed in and removed from the machine's stores.
     * [model] The ids are the lab's: 1006 "installed", 1004 "removed"; the gateway's and
     * the WAP admin API's ids above are not public either. */
    ROW(WS_EV_CERT_1004, 1004, WS_CHANNEL_CERT_LIFECYCLE, LIFECYCLE, INFO,
        "A certificate has been deleted from LocalMachine\\%s. Subject: %s; Thumbprint: %s.",
        "[model] id and text (see above)"),
    ROW(WS_EV_CERT_1006, 1006, WS_CHANNEL_CERT_LIFECYCLE, LIFECYCLE, INFO,
        "A certificate has been installed in LocalMachine\\%s. Subject: %s; Thumbprint: %s; %s.",
        "[model] id and text (see above)"),
    /* A machine's name resolution changed (wapsim dns set; lab/dns.h). */
    ROW(WS_EV_DNS_1000, 1000, WS_CHANNEL_DNS_CLIENT, DNS_CLIENT, INFO,
        "Name resolution changed: %s (was: %s).",
        "[model] id and text: the lab's record of a change to the machine's DNS server, its conditional forwarders "
        "and its hosts file (the channel is Windows' DNS Client log)"),

    /* Hyper-V's console events [model: the ids Hyper-V uses for console connections are
     * not public]: 14160 a client named a VM in its pre-connection PDU; 14161 the VMToken
     * was accepted; 14162 the client's credentials were refused; 14163 malformed,
     * truncated, oversize or out-of-order input, timeouts; 14164 the TLS handshake or a
     * TLS read/write failed; 14165 the console's certificate cannot be used; 14166 too
     * many console connections at once; 14167 a console session (or an authenticated
     * connection) ended; 14168 a console session started; 14170 [model: not public]
     * the console's settings changed. */
    ROW(WS_EV_HYPERV_14090, 14090, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "Refused a management request from %s: not a VMM server.",
        "[model] id and text: the host's VMM agent refusing a caller that is not a VMM server"),
    ROW(WS_EV_HYPERV_14090_CREDENTIALS, 14090, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "Refused a management request from %s: %s.",
        "[model] id and text: the host's VMM agent refusing VMM's credentials"),
    ROW(WS_EV_HYPERV_14100, 14100, WS_CHANNEL_HYPERV, VMMS, ERROR,
        "Console connections signed by %s cannot be validated: %s.",
        "REFERENCE.md section 2 (TrustedIssuerCertificateHashes); [model] id and text: the host's answer to VMM's check before issuing"),
    ROW(WS_EV_HYPERV_14160, 14160, WS_CHANNEL_HYPERV, VMMS, INFO, "Console connection from %s for VM %s%s%s (pcb '%s').",
        "[model] id and text (see above); REFERENCE.md section 8 (the pre-connection PDU)"),
    ROW(WS_EV_HYPERV_14161, 14161, WS_CHANNEL_HYPERV, VMMS, INFO,
        "Accepted a console connection to %s from %s: the VMToken signed by %s is valid until %s. Pcb '%s'; RDSTLS "
        "Auth response Version %u (request Version %u).",
        "[model] id and text (see above); REFERENCE.md section 8 (RDSTLS)"),
    ROW(WS_EV_HYPERV_14162_TOKEN, 14162, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "Refused a console connection to %s: %s. Client %s, pcb '%s'; RDSTLS result %s (0x%X), Auth response "
        "Version %u.",
        "REFERENCE.md section 8 (the RDSTLS result codes, e.g. LOGON_FAILURE 0x52E); [model] id, text and which code for which refusal (README Models)"),
    ROW(WS_EV_HYPERV_14162_NO_TOKEN, 14162, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "Refused a console connection to %s: the client presented no VMToken: RDP client 8.1 or later required. "
        "Client %s, pcb '%s', requested protocols 0x%X (no RDSTLS); %s; Set Error Info %s (0x%X).",
        "REFERENCE.md sections 8 and 9 (a client before 8.1 cannot present the VMToken); [model] id, text and Set Error Info code"),
    ROW(WS_EV_HYPERV_14162_ADMIN, 14162, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "Refused a console connection to %s: %s. Administrator %s, client %s, pcb '%s'; Set Error Info %s (0x%X).",
        "REFERENCE.md section 8 (administrators use host credentials); [model] id, text and Set Error Info code"),
    ROW(WS_EV_HYPERV_14163_CLOSED, 14163, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "Closed a console connection to %s from %s: %s. Pcb '%s'.",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14163_CLOSED_EARLY, 14163, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "Closed a console connection from %s: %s.",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14163_SETTING, 14163, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "The setting %s is '%s' (expected 1 or echo): answering with Version 1.",
        "REFERENCE.md section 8 (the reply version is a host setting); [model] id and text"),
    ROW(WS_EV_HYPERV_14164_CLOSED, 14164, WS_CHANNEL_HYPERV, VMMS, ERROR,
        "Closed a console connection to %s from %s: %s. Pcb '%s'.",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14164_NO_TLS, 14164, WS_CHANNEL_HYPERV, VMMS, ERROR,
        "Closed a console connection to %s from %s: cannot start TLS.",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14164_SESSION_CLOSED, 14164, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "Closed a console connection to %s from %s: %s. Pcb '%s'.",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14165, 14165, WS_CHANNEL_HYPERV, VMMS, ERROR,
        "The Remote Desktop certificate for VM console connections cannot be used: %s. Console connections will "
        "fail until the service is restarted with a usable certificate.",
        "REFERENCE.md section 2 (the host's own certificate on 2179); [model] id and text"),
    ROW(WS_EV_HYPERV_14165_CLOSED, 14165, WS_CHANNEL_HYPERV, VMMS, ERROR,
        "Closed a console connection to %s from %s: no TLS certificate is bound to the console port: %s. Pcb '%s'.",
        "REFERENCE.md section 2 (the host's own certificate on 2179); [model] id and text"),
    ROW(WS_EV_HYPERV_14166, 14166, WS_CHANNEL_HYPERV, VMMS, WARNING,
        "Refused a console connection from %s: %d console connections are already open.",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14167, 14167, WS_CHANNEL_HYPERV, VMMS, INFO,
        "Console session %lld to %s from %s ended: %s (%ld frames sent).",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14167_BEFORE_SESSION, 14167, WS_CHANNEL_HYPERV, VMMS, INFO,
        "Console session %lld to %s from %s ended after authentication, before the RDP session started: %s (at the "
        "%s).",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14167_BEFORE_CLIENT_INFO, 14167, WS_CHANNEL_HYPERV, VMMS, INFO,
        "Console connection to %s from %s ended before its Client Info (TLS without RDSTLS): %s (at the %s). Pcb "
        "'%s'.",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14168, 14168, WS_CHANNEL_HYPERV, VMMS, INFO,
        "Console session %lld to %s from %s started for %s; client '%s' build %u.%s",
        "[model] id and text (see above)"),
    ROW(WS_EV_HYPERV_14170_RDSTLS_VERSION, 14170, WS_CHANNEL_HYPERV, VMMS, INFO,
        "Msvm_TerminalServiceSettingData changed: RDSTLS Auth response Version = %s (was %s).",
        "REFERENCE.md section 8 (the reply version is a host setting); [model] id and text"),
    ROW(WS_EV_HYPERV_14170_TRUSTED_ISSUERS, 14170, WS_CHANNEL_HYPERV, VMMS, INFO,
        "Msvm_TerminalServiceSettingData changed by %s: TrustedIssuerCertificateHashes = {%s} (was {%s}).",
        "REFERENCE.md section 2 (Msvm_TerminalServiceSettingData.TrustedIssuerCertificateHashes); [model] id and text"),
    ROW(WS_EV_HYPERV_14170_AUTH_CERT, 14170, WS_CHANNEL_HYPERV, VMMS, INFO,
        "Msvm_TerminalServiceSettingData changed: AuthCertificateHash = %s (%s), was %s (%s). It takes effect when "
        "the Hyper-V Virtual Machine Management service restarts.",
        "[doc: Msvm_TerminalServiceSettingData.AuthCertificateHash, set by ModifyServiceSettings]; REFERENCE.md "
        "section 2 (a new certificate needs the service restarted); [model] id and text"),

    /* Account lockout (lab/accounts.h). A domain controller writes these; the lab has
     * none, so [model] they go to the Security log of the machine that checked the
     * password. The texts are the events' own, their fields on one line. */
    ROW(WS_EV_SECURITY_4740, 4740, WS_CHANNEL_SECURITY, SECURITY_AUDITING, INFO,
        "A user account was locked out. Subject: Security ID: SYSTEM; Account Name: %s$. Account That Was Locked "
        "Out: Account Name: %s. Additional Information: Caller Computer Name: %s.",
        "[doc: Microsoft Learn, event 4740 \"A user account was locked out.\"]; [model] written by the machine that "
        "checked the password (the lab has no domain controller)"),
    ROW(WS_EV_SECURITY_4767, 4767, WS_CHANNEL_SECURITY, SECURITY_AUDITING, INFO,
        "A user account was unlocked. Subject: Account Name: %s. Target Account: Account Name: %s.",
        "[doc: Microsoft Learn, event 4767 \"A user account was unlocked.\"]; [model] written by the machine that "
        "checked the password (the lab has no domain controller)"),
    ROW(WS_EV_SECURITY_4670, 4670, WS_CHANNEL_SECURITY, SECURITY_AUDITING, INFO,
        "Permissions on an object were changed. Subject: Account Name: %s. Object: Object Server: Security; Object "
        "Type: Key; Object Name: the private key of %s (%s) in LocalMachine\\%s. Change: %s. Original Security "
        "Descriptor: {%s}. New Security Descriptor: {%s}.",
        "[model] Windows' event 4670 \"Permissions on an object were changed.\" (written only where object access "
        "auditing is on; the lab always writes it), with the lists in words instead of SDDL"),
    ROW(WS_EV_SCHANNEL_36870, 36870, WS_CHANNEL_SYSTEM, SCHANNEL, ERROR,
        "A fatal error occurred when attempting to access the TLS server credential private key. The error code "
        "returned from the cryptographic module is 0x%08" PRIX32 ". The internal error state is %d.\n The SSPI "
        "client process is %s (PID: %d).",
        "[field: Microsoft IIS support blog, \"Error HRESULT: 0x80070520 when adding SSL binding in IIS\" "
        "(2019), id, source and text]; [model] that the gateway's handshakes write it"),
};

const ws_event_def *ws_event_def_get(ws_ev ev)
{
    if ((int)ev < 0 || ev >= WS_EV_COUNT || !catalogue[ev].text)
        return NULL;
    return &catalogue[ev];
}

/* The templates come from the table above, never from input. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
int ws_event_vformat(ws_ev ev, char *out, size_t n, va_list ap)
{
    const ws_event_def *d = ws_event_def_get(ev);
    if (!d) {
        if (n)
            out[0] = '\0';
        return -1;
    }
    return vsnprintf(out, n, d->text, ap);
}

int ws_event_format(ws_ev ev, char *out, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    int len = ws_event_vformat(ev, out, n, ap);
    va_end(ap);
    return len;
}

int ws_event_write(ws_state *st, const char *machine, ws_ev ev, ...)
{
    const ws_event_def *d = ws_event_def_get(ev);
    if (!d || !d->source)
        return -1;
    va_list ap;
    va_start(ap, ev);
    int rc = ws_eventv(st, machine, d->channel, d->source, d->event_id, d->level, d->text, ap);
    va_end(ap);
    return rc;
}
#pragma GCC diagnostic pop

int ws_event_put(ws_state *st, const char *machine, ws_ev ev, const char *source, const char *text)
{
    const ws_event_def *d = ws_event_def_get(ev);
    if (!d || !(source || d->source))
        return -1;
    return ws_event(st, machine, d->channel, source ? source : d->source, d->event_id, d->level, "%s", text);
}
