/* SPDX-License-Identifier: Apache-2.0 */
/* scenario: see scenario.h. The format's one reference is ws_scenario_format_help
 * below, every key, target, operator and fact; README shows a whole example. */
#include "train/scenario.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/diagnose.h"
#include "lab/machine.h"
#include "lab/vault.h"
#include "lab/vm.h"

const char ws_scenario_format_help[] =
    "A scenario file (*.scn) is one case: an operator session plus assertions, replayed\n"
    "in a fresh lab of its own. One line each:\n"
    "\n"
    "  # TEXT                 a comment: a line whose first non-blank character is #\n"
    "                         (there are no comments at the end of a line); blank lines\n"
    "                         are ignored\n"
    "  title TEXT             what the scenario shows, in one line\n"
    "  mistake ID             the mistake's id in the field note (m1a, m3b, ...), one word\n"
    "  tags T1,T2 ...         tags for --filter, separated by commas or spaces\n"
    "  doc TEXT               what a trainee should learn; the lines after it that start\n"
    "      MORE TEXT          with a space or a tab continue it\n"
    "  ticket TEXT            the customer's report of the symptom (indented lines continue\n"
    "                         it): a scenario with a ticket is an exercise (wapsim exercise)\n"
    "  step ARGS...           run `wapsim --lab <the scenario's lab> ARGS...`: a non-zero\n"
    "                         exit fails the scenario. A step runs against that lab only:\n"
    "                         --lab (in any spelling) and lab init are syntax errors; so are wapsim's\n"
    "                         internal commands (__NAME) and a file option (--out, --save-rdp,\n"
    "                         --screenshot) whose path is absolute or climbs out with '..': a step\n"
    "                         runs in its lab's folder and writes only there\n"
    "  step! ARGS...          the same, expected to fail: a zero exit fails the scenario\n"
    "  connect tenant=T vm=V [client=8.1|10|8.0|7|6.1] [password=P] [transport=legacy|websocket]\n"
    "          [repeat=N]     (legacy-gateway=1 is transport=legacy)\n"
    "  connect admin=1 vm=V [repeat=N]   the administrator's path (VMConnect)\n"
    "                         runs `wapsim connect --json`; its result is \"the last connect\".\n"
    "                         repeat=N (1 to 200) runs it N times one after another: the\n"
    "                         last is \"the last connect\", connects.* count all N, and\n"
    "                         \"since the last connect\" means since the first of them (a\n"
    "                         balancer shares them among its members)\n"
    "                         A connection that fails is a result, not a failure: expect\n"
    "                         lines judge it. When it stops at the portal, the portal's\n"
    "                         whole answer is read with `wapsim rdp-file --json`.\n"
    "  expect WHAT OP VALUE   an assertion; the first that does not hold fails the scenario\n"
    "                         (and the lines after it do not run)\n"
    "\n"
    "Keys are spelt exactly as above; any other first word is an error naming it.\n"
    "Arguments of step and connect are separated by spaces; \"...\" and '...' group words\n"
    "with spaces (--csp \"Microsoft Strong Cryptographic Provider\"); inside \"...\", \\\" is a\n"
    "quote and \\\\ a backslash. Nothing else of a shell applies: a backslash elsewhere is\n"
    "itself (CONTOSO\\hvadmin), and there are no variables, globs, pipes or redirections.\n"
    "\n"
    "Operators:  =  equals            != does not equal\n"
    "            ~  contains          !~ does not contain\n"
    "            <  <=  >  >=         numeric comparisons (connects.* only)\n"
    "The value is the rest of the line, trimmed; one pair of enclosing quotes (\"...\" or\n"
    "'...') is removed, so \"\" is the empty string. Comparisons are case-sensitive.\n"
    "\n"
    "WHAT (connect.* and portal.* need a connect line before them):\n"
    "  connect.ok             true or false (= and != only)\n"
    "  connect.stage          where it stopped, or the last hop reached: portal,\n"
    "                         rdp-signature, direct, gateway-tls, gateway-auth, channel,\n"
    "                         host-tls, host-auth, console\n"
    "  connect.code           what Remote Desktop Connection reports: a disconnect reason\n"
    "                         (a gateway status code becomes one), 0x607, the RDSTLS result\n"
    "                         or the Set Error Info code (the HTTP status when the portal\n"
    "                         refused), a decimal number, or null; with = and != a value in\n"
    "                         0x... hex is compared as a number\n"
    "  connect.message        the client's message: that code's full text, the code, then\n"
    "                         [the lab's why]; the browser's when the portal refused;\n"
    "                         \"connected\" on success\n"
    "  connects.failed        how many connections of the last connect line failed (did\n"
    "                         not reach the console): a count, or N% of its repeats;\n"
    "                         = != < <= > >= (expect connects.failed >= 25%)\n"
    "  connects.ok            how many reached the console, likewise. = and != take\n"
    "                         alternatives: connects.failed = 0%,100% holds for either\n"
    "  connects.codes         the codes the failed ones reported, each once, ascending,\n"
    "                         joined by commas (50331654,50331701), \"\" with no failure\n"
    "  portal.status          the portal's HTTP status (200 with an .rdp file), or null\n"
    "                         when the browser got no answer or there was no portal (admin=1)\n"
    "  portal.content-type    application/x-rdp, application/json, ...\n"
    "  portal.body            the body the browser got instead of an .rdp file (JSON\n"
    "                         written compactly), or \"\" when it got the .rdp file\n"
    "  event M ID             an event with id ID on machine M since the last connect\n"
    "                         (since the lab was created when there was no connect yet)\n"
    "  event M ID = TEXT      ... and one of those events' text is TEXT\n"
    "  event M ID ~ TEXT      ... and one of those events' text contains TEXT\n"
    "  event M ID != TEXT     no event ID on M since the last connect has the text TEXT\n"
    "  event M ID !~ TEXT     no event ID on M since the last connect contains TEXT\n"
    "                         (these two also hold when there is no such event)\n"
    "  no event M ID          no event with id ID on M since the last connect\n"
    "  trace M [OP TEXT]      the same for trace blocks (channel Trace) on M; without an\n"
    "                         operator: at least one trace block\n"
    "  diagnose = ID[,ID...]  `wapsim diagnose` on the lab as it is now finds exactly these\n"
    "                         finding ids (each on one or more machines), and no other\n"
    "                         error; a warning (severity warning: consoles still open, e.g.\n"
    "                         host-cert-untrusted in the default lab) counts only when named\n"
    "  diagnose = none        ... finds no error (the tenants' consoles open)\n"
    "  diagnose != ...        ... does not find exactly that set\n"
    "  diagnose ~ ID          ... finds ID, with or without others\n"
    "  diagnose !~ ID         ... does not find ID\n"
    "                         IDs are those `wapsim diagnose --help` lists (vmm-cert-csp,\n"
    "                         gateway-cert-stale, ...): another word is a syntax error.\n"
    "                         Needs no connect line before it. A diagnose line without an\n"
    "                         operator is reported as skipped, never fails\n"
    "\n"
    "Facts, expanded when the line runs (step and connect arguments, expect values):\n"
    "  ${thumbprint:CERT}     the certificate's SHA-1 thumbprint (40 upper-case hex digits)\n"
    "  ${fqdn:MACHINE}        the machine's FQDN\n"
    "  ${address:MACHINE}     the machine's address in the lab\n"
    "  ${vmid:VM}             the VM's id, upper case\n"
    "A fact of another kind is a syntax error; an unknown name fails the scenario.\n"
    "\n"
    "Example:\n"
    "  title   The VMM certificate is missing from hv01's personal store\n"
    "  mistake m1a\n"
    "  tags    mistake-1, certificates, hyper-v\n"
    "  doc     VMM asks the VM's host whether it can check the token's signature: the\n"
    "          certificate must be in the host's LocalMachine\\My store. Here it is not.\n"
    "  # The mistake.\n"
    "  step cert remove vmm-console --machine hv01 --store My\n"
    "  # The symptom: JSON instead of an .rdp file; VMM's log names hv01.\n"
    "  connect tenant=alice vm=web01\n"
    "  expect connect.stage = portal\n"
    "  expect portal.content-type ~ application/json\n"
    "  expect event vmm01 12003 ~ hv01\n"
    "  # The repair.\n"
    "  step cert import vmm-console --machine hv01 --store My --public-only\n"
    "  step vmm refresh-host hv01\n"
    "  connect tenant=alice vm=web01\n"
    "  expect connect.stage = console\n"
    "\n"
    "Syntax errors are reported as FILE:LINE: MESSAGE, all of them, before anything runs.\n";

static const char *const target_names[] = {
    [WS_SCN_CONNECT_OK] = "connect.ok",       [WS_SCN_CONNECT_STAGE] = "connect.stage",
    [WS_SCN_CONNECT_CODE] = "connect.code",   [WS_SCN_CONNECT_MESSAGE] = "connect.message",
    [WS_SCN_PORTAL_STATUS] = "portal.status", [WS_SCN_PORTAL_CONTENT_TYPE] = "portal.content-type",
    [WS_SCN_PORTAL_BODY] = "portal.body",     [WS_SCN_EVENT] = "event",
    [WS_SCN_NO_EVENT] = "no event",           [WS_SCN_TRACE] = "trace",
    [WS_SCN_DIAGNOSE] = "diagnose",
    [WS_SCN_CONNECTS_FAILED] = "connects.failed", [WS_SCN_CONNECTS_OK] = "connects.ok",
    [WS_SCN_CONNECTS_CODES] = "connects.codes",
};
#define N_TARGETS ((int)(sizeof target_names / sizeof target_names[0]))

const char *ws_scn_target_name(ws_scn_target t)
{
    return (int)t >= 0 && (int)t < N_TARGETS ? target_names[t] : "?";
}

const char *ws_scn_op_name(ws_scn_op op)
{
    switch (op) {
    case WS_SCN_OP_EQ: return "=";
    case WS_SCN_OP_NE: return "!=";
    case WS_SCN_OP_CONTAINS: return "~";
    case WS_SCN_OP_NOT_CONTAINS: return "!~";
    case WS_SCN_OP_LT: return "<";
    case WS_SCN_OP_LE: return "<=";
    case WS_SCN_OP_GT: return ">";
    case WS_SCN_OP_GE: return ">=";
    default: return "";
    }
}

/* ---- errors ---- */

static void add_error(ws_scn_errors *errs, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_error(ws_scn_errors *errs, const char *path, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int rc = line > 0    ? ws_strv_addf(errs, "%s:%d: %s", path, line, msg)
             : line == 0 ? ws_strv_addf(errs, "%s: %s", path, msg)
                         : ws_strv_add(errs, msg); /* already names the file */
    if (rc != 0)
        abort();
}

void ws_scn_errors_free(ws_scn_errors *errs)
{
    ws_strv_free(errs);
}

/* Levenshtein distance of short words, for "did you mean". */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    int d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

/* "(did you mean 'x'?)" when a candidate is close, else "(" list ")". */
static const char *suggest(const char *word, const char *const *candidates, int n, const char *list, char *buf,
                           size_t len)
{
    int best = 3;
    const char *pick = NULL;
    for (int i = 0; i < n; i++) {
        int d = distance(word, candidates[i]);
        if (d < best) {
            best = d;
            pick = candidates[i];
        }
    }
    if (pick)
        snprintf(buf, len, "(did you mean '%s'?)", pick);
    else
        snprintf(buf, len, "(%s)", list);
    return buf;
}

/* ---- words ---- */

void ws_scn_free_argv(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
}

int ws_scn_split(const char *in, int *argc, char ***argv, ws_error *e)
{
    *argc = 0;
    *argv = NULL;
    ws_strv words = {0};
    char *word = malloc(strlen(in) + 1); /* no word is longer than the line */
    if (!word)
        abort();
    const char *p = in;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t n = 0;
        while (*p && *p != ' ' && *p != '\t') {
            if (*p == '\'') {
                const char *end = strchr(p + 1, '\'');
                if (!end) {
                    free(word);
                    ws_strv_free(&words);
                    return ws_seterr(e, "unterminated ' quote");
                }
                memcpy(word + n, p + 1, (size_t)(end - p - 1));
                n += (size_t)(end - p - 1);
                p = end + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                        p++;
                    word[n++] = *p++;
                }
                if (!*p) {
                    free(word);
                    ws_strv_free(&words);
                    return ws_seterr(e, "unterminated \" quote");
                }
                p++;
            } else {
                word[n++] = *p++;
            }
        }
        word[n] = '\0';
        if (ws_strv_add(&words, word) != 0)
            abort();
    }
    free(word);
    *argc = words.n;
    *argv = words.v;
    return 0;
}

/* ---- facts ---- */

static const char *const fact_kinds[] = {"thumbprint", "fqdn", "address", "vmid"};
#define N_FACT_KINDS ((int)(sizeof fact_kinds / sizeof fact_kinds[0]))

/* Appends to out when there is one (checking facts without a lab has none). */
static int append(ws_buf *out, const char *s, size_t n)
{
    return out ? ws_buf_add(out, s, n) : 0;
}

static int fact_value(ws_state *st, const char *kind, const char *name, char *val, size_t n, ws_error *e)
{
    if (strcmp(kind, "thumbprint") == 0) {
        char tp[41];
        if (ws_vault_thumbprint(st, name, tp) != 0)
            return ws_seterr(e, "unknown fact '${%s:%s}': the lab has no certificate '%s'", kind, name, name);
        snprintf(val, n, "%s", tp);
        return 0;
    }
    if (strcmp(kind, "fqdn") == 0 || strcmp(kind, "address") == 0) {
        ws_machine m;
        ws_error ignored;
        if (ws_machine_get(st, name, &m, &ignored) != 0)
            return ws_seterr(e, "unknown fact '${%s:%s}': the lab has no machine '%s'", kind, name, name);
        snprintf(val, n, "%s", kind[0] == 'f' ? m.fqdn : m.address);
        return 0;
    }
    /* vmid */
    ws_vm vm;
    int rc = ws_vm_find(st, name, &vm, NULL);
    if (rc == -1)
        return ws_seterr(e, "cannot read the lab's VMs");
    int found = rc == 0 && strcmp(vm.name, name) == 0; /* by name only, not by ID */
    if (found) {
        for (char *p = vm.id; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        snprintf(val, n, "%s", vm.id);
    }
    if (!found)
        return ws_seterr(e, "unknown fact '${%s:%s}': the lab has no VM '%s'", kind, name, name);
    return 0;
}

/* Walks the ${kind:name} references of in. With a lab (st), appends the text with
 * each fact's value to out; without, only checks the references. */
static int walk_facts(const char *in, ws_buf *out, ws_state *st, ws_error *e)
{
    const char *p = in;
    while (*p) {
        const char *dollar = strstr(p, "${");
        if (!dollar) {
            if (append(out, p, strlen(p)) != 0)
                return ws_seterr(e, "the expanded text is too long");
            break;
        }
        if (append(out, p, (size_t)(dollar - p)) != 0)
            return ws_seterr(e, "the expanded text is too long");
        const char *end = strchr(dollar + 2, '}');
        if (!end)
            return ws_seterr(e, "unterminated '${' (facts are written ${kind:name})");
        char ref[256];
        size_t rn = (size_t)(end - dollar - 2);
        if (rn >= sizeof ref)
            return ws_seterr(e, "fact '${%.40s...' is too long", dollar + 2);
        memcpy(ref, dollar + 2, rn);
        ref[rn] = '\0';
        char *colon = strchr(ref, ':');
        int known = 0;
        if (colon) {
            *colon = '\0';
            for (int i = 0; i < N_FACT_KINDS; i++)
                known |= strcmp(ref, fact_kinds[i]) == 0;
        }
        if (!colon || !known || !colon[1]) {
            if (colon)
                *colon = ':';
            return ws_seterr(e,
                             "unknown fact '${%s}' (use ${thumbprint:CERT}, ${fqdn:MACHINE}, ${address:MACHINE} "
                             "or ${vmid:VM})",
                             ref);
        }
        if (st) {
            char val[512];
            if (fact_value(st, ref, colon + 1, val, sizeof val, e) != 0)
                return -1;
            if (append(out, val, strlen(val)) != 0)
                return ws_seterr(e, "the expanded text is too long");
        }
        p = end + 1;
    }
    return 0;
}

int ws_scn_check_facts(const char *in, ws_error *e)
{
    return walk_facts(in, NULL, NULL, e);
}

int ws_scn_expand(ws_state *st, const char *in, char **out, ws_error *e)
{
    ws_buf b;
    ws_buf_init(&b, WS_BUF_MAX_TEXT_FILE);
    *out = NULL;
    int rc = walk_facts(in, &b, st, e);
    if (rc == 0 && !(*out = ws_buf_take(&b, NULL)))
        abort();
    ws_buf_free(&b);
    return rc;
}

/* ---- lines ---- */

static const char *const keys[] = {"title", "mistake", "tags", "doc", "step", "step!", "connect", "expect", "ticket"};
#define N_KEYS ((int)(sizeof keys / sizeof keys[0]))

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int is_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return 0;
    return 1;
}

/* One pair of enclosing quotes removed. */
static char *unquote(const char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
        return strndup(v + 1, n - 2);
    return ws_strdup(v);
}

typedef struct parser {
    const char *path;
    ws_scn_errors *errs;
    int nerr_before;
    int lineno;
    int first_connect;  /* line of the first connect, 0 before */
    int header_line[4]; /* where title, mistake, tags, doc were given, 0 before */
    int ticket_line;
    int in_doc;         /* indented lines continue docs[cont] */
    int doc_blank;      /* a blank line came since the last continuation */
    int cont;           /* 0: doc, 1: ticket */
    ws_buf docs[2];     /* doc and ticket, as continuation lines extend them */
    ws_buf lines;       /* ws_scn_line entries */
} parser;

#define ERR(P, ...) add_error((P)->errs, (P)->path, (P)->lineno, __VA_ARGS__)

static int check_facts(parser *p, const char *s)
{
    ws_error e;
    if (ws_scn_check_facts(s, &e) != 0) {
        ERR(p, "%s", e.msg);
        return -1;
    }
    return 0;
}

/* Whether word is wapsim's --lab option in any spelling getopt accepts: --lab, --lab=DIR,
 * or a prefix of it (--la, --l=DIR). An option name made of a fact counts too, as it
 * could expand to one. */
static int names_lab_option(const char *word)
{
    if (strncmp(word, "--", 2) != 0)
        return 0;
    const char *name = word + 2;
    size_t n = strcspn(name, "=");
    return (n > 0 && n <= 3 && strncmp(name, "lab", n) == 0) || memmem(name, n, "${", 2) != NULL;
}

/* Whether word is an option that names a file wapsim writes (--out, --save-rdp,
 * --screenshot, or a prefix getopt accepts), with its value in *path ("" when missing). */
static int writes_file_option(const char *word, const char *next, const char **path)
{
    static const char *const options[] = {"out", "save-rdp", "screenshot"};
    if (strncmp(word, "--", 2) != 0)
        return 0;
    const char *name = word + 2, *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
        if (n >= 1 && n <= strlen(options[k]) && strncmp(name, options[k], n) == 0) {
            *path = eq ? eq + 1 : next ? next : "";
            return 1;
        }
    return 0;
}

/* A path that stays in the folder it is resolved from: relative, with no ".." part
 * ("-", standard output, too). A fact in it expands to a name or a number, never "/". */
static int inside_lab(const char *path)
{
    if (strcmp(path, "-") == 0)
        return 1;
    if (!*path || path[0] == '/')
        return 0;
    for (const char *s = path; *s;) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return 0;
        s += n;
        while (*s == '/')
            s++;
    }
    return 1;
}

static int parse_step(parser *p, const char *rest, ws_scn_step *st)
{
    ws_error e;
    if (ws_scn_split(rest, &st->argc, &st->argv, &e) != 0) {
        ERR(p, "%s", e.msg);
        return -1;
    }
    if (st->argc == 0) {
        ERR(p, "step needs a wapsim command (step cert list, step! vmm set --ttl-minutes 0, ...)");
        return -1;
    }
    if (strcmp(st->argv[0], "scenario") == 0) {
        ERR(p, "a step cannot run scenarios");
        return -1;
    }
    int rc = 0;
    /* Scenario files are shared: a step runs against its scenario's lab and no other. */
    for (int i = 0; i < st->argc; i++)
        if (names_lab_option(st->argv[i])) {
            ERR(p, "a step runs against its scenario's lab: '%s' is not allowed", st->argv[i]);
            rc = -1;
        }
    int cmd = 0; /* the command's first word, after any global option */
    while (cmd < st->argc && st->argv[cmd][0] == '-')
        cmd++;
    if (cmd < st->argc && strncmp(st->argv[cmd], "__", 2) == 0) {
        ERR(p, "a step cannot run wapsim's internal command '%s'", st->argv[cmd]);
        rc = -1;
    }
    for (int i = 0; i < st->argc; i++) {
        const char *path = NULL;
        if (writes_file_option(st->argv[i], i + 1 < st->argc ? st->argv[i + 1] : NULL, &path) && !inside_lab(path)) {
            ERR(p, "a step writes only inside its scenario's lab: '%s' needs a relative path without '..'",
                st->argv[i]);
            rc = -1;
        }
    }
    if (cmd + 1 < st->argc && strcmp(st->argv[cmd], "lab") == 0 && strcmp(st->argv[cmd + 1], "init") == 0) {
        ERR(p, "a step cannot create a lab (lab init): it runs against its scenario's lab");
        rc = -1;
    }
    for (int i = 0; i < st->argc; i++)
        if (check_facts(p, st->argv[i]) != 0)
            rc = -1;
    return rc;
}

static const char *const connect_keys[] = {"tenant", "vm", "client", "password", "admin", "legacy-gateway", "repeat",
                                           "transport"};
#define N_CONNECT_KEYS ((int)(sizeof connect_keys / sizeof connect_keys[0]))

static int parse_flag(parser *p, const char *key, const char *v, int *out)
{
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
        *out = 1;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
        *out = 0;
    else {
        ERR(p, "connect %s= takes 1 or 0, not '%s'", key, v);
        return -1;
    }
    return 0;
}

static int parse_connect(parser *p, const char *rest, ws_scn_connect *c)
{
    int argc;
    char **argv;
    ws_error e;
    if (ws_scn_split(rest, &argc, &argv, &e) != 0) {
        ERR(p, "%s", e.msg);
        return -1;
    }
    /* Even a connect line with errors is one: later expects are not "before any connect". */
    if (!p->first_connect)
        p->first_connect = p->lineno;
    int rc = 0, seen[N_CONNECT_KEYS] = {0};
    c->repeat = 1;
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            ERR(p, "connect takes KEY=VALUE words (tenant=alice vm=web01), not '%s'", argv[i]);
            rc = -1;
            continue;
        }
        *eq = '\0';
        const char *key = argv[i], *v = eq + 1;
        int k = -1;
        for (int j = 0; j < N_CONNECT_KEYS; j++)
            if (strcmp(key, connect_keys[j]) == 0)
                k = j;
        if (k < 0) {
            char hint[256];
            ERR(p, "unknown connect option '%s' %s", key,
                suggest(key, connect_keys, N_CONNECT_KEYS,
                        "tenant, vm, client, password, admin, legacy-gateway, repeat, transport", hint, sizeof hint));
            rc = -1;
            continue;
        }
        if (seen[k]++) {
            ERR(p, "connect %s= given twice", key);
            rc = -1;
            continue;
        }
        if (!*v) {
            ERR(p, "connect %s= needs a value", key);
            rc = -1;
            continue;
        }
        if (check_facts(p, v) != 0) {
            rc = -1;
            continue;
        }
        switch (k) {
        case 0: c->tenant = ws_strdup(v); break;
        case 1: c->vm = ws_strdup(v); break;
        case 2:
            if (strcmp(v, "8.1") && strcmp(v, "10") && strcmp(v, "8.0") && strcmp(v, "7") && strcmp(v, "6.1")) {
                ERR(p, "unknown connect client '%s' (8.1, 10, 8.0, 7 or 6.1)", v);
                rc = -1;
            } else {
                c->client = ws_strdup(v);
            }
            break;
        case 3: c->password = ws_strdup(v); break;
        case 4: rc |= parse_flag(p, key, v, &c->admin); break;
        case 5: rc |= parse_flag(p, key, v, &c->legacy_gateway); break;
        case 6: {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > WS_SCN_MAX_REPEAT) {
                ERR(p, "connect repeat= takes a number from 1 to %d, not '%s'", WS_SCN_MAX_REPEAT, v);
                rc = -1;
            } else {
                c->repeat = (int)n;
            }
            break;
        }
        case 7:
            if (strcmp(v, "legacy") == 0 || strcmp(v, "websocket") == 0) {
                c->legacy_gateway = strcmp(v, "legacy") == 0;
            } else {
                ERR(p, "unknown connect transport '%s' (legacy or websocket)", v);
                rc = -1;
            }
            break;
        }
    }
    ws_scn_free_argv(argc, argv);
    if (rc == 0 && !c->vm) {
        ERR(p, "connect needs vm= (connect tenant=alice vm=web01)");
        rc = -1;
    } else if (rc == 0 && !c->admin && !c->tenant) {
        ERR(p, "connect needs tenant= (or admin=1 for the administrator's path)");
        rc = -1;
    } else if (rc == 0 && c->admin && (c->tenant || c->client)) {
        ERR(p, "connect admin=1 takes no tenant= or client=: the administrator connects to the host");
        rc = -1;
    }
    return rc;
}

/* Next word of *s (space separated, or ended by an operator character when opstop). */
static char *next_word(const char **s, int opstop)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *start = p;
    while (*p && *p != ' ' && *p != '\t' &&
           !(opstop && (*p == '=' || *p == '!' || *p == '~' || *p == '<' || *p == '>')))
        p++;
    *s = p;
    return p > start ? strndup(start, (size_t)(p - start)) : NULL;
}

/* Operator at *s: 0 and *op, or -1 when there is none (nothing, or not an operator). */
static int read_op(const char **s, ws_scn_op *op)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n;
    if (strncmp(p, "!=", 2) == 0)
        *op = WS_SCN_OP_NE, n = 2;
    else if (strncmp(p, "!~", 2) == 0)
        *op = WS_SCN_OP_NOT_CONTAINS, n = 2;
    else if (*p == '=')
        *op = WS_SCN_OP_EQ, n = 1;
    else if (*p == '~')
        *op = WS_SCN_OP_CONTAINS, n = 1;
    else if (strncmp(p, "<=", 2) == 0)
        *op = WS_SCN_OP_LE, n = 2;
    else if (strncmp(p, ">=", 2) == 0)
        *op = WS_SCN_OP_GE, n = 2;
    else if (*p == '<')
        *op = WS_SCN_OP_LT, n = 1;
    else if (*p == '>')
        *op = WS_SCN_OP_GT, n = 1;
    else
        return -1;
    *s = p + n;
    return 0;
}

/* The value after an expect's operator (read_op): unquoted, or -1 (and the error)
 * when more operator characters follow ("==", "=~"). */
static int read_value(parser *p, const char *s, ws_scn_expect *x)
{
    if (*s == '=' || *s == '~' || *s == '!' || *s == '<' || *s == '>') {
        ERR(p, "unknown operator '%s%c' (=, !=, ~, !~, <, <=, >, >=)", ws_scn_op_name(x->op), *s);
        return -1;
    }
    char *v = ws_strdup(s);
    x->value = unquote(trim(v));
    free(v);
    return 0;
}

static int is_number_or_null(const char *v)
{
    if (strcmp(v, "null") == 0)
        return 1;
    char *end;
    strtoull(v, &end, 0);
    return *v && *v != '-' && !*end;
}

static const char *const expect_targets[] = {
    "connect.ok",  "connect.stage", "connect.code", "connect.message", "portal.status",   "portal.content-type",
    "portal.body", "event",         "no event",     "trace",           "diagnose",        "connects.failed",
    "connects.ok", "connects.codes"};

/* A numeric comparison (<, <=, >, >=). */
static int op_numeric(ws_scn_op op)
{
    return op == WS_SCN_OP_LT || op == WS_SCN_OP_LE || op == WS_SCN_OP_GT || op == WS_SCN_OP_GE;
}

/* `expect connects.failed|connects.ok OP N|N%`: a count of the last connect line's
 * connections, or a share of them. */
static int parse_expect_connects(parser *p, const char *s, ws_scn_expect *x)
{
    const char *name = target_names[x->target];
    if (!p->first_connect) {
        ERR(p, "expect %s comes before any connect line", name);
        return -1;
    }
    if (read_op(&s, &x->op) != 0 || x->op == WS_SCN_OP_CONTAINS || x->op == WS_SCN_OP_NOT_CONTAINS) {
        ERR(p, "expect %s takes =, !=, <, <=, > or >= and a number (expect %s >= 25%%)", name, name);
        return -1;
    }
    if (read_value(p, s, x) != 0)
        return -1;
    int eqne = x->op == WS_SCN_OP_EQ || x->op == WS_SCN_OP_NE;
    char *copy = ws_strdup(x->value);
    int rc = 0;
    x->nnumbers = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ", \t", &save); tok && rc == 0; tok = strtok_r(NULL, ", \t", &save)) {
        char *end;
        size_t len = strlen(tok);
        int pct = tok[len - 1] == '%';
        long n = strtol(tok, &end, 10);
        if (tok[0] == '-' || tok[0] == '+' || end != tok + len - (size_t)pct || end == tok || n < 0 ||
            (pct && n > 100) || n > 100000) {
            ERR(p, "expect %s takes a count or a percentage (5, 25%%), not '%s'", name, tok);
            rc = -1;
        } else if (x->nnumbers == 4 || (x->nnumbers == 1 && !eqne)) {
            ERR(p, "expect %s: only = and != take several values (at most 4): '%s'", name, x->value);
            rc = -1;
        } else {
            x->numbers[x->nnumbers] = n;
            x->percent[x->nnumbers++] = pct;
        }
    }
    free(copy);
    if (rc == 0 && x->nnumbers == 0) {
        ERR(p, "expect %s needs a count or a percentage (expect %s >= 25%%)", name, name);
        rc = -1;
    }
    return rc;
}

/* `expect diagnose OP IDS`: = and != take a comma-separated set of finding ids or
 * none; ~ and !~ one id. Without an operator the line is kept, and skipped when run. */
static int parse_expect_diagnose(parser *p, const char *s, ws_scn_expect *x)
{
    x->target = WS_SCN_DIAGNOSE;
    if (read_op(&s, &x->op) != 0) {
        char *v = ws_strdup(s);
        x->op = WS_SCN_OP_NONE;
        x->value = ws_strdup(trim(v));
        free(v);
        if (!x->value[0]) {
            ERR(p, "expect diagnose needs an operator and finding ids (expect diagnose = none, "
                   "expect diagnose = vmm-cert-csp)");
            return -1;
        }
        return 0;
    }
    if (op_numeric(x->op)) {
        ERR(p, "expect diagnose takes =, !=, ~ or !~, not %s", ws_scn_op_name(x->op));
        return -1;
    }
    if (read_value(p, s, x) != 0)
        return -1;
    int eqne = x->op == WS_SCN_OP_EQ || x->op == WS_SCN_OP_NE, n = 0, none = 0, rc = 0;
    char *copy = ws_strdup(x->value);
    for (char *save = NULL, *id = strtok_r(copy, ", \t", &save); id; id = strtok_r(NULL, ", \t", &save)) {
        n++;
        if (strcmp(id, "none") == 0) {
            none = 1;
        } else if (!ws_diag_id_known(id)) {
            char hint[256];
            int k = 0;
            while (ws_diag_ids[k])
                k++;
            ERR(p, "unknown finding id '%s' %s", id,
                suggest(id, ws_diag_ids, k, "see wapsim diagnose --help, or none", hint, sizeof hint));
            rc = -1;
        }
    }
    free(copy);
    if (rc)
        return rc;
    if (n == 0) {
        ERR(p, "expect diagnose %s needs finding ids%s", ws_scn_op_name(x->op), eqne ? " or none" : "");
        return -1;
    }
    if (none && (!eqne || n > 1)) {
        ERR(p, "expect diagnose: none stands alone, after = or != (expect diagnose = none)");
        return -1;
    }
    if (!eqne && n > 1) {
        ERR(p, "expect diagnose %s takes one finding id, not '%s'", ws_scn_op_name(x->op), x->value);
        return -1;
    }
    return 0;
}

static int parse_expect(parser *p, const char *rest, ws_scn_expect *x)
{
    const char *s = rest;
    char *what = next_word(&s, 1);
    if (!what) {
        ERR(p, "expect needs a target and a value (expect connect.stage = console)");
        return -1;
    }
    int rc = 0;
    x->value = NULL;
    if (strcmp(what, "diagnose") == 0) {
        free(what);
        return parse_expect_diagnose(p, s, x);
    }
    if (strcmp(what, "connects.failed") == 0 || strcmp(what, "connects.ok") == 0) {
        x->target = strcmp(what, "connects.ok") == 0 ? WS_SCN_CONNECTS_OK : WS_SCN_CONNECTS_FAILED;
        free(what);
        return parse_expect_connects(p, s, x);
    }
    int t = -1;
    for (int i = 0; i < WS_SCN_EVENT; i++)
        if (strcmp(what, target_names[i]) == 0)
            t = i;
    if (strcmp(what, "connects.codes") == 0)
        t = WS_SCN_CONNECTS_CODES;
    else if (strcmp(what, "event") == 0)
        t = WS_SCN_EVENT;
    else if (strcmp(what, "trace") == 0)
        t = WS_SCN_TRACE;
    else if (strcmp(what, "no") == 0) {
        char *ev = next_word(&s, 1);
        if (!ev || strcmp(ev, "event") != 0) {
            ERR(p, "expect no takes 'event MACHINE ID' (expect no event rdgw01 201)");
            free(ev);
            free(what);
            return -1;
        }
        free(ev);
        t = WS_SCN_NO_EVENT;
    }
    if (t < 0) {
        char hint[256];
        ERR(p, "unknown target '%s' %s", what,
            suggest(what, expect_targets, (int)(sizeof expect_targets / sizeof expect_targets[0]),
                    "connect.ok, connect.stage, connect.code, connect.message, portal.status, portal.content-type, "
                    "portal.body, event, no event, trace, diagnose, connects.failed, connects.ok",
                    hint, sizeof hint));
        free(what);
        return -1;
    }
    free(what);
    x->target = (ws_scn_target)t;
    if (t == WS_SCN_EVENT || t == WS_SCN_NO_EVENT || t == WS_SCN_TRACE) {
        x->machine = next_word(&s, 1);
        if (!x->machine) {
            ERR(p, "expect %s needs a machine%s", target_names[t], t == WS_SCN_TRACE ? "" : " and an event id");
            return -1;
        }
        if (t != WS_SCN_TRACE) {
            char *id = next_word(&s, 1);
            char *end = NULL;
            long v = id ? strtol(id, &end, 10) : -1;
            if (!id || *end || v < 0 || v > 65535) {
                ERR(p, "expect %s %s needs an event id (a number), not '%s'", target_names[t], x->machine,
                    id ? id : "");
                free(id);
                return -1;
            }
            free(id);
            x->event_id = (int)v;
        }
    } else if (!p->first_connect) {
        ERR(p, "expect %s comes before any connect line", target_names[t]);
        rc = -1;
    }
    const char *after = s;
    while (*after == ' ' || *after == '\t')
        after++;
    if (!*after) {
        if (t == WS_SCN_EVENT || t == WS_SCN_NO_EVENT || t == WS_SCN_TRACE) {
            x->op = WS_SCN_OP_NONE;
            x->value = ws_strdup("");
            return rc;
        }
        ERR(p, "expect needs an operator (=, !=, ~, !~) and a value");
        return -1;
    }
    if (read_op(&s, &x->op) != 0) {
        ERR(p, "expect needs an operator (=, !=, ~, !~) before '%s'", after);
        return -1;
    }
    if (op_numeric(x->op)) {
        ERR(p, "expect %s takes =, !=, ~ or !~ (<, <=, >, >= are for connects.*)", target_names[t]);
        return -1;
    }
    if (t == WS_SCN_NO_EVENT) {
        ERR(p, "expect no event takes no operator (use 'expect event M ID !~ TEXT' for a text)");
        return -1;
    }
    if (read_value(p, s, x) != 0)
        return -1;
    if (check_facts(p, x->value) != 0)
        rc = -1;
    int eqne = x->op == WS_SCN_OP_EQ || x->op == WS_SCN_OP_NE;
    if (t == WS_SCN_CONNECT_OK) {
        if (!eqne) {
            ERR(p, "expect connect.ok takes = or !=");
            rc = -1;
        } else if (strcmp(x->value, "true") != 0 && strcmp(x->value, "false") != 0) {
            ERR(p, "expect connect.ok is true or false, not '%s'", x->value);
            rc = -1;
        }
    } else if ((t == WS_SCN_CONNECT_CODE || t == WS_SCN_PORTAL_STATUS) && eqne && !strstr(x->value, "${") &&
               !is_number_or_null(x->value)) {
        ERR(p, "expect %s is a number or null, not '%s'", target_names[t], x->value);
        rc = -1;
    }
    return rc;
}

static void free_line(ws_scn_line *l)
{
    free(l->text);
    switch (l->kind) {
    case WS_SCN_STEP: ws_scn_free_argv(l->u.step.argc, l->u.step.argv); break;
    case WS_SCN_CONNECT:
        free(l->u.connect.tenant);
        free(l->u.connect.vm);
        free(l->u.connect.client);
        free(l->u.connect.password);
        break;
    case WS_SCN_EXPECT:
        free(l->u.expect.machine);
        free(l->u.expect.value);
        break;
    }
}

void ws_scenario_free(ws_scenario *s)
{
    if (!s)
        return;
    free(s->path);
    free(s->name);
    free(s->title);
    free(s->mistake);
    free(s->doc);
    free(s->ticket);
    ws_strv_free(&s->tags);
    for (int i = 0; i < s->nlines; i++)
        free_line(&s->lines[i]);
    free(s->lines);
    free(s);
}

int ws_scenario_has_tag(const ws_scenario *s, const char *tag)
{
    for (int i = 0; i < s->tags.n; i++)
        if (strcmp(s->tags.v[i], tag) == 0)
            return 1;
    return 0;
}

static char *name_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".scn") == 0)
        n -= 4;
    return strndup(base, n);
}

/* title, mistake, tags, doc (k 0..3) and ticket (k 8). */
static void parse_header(parser *p, ws_scenario *sc, int k, const char *key, char *rest)
{
    if (k == 8) { /* ticket: the customer's report; indented lines continue it */
        if (p->ticket_line) {
            ERR(p, "'ticket' given twice (first on line %d)", p->ticket_line);
        } else if (!*rest) {
            ERR(p, "ticket needs a text");
        } else {
            p->ticket_line = p->lineno;
            ws_buf_adds(&p->docs[1], rest);
            p->cont = 1;
            p->in_doc = 1;
            p->doc_blank = 0;
        }
        return;
    }
    if (p->header_line[k]) {
        ERR(p, "'%s' given twice (first on line %d)", key, p->header_line[k]);
        return;
    }
    p->header_line[k] = p->lineno;
    switch (k) {
    case 0: /* title */
        if (!*rest)
            ERR(p, "title needs a text");
        else
            sc->title = ws_strdup(rest);
        break;
    case 1: /* mistake */
        if (!is_word(rest))
            ERR(p, "mistake needs one word, an id such as m3a, not '%s'", rest);
        else
            sc->mistake = ws_strdup(rest);
        break;
    case 2: { /* tags */
        char *save = NULL;
        if (!*rest)
            ERR(p, "tags needs at least one tag");
        for (char *t = strtok_r(rest, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
            if (!is_word(t)) {
                ERR(p, "bad tag '%s' (letters, digits, '-', '_' and '.')", t);
                continue;
            }
            if (ws_strv_add(&sc->tags, t) != 0)
                abort();
        }
        break;
    }
    default: /* doc */
        ws_buf_adds(&p->docs[0], rest);
        p->cont = 0;
        p->in_doc = 1;
        p->doc_blank = 0;
        break;
    }
}

/* step, step! (k 4, 5), connect (6), expect (7): one more line to run. */
static void parse_action(parser *p, int k, const char *key, const char *rest)
{
    ws_scn_line l;
    memset(&l, 0, sizeof l);
    l.lineno = p->lineno;
    int rc;
    if (k == 4 || k == 5) {
        l.kind = WS_SCN_STEP;
        l.u.step.expect_failure = k == 5;
        rc = parse_step(p, rest, &l.u.step);
    } else if (k == 6) {
        l.kind = WS_SCN_CONNECT;
        rc = parse_connect(p, rest, &l.u.connect);
    } else {
        l.kind = WS_SCN_EXPECT;
        rc = parse_expect(p, rest, &l.u.expect);
    }
    l.text = ws_printf("%s%s%s", key, *rest ? " " : "", rest);
    if (rc != 0)
        free_line(&l);
    else if (ws_buf_add(&p->lines, &l, sizeof l) != 0)
        abort();
}

/* One line of the file (trimmed in place); blank lines and comments do nothing. */
static void parse_line(parser *p, ws_scenario *sc, char *raw)
{
    int indented = raw[0] == ' ' || raw[0] == '\t';
    char *line = trim(raw);
    if (!*line) {
        if (p->in_doc)
            p->doc_blank = 1;
        return;
    }
    if (line[0] == '#')
        return;
    if (p->in_doc && indented) {
        /* A doc or ticket continuation line. */
        ws_buf *d = &p->docs[p->cont];
        ws_buf_addf(d, "%s%s", ws_buf_len(d) == 0 ? "" : p->doc_blank ? "\n\n" : "\n", line);
        p->doc_blank = 0;
        return;
    }
    p->in_doc = 0;
    char *rest = line;
    while (*rest && *rest != ' ' && *rest != '\t')
        rest++;
    if (*rest)
        *rest++ = '\0';
    while (*rest == ' ' || *rest == '\t')
        rest++;
    const char *key = line;
    int k = -1;
    for (int i = 0; i < N_KEYS; i++)
        if (strcmp(key, keys[i]) == 0)
            k = i;
    if (k < 0) {
        char hint[256];
        ERR(p, "unknown key '%s' %s", key,
            suggest(key, keys, N_KEYS, "the keys are title, mistake, tags, doc, ticket, step, step!, connect, expect",
                    hint, sizeof hint));
    } else if (k < 4 || k == 8) {
        parse_header(p, sc, k, key, rest);
    } else {
        parse_action(p, k, key, rest);
    }
}

int ws_scenario_parse(const char *path, const char *text, ws_scenario **out, ws_scn_errors *errs)
{
    *out = NULL;
    ws_scenario *sc = calloc(1, sizeof *sc);
    if (!sc)
        abort();
    sc->path = ws_strdup(path);
    sc->name = name_of(path);
    parser P = {.path = path, .errs = errs, .nerr_before = errs->n};
    parser *p = &P;
    ws_buf_init(&p->docs[0], WS_BUF_MAX_TEXT_FILE);
    ws_buf_init(&p->docs[1], WS_BUF_MAX_TEXT_FILE);
    ws_buf_init(&p->lines, WS_BUF_MAX_TEXT_FILE);
    const char *cur = text;
    if (strncmp(cur, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        cur += 3;
    while (*cur) {
        const char *nl = strchr(cur, '\n');
        size_t n = nl ? (size_t)(nl - cur) : strlen(cur);
        char *raw = strndup(cur, n);
        if (!raw)
            abort();
        cur = nl ? nl + 1 : cur + n;
        p->lineno++;
        parse_line(p, sc, raw);
        free(raw);
    }
    if (p->header_line[3] && !(sc->doc = ws_buf_take(&p->docs[0], NULL)))
        abort();
    if (p->ticket_line && !(sc->ticket = ws_buf_take(&p->docs[1], NULL)))
        abort();
    size_t len;
    if (!(sc->lines = (ws_scn_line *)ws_buf_take(&p->lines, &len)))
        abort();
    sc->nlines = (int)(len / sizeof *sc->lines);
    ws_buf_free(&p->docs[0]);
    ws_buf_free(&p->docs[1]);
    ws_buf_free(&p->lines);
    if (errs->n == P.nerr_before && sc->nlines == 0)
        add_error(errs, path, 0, "no step, connect or expect line: nothing to run");
    if (errs->n != P.nerr_before) {
        ws_scenario_free(sc);
        return -1;
    }
    *out = sc;
    return 0;
}

int ws_scenario_load(const char *path, ws_scenario **out, ws_scn_errors *errs)
{
    unsigned char *data;
    size_t len;
    ws_error e;
    *out = NULL;
    if (ws_read_file(path, 1 << 20, &data, &len, &e) != 0) {
        add_error(errs, path, -1, "%s", e.msg);
        return -1;
    }
    if (memchr(data, '\0', len)) {
        free(data);
        add_error(errs, path, 0, "not a text file");
        return -1;
    }
    int rc = ws_scenario_parse(path, (const char *)data, out, errs);
    free(data);
    return rc;
}
