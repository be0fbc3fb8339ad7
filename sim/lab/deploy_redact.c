/* SPDX-License-Identifier: Apache-2.0 */
/* deploy_redact: `lab export --redact` (lab/deployment.h): a customer's layout shared
 * without their names or anything that finds their real certificates.
 *
 * One mapping, applied alike to deployment.json, the certificates and the warnings:
 * - a DNS name's public suffix (com, co.uk, edu.au, nhs.uk; a hosting one: cloudapp.net,
 *   cloudapp.azure.com, onmicrosoft.com, azurewebsites.net) becomes "example" (RFC 2606
 *   reserves it), an internal one (.local, .lan, .internal, .corp, .home, .intranet) stays;
 *   the domain's own label (the one before the suffix) becomes customerN and every label
 *   between it and the host label (the first) subN: contoso.com -> customer1.example,
 *   rdweb.sydney.northwind.edu.au -> rdweb.sub1.customer2.example. Host labels stay;
 * - a NetBIOS domain in an account (CONTOSO\svc-vmm) becomes the same customerN when it
 *   is a domain's label, else domainN; an account's user part becomes userN, the same
 *   for the same user everywhere (a person's name such as john.smith must not survive);
 *   the well-known ones (NT AUTHORITY\*, BUILTIN\*, NT SERVICE\*, IIS APPPOOL\*, Everyone)
 *   stay;
 * - a tenant's account as a whole becomes tenantN (john.smith@fabrikam.net -> tenant1),
 *   subscriptions "Subscription N", VMs vmN; the description is dropped. A machine name
 *   stays unless it holds a mapped word (contoso-gw03 -> customer1-gw03; machineN when
 *   that is longer than a computer name's 15 characters or taken).
 * A word of any other text (a certificate's subject, a file name) that one of these
 * mapped is replaced too, in the same case shape (Contoso -> Customer1).
 *
 * Every certificate is re-issued, even one with no name to change: in a lab each one is
 * the lab's own or a stand-in, and a stand-in carries its original's serial
 * (ws_cert_standin), which with the SHA-1 finds the customer's real certificate (crt.sh).
 * The re-issue keeps the key pair, validity and signature digest; it takes the new
 * subject, issuer and SAN, a new random serial, and only the extensions the lab's checks
 * read (basicConstraints, keyUsage, EKU, SKI, the AKID's key id, SAN: no SCT list,
 * policies, issuer alternative name, name constraints, CRL/AIA, template names); it is
 * signed by its issuer's key from the vault (self-signed by its own), so chains still
 * verify. Every thumbprint the file names follows; one that matches no certificate (the
 * SHA-1 of the customer's real one) becomes a random one, the same throughout one
 * export, so it still matches nothing. Vault names are kept within 64 characters and
 * unique. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crypto/cert.h"
#include "lab/deployment.h"
#include "lab/dns.h"
#include "lab/vault.h"

#define TEXT_MAX 1024
#define WS_REDACT_NAME_MAX 64 /* a vault certificate's name (vault.c) */

typedef struct redact_map {
    ws_strv word_from, word_to;   /* whole words, matched without case */
    ws_strv whole_from, whole_to; /* whole values (VM and subscription names), exact */
    ws_strv tp_from, tp_to;       /* thumbprints: old -> re-issued */
    ws_strv file_from;            /* certs/<old name>.cer, by x->certs index */
    ws_strv mach_from, mach_to;   /* machine names that named the customer (contoso-gw01) */
    ws_strv tenant_from, tenant_to; /* tenant accounts, whole: john.smith@fabrikam.net -> tenant1 */
    ws_strv user_from, user_to;   /* other accounts' user parts: svc-vmm -> user1 */
    ws_strv name_from, name_to;   /* certificates' vault names: old -> new (for warnings) */
    const ws_deploy_export *x;    /* whose certificates' new names the files take */
    int n_domain, n_netbios, n_tenant, n_vm, n_sub, n_sublabel, n_user;
} redact_map;

static void map_free(redact_map *m)
{
    ws_strv *all[] = {&m->word_from, &m->word_to, &m->whole_from, &m->whole_to, &m->tp_from, &m->tp_to, &m->file_from,
                      &m->mach_from, &m->mach_to, &m->tenant_from, &m->tenant_to, &m->user_from,
                      &m->user_to, &m->name_from, &m->name_to};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ws_strv_free(all[i]);
}

static const char *lookup(const ws_strv *from, const ws_strv *to, const char *key, int ci)
{
    for (int i = 0; i < from->n; i++)
        if (ci ? strcasecmp(from->v[i], key) == 0 : strcmp(from->v[i], key) == 0)
            return to->v[i];
    return NULL;
}

static void add_word_to(redact_map *m, const char *word, const char *to)
{
    if (!*word || lookup(&m->word_from, &m->word_to, word, 1))
        return;
    ws_strv_add(&m->word_from, word);
    ws_strv_add(&m->word_to, to);
}

/* word -> prefix<N>, N the next of *counter, unless word is mapped already. */
static void add_word(redact_map *m, const char *word, const char *prefix, int *counter)
{
    if (!*word || lookup(&m->word_from, &m->word_to, word, 1))
        return;
    char to[64];
    snprintf(to, sizeof to, "%s%d", prefix, ++*counter);
    add_word_to(m, word, to);
}

static void add_pair(ws_strv *from, ws_strv *to, const char *value, const char *prefix, int *counter)
{
    if (!value || !*value || lookup(from, to, value, 1))
        return;
    ws_strv_add(from, value);
    ws_strv_addf(to, "%s%d", prefix, ++*counter);
}

/* ---- rewriting text ---- */

/* repl in the case shape of src: CONTOSO -> CUSTOMER1, Contoso -> Customer1. */
static void shaped(const char *src, const char *repl, char *out, size_t n)
{
    int upper = 1, any = 0;
    for (const char *p = src; *p; p++)
        if (isalpha((unsigned char)*p)) {
            any = 1;
            if (islower((unsigned char)*p))
                upper = 0;
        }
    snprintf(out, n, "%s", repl);
    for (char *p = out; *p; p++)
        if (any && upper)
            *p = (char)toupper((unsigned char)*p);
    if (isupper((unsigned char)src[0]))
        out[0] = (char)toupper((unsigned char)out[0]);
}

/* Each run of letters and digits that the map has replaced. */
static void redact_words(const redact_map *m, const char *in, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (const char *p = in; *p && o + 1 < n;) {
        if (!isalnum((unsigned char)*p)) {
            out[o++] = *p++;
            out[o] = '\0';
            continue;
        }
        const char *q = p;
        while (isalnum((unsigned char)*q))
            q++;
        char word[256], rep[256];
        if ((size_t)(q - p) >= sizeof word) { /* longer than any name: not one */
            size_t len = (size_t)(q - p) < n - 1 - o ? (size_t)(q - p) : n - 1 - o;
            memcpy(out + o, p, len);
            out[o += len] = '\0';
            p = q;
            continue;
        }
        snprintf(word, sizeof word, "%.*s", (int)(q - p), p);
        const char *to = lookup(&m->word_from, &m->word_to, word, 1);
        if (to)
            shaped(word, to, rep, sizeof rep);
        o += (size_t)snprintf(out + o, n - o, "%s", to ? rep : word);
        if (o >= n)
            o = n - 1;
        p = q;
    }
}

static int internal_suffix(const char *label)
{
    static const char *const s[] = {"local", "lan", "internal", "corp", "home", "intranet", "localdomain"};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (strcasecmp(label, s[i]) == 0)
            return 1;
    return 0;
}

/* How many of n labels are a public suffix: a hosting one (cloudapp.net, onmicrosoft.com:
 * what is left of them is the customer's), a country's second level (edu.au, co.uk,
 * nhs.uk), else one (com, local). */
static int suffix_labels(char **labels, int n)
{
    static const char *const hosting[][3] = {
        {"cloudapp", "net", NULL}, {"cloudapp", "azure", "com"}, {"onmicrosoft", "com", NULL},
        {"azurewebsites", "net", NULL}, {"trafficmanager", "net", NULL}};
    for (size_t h = 0; h < sizeof hosting / sizeof hosting[0]; h++) {
        int k = hosting[h][2] ? 3 : 2, ok = n > k;
        for (int i = 0; ok && i < k; i++)
            ok = strcasecmp(labels[n - k + i], hosting[h][i]) == 0;
        if (ok)
            return k;
    }
    static const char *const second[] = {"co",  "com", "net", "org", "ac",  "gov", "edu", "mil", "ltd", "plc",
                                         "nhs", "sch", "ne",  "or",  "go",  "gob", "nic", "id",  "me",  "police",
                                         "gv",  "nsw", "vic", "qld", "wa",  "sa",  "tas", "act", "nt",  "school"};
    if (n >= 3 && strlen(labels[n - 1]) == 2)
        for (size_t i = 0; i < sizeof second / sizeof second[0]; i++)
            if (strcasecmp(labels[n - 2], second[i]) == 0)
                return 2;
    return 1;
}

/* Index of the domain's own label among n labels (contoso in a.contoso.com and in
 * a.contoso.co.uk), or -1 for a single label or a bare suffix. */
static int own_label(char **labels, int n)
{
    if (n < 2)
        return -1;
    int own = n - suffix_labels(labels, n) - 1;
    return own >= 0 ? own : -1;
}

static int split_labels(char *name, char **labels, int max)
{
    int n = 0;
    for (char *save = NULL, *l = strtok_r(name, ".", &save); l && n < max; l = strtok_r(NULL, ".", &save))
        labels[n++] = l;
    return n;
}

static void collect_domain(redact_map *m, const char *name)
{
    char copy[TEXT_MAX], *labels[128];
    snprintf(copy, sizeof copy, "%s", name[0] == '*' && name[1] == '.' ? name + 2 : name);
    int n = split_labels(copy, labels, 128), own = own_label(labels, n);
    if (own < 0 || strchr(name, ' ') || strchr(name, '@'))
        return;
    add_word(m, labels[own], "customer", &m->n_domain);
    /* Every label between the host's (the first) and the domain's own names the customer
     * too (rdweb.sydney.northwind.edu.au). */
    for (int i = 1; i < own; i++)
        add_word(m, labels[i], "sub", &m->n_sublabel);
}

/* A DNS name: its domain's label mapped, a public suffix made "example", other labels
 * word by word. Not a dotted name: word by word. */
static void redact_dns(const redact_map *m, const char *in, char *out, size_t n)
{
    const char *wild = in[0] == '*' && in[1] == '.' ? "*." : "";
    char copy[TEXT_MAX], *labels[128];
    snprintf(copy, sizeof copy, "%s", in + strlen(wild));
    int nl = strchr(copy, '.') && !strchr(copy, ' ') ? split_labels(copy, labels, 128) : 0;
    int own = own_label(labels, nl);
    if (own < 0 || !lookup(&m->word_from, &m->word_to, labels[own], 1)) {
        redact_words(m, in, out, n);
        return;
    }
    size_t o = (size_t)snprintf(out, n, "%s", wild);
    for (int i = 0; i <= own && o < n; i++) {
        char part[256];
        const char *whole = lookup(&m->word_from, &m->word_to, labels[i], 1);
        if (whole) /* a label mapped as a whole (tailwind-wap) */
            shaped(labels[i], whole, part, sizeof part);
        else
            redact_words(m, labels[i], part, sizeof part);
        o += (size_t)snprintf(out + o, n - o, "%s%s", i ? "." : "", part);
    }
    int internal = internal_suffix(labels[nl - 1]);
    for (int i = own + 1; i < nl && o < n; i++)
        if (internal || i == own + 1) /* a public suffix, one label or two (co.uk), is "example" */
            o += (size_t)snprintf(out + o, n - o, ".%s", internal ? labels[i] : "example");
}

static int well_known_domain(const char *d, size_t len)
{
    static const char *const k[] = {"NT AUTHORITY", "BUILTIN", "NT SERVICE", "IIS APPPOOL", "NT VIRTUAL MACHINE"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (strlen(k[i]) == len && strncasecmp(d, k[i], len) == 0)
            return 1;
    return 0;
}

/* Accounts every Windows machine has (SYSTEM, Everyone): no customer's name. */
static int well_known_user(const char *u)
{
    static const char *const k[] = {"SYSTEM", "Everyone", "LOCAL SERVICE", "NETWORK SERVICE", "Administrators",
                                     "Users", "Authenticated Users", "LocalSystem", "Administrator"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (strcasecmp(u, k[i]) == 0)
            return 1;
    return 0;
}

/* An account's user part: userN (a person's name such as john.smith must not survive),
 * the same for the same user everywhere; a well-known one stays. */
static void redact_user(const redact_map *m, const char *in, char *out, size_t n)
{
    const char *to = lookup(&m->user_from, &m->user_to, in, 1);
    snprintf(out, n, "%s", to ? to : in);
}

/* DOMAIN\user, user@dns.name or a name; a tenant's account as a whole is tenantN. */
static void redact_account(const redact_map *m, const char *in, char *out, size_t n)
{
    const char *bs = strchr(in, '\\'), *at = strchr(in, '@');
    const char *tenant = lookup(&m->tenant_from, &m->tenant_to, in, 1);
    char a[TEXT_MAX], b[TEXT_MAX], part[TEXT_MAX];
    if (tenant) {
        snprintf(out, n, "%s", tenant);
    } else if (bs) {
        snprintf(part, sizeof part, "%.*s", (int)(bs - in), in);
        if (well_known_domain(in, (size_t)(bs - in))) {
            snprintf(out, n, "%s", in);
            return;
        }
        redact_words(m, part, a, sizeof a);
        redact_user(m, bs + 1, b, sizeof b);
        snprintf(out, n, "%s\\%s", a, b);
    } else if (at) {
        snprintf(part, sizeof part, "%.*s", (int)(at - in), in);
        redact_user(m, part, a, sizeof a);
        redact_dns(m, at + 1, b, sizeof b);
        snprintf(out, n, "%s@%s", a, b);
    } else {
        redact_user(m, in, out, n);
    }
}

/* scheme://host[:port][/path]: the host as a DNS name, the rest word by word. */
static void redact_uri(const redact_map *m, const char *in, char *out, size_t n)
{
    const char *host = strstr(in, "://");
    if (!host) {
        redact_words(m, in, out, n);
        return;
    }
    host += 3;
    size_t hl = strcspn(host, ":/?#");
    char h[TEXT_MAX], rh[TEXT_MAX], rest[TEXT_MAX];
    snprintf(h, sizeof h, "%.*s", (int)hl, host);
    redact_dns(m, h, rh, sizeof rh);
    redact_words(m, host + hl, rest, sizeof rest);
    snprintf(out, n, "%.*s%s%s", (int)(host - in), in, rh, rest);
}

/* ---- certificates ---- */

/* A subject or issuer name with each value rewritten (a DNS name as one, the rest word
 * by word); NULL when it cannot be made. The caller frees it. */
static X509_NAME *redact_name(const redact_map *m, const X509_NAME *in)
{
    X509_NAME *out = X509_NAME_new();
    for (int i = 0; out && i < X509_NAME_entry_count(in); i++) {
        const X509_NAME_ENTRY *en = X509_NAME_get_entry(in, i);
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(en));
        char text[TEXT_MAX], red[TEXT_MAX];
        snprintf(text, sizeof text, "%.*s", len > 0 ? len : 0, len > 0 ? (const char *)utf8 : "");
        OPENSSL_free(utf8);
        if (strchr(text, '@') && !strchr(text, ' ')) /* E=john.smith@contoso.com: an account */
            redact_account(m, text, red, sizeof red);
        else
            redact_dns(m, text, red, sizeof red);
        /* Same RDN as the previous entry (multi-valued) or a new one; a value left as it
         * was keeps its encoding (PrintableString stays one), so an unchanged name is
         * byte for byte the same. */
        int set = i > 0 && X509_NAME_ENTRY_set(en) == X509_NAME_ENTRY_set(X509_NAME_get_entry(in, i - 1)) ? -1 : 0;
        int ok = strcmp(text, red) == 0 ? X509_NAME_add_entry(out, en, -1, set)
                                        : X509_NAME_add_entry_by_OBJ(out, X509_NAME_ENTRY_get_object(en),
                                                                     MBSTRING_UTF8, (const unsigned char *)red, -1,
                                                                     -1, set);
        if (!ok) {
            X509_NAME_free(out);
            return NULL;
        }
    }
    return out;
}

/* The SAN's DNS names, e-mail addresses and URIs rewritten; addresses and registered
 * ids kept; other names (otherName: a UPN, a directory name) dropped: they name people
 * and the customer's directory. No entry left: no SAN. */
static int redact_san(const redact_map *m, X509 *cert)
{
    int crit = 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    if (!gens)
        return 0;
    int changed = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_IPADD || g->type == GEN_RID)
            continue;
        if (g->type != GEN_DNS && g->type != GEN_EMAIL && g->type != GEN_URI) {
            GENERAL_NAME_free(sk_GENERAL_NAME_delete(gens, i--));
            changed = 1;
            continue;
        }
        ASN1_IA5STRING *s = g->d.ia5;
        char text[TEXT_MAX], red[TEXT_MAX];
        snprintf(text, sizeof text, "%.*s", ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
        if (g->type == GEN_EMAIL)
            redact_account(m, text, red, sizeof red);
        else if (g->type == GEN_URI)
            redact_uri(m, text, red, sizeof red);
        else
            redact_dns(m, text, red, sizeof red);
        if (strcmp(text, red) != 0) {
            changed = 1;
            ASN1_STRING_set(s, red, -1);
        }
    }
    int rc = 0;
    if (changed && sk_GENERAL_NAME_num(gens) == 0)
        X509_EXTENSION_free(X509_delete_ext(cert, X509_get_ext_by_NID(cert, NID_subject_alt_name, -1)));
    else if (changed)
        rc = X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, crit, X509V3_ADD_REPLACE) == 1 ? 0 : -1;
    GENERAL_NAMES_free(gens);
    return rc;
}

static void collect_cert_names(redact_map *m, X509 *cert)
{
    const X509_NAME *names[] = {X509_get_subject_name(cert), X509_get_issuer_name(cert)};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < X509_NAME_entry_count(names[k]); i++) {
            unsigned char *utf8 = NULL;
            int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(names[k], i)));
            char text[TEXT_MAX];
            snprintf(text, sizeof text, "%.*s", len > 0 ? len : 0, len > 0 ? (const char *)utf8 : "");
            OPENSSL_free(utf8);
            const char *at = strchr(text, '@');
            if (at && !strchr(text, ' ')) { /* E=john.smith@contoso.com */
                char user[256];
                snprintf(user, sizeof user, "%.*s", (int)(at - text), text);
                add_pair(&m->user_from, &m->user_to, user, "user", &m->n_user);
                collect_domain(m, at + 1);
            } else if (ws_dns_name_valid(text[0] == '*' ? text + 2 : text))
                collect_domain(m, text);
        }
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS && g->type != GEN_EMAIL && g->type != GEN_URI)
            continue;
        char text[TEXT_MAX];
        snprintf(text, sizeof text, "%.*s", ASN1_STRING_length(g->d.ia5), (const char *)ASN1_STRING_get0_data(g->d.ia5));
        const char *host = text, *at = strrchr(text, '@'), *sch = strstr(text, "://");
        if (g->type == GEN_EMAIL && at) { /* john.smith@contoso.com: a user and a domain */
            host = at + 1;
            char user[256];
            snprintf(user, sizeof user, "%.*s", (int)(at - text), text);
            add_pair(&m->user_from, &m->user_to, user, "user", &m->n_user);
        }
        else if (g->type == GEN_URI && sch) { /* http://pki.contoso.com/crl: the host */
            host = sch + 3;
            text[host - text + strcspn(host, ":/?#")] = '\0';
        } else if (g->type != GEN_DNS)
            continue;
        collect_domain(m, host);
    }
    GENERAL_NAMES_free(gens);
}

/* The digest the certificate was signed with (SHA-256 when it cannot be told), so a
 * re-issued one keeps it: a SHA-1 signature is itself a finding. */
static const EVP_MD *digest_of(X509 *cert)
{
    int md_nid = NID_undef, pk_nid = NID_undef;
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, &pk_nid) || md_nid == NID_undef)
        return EVP_sha256();
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    return md ? md : EVP_sha256();
}

typedef struct reissue_ctx {
    ws_state *st;
    ws_deploy_export *x;
    redact_map *m;
    X509 **done;   /* per x->certs index: the re-issued certificate, or NULL */
    int *visiting; /* cycle guard */
    ws_error *e;
} reissue_ctx;

/* issuer's key signed c under issuer's name (X509_check_issued would also want
 * keyCertSign, which a self-signed leaf such as the VMM certificate lacks). */
static int signed_by(X509 *issuer, X509 *c)
{
    EVP_PKEY *pub = X509_get0_pubkey(issuer);
    return X509_NAME_cmp(X509_get_subject_name(issuer), X509_get_issuer_name(c)) == 0 && pub &&
           X509_verify(c, pub) == 1;
}

static int issuer_index(const ws_deploy_export *x, size_t i)
{
    X509 *c = x->certs[i].cert;
    if (signed_by(c, c))
        return (int)i;
    for (size_t j = 0; j < x->n_certs; j++)
        if (j != i && signed_by(x->certs[j].cert, c))
            return (int)j;
    return -1;
}

/* Only the extensions the lab's checks read stay: the rest (certificate policies and
 * their CPS URLs, issuer alternative names, name constraints, CRL distribution points,
 * AIA, CT's SCT list, Microsoft's template names) name the customer or find their real
 * certificate (crt.sh) and are dropped. The AKID keeps its key id only: its issuer and
 * serial are the original issuer's name and serial. */
static int keep_extensions(X509 *c)
{
    static const int kept[] = {NID_basic_constraints, NID_key_usage, NID_ext_key_usage, NID_subject_key_identifier,
                               NID_authority_key_identifier, NID_subject_alt_name};
    for (int i = 0; i < X509_get_ext_count(c); i++) {
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(c, i))), keep = 0;
        for (size_t k = 0; k < sizeof kept / sizeof kept[0]; k++)
            keep |= nid == kept[k];
        if (!keep)
            X509_EXTENSION_free(X509_delete_ext(c, i--));
    }
    int crit = 0, rc = 0;
    AUTHORITY_KEYID *ak = X509_get_ext_d2i(c, NID_authority_key_identifier, &crit, NULL);
    if (ak && (ak->issuer || ak->serial)) {
        GENERAL_NAMES_free(ak->issuer);
        ASN1_INTEGER_free(ak->serial);
        ak->issuer = NULL;
        ak->serial = NULL;
        if (ak->keyid)
            rc = X509_add1_ext_i2d(c, NID_authority_key_identifier, ak, crit, X509V3_ADD_REPLACE) == 1 ? 0 : -1;
        else
            X509_EXTENSION_free(X509_delete_ext(c, X509_get_ext_by_NID(c, NID_authority_key_identifier, -1)));
    }
    AUTHORITY_KEYID_free(ak);
    return rc;
}

/* A new random serial (positive, 127 bits, as CAs make them): a serial finds the
 * customer's real certificate, and a stand-in carries its original's. */
static int new_serial(X509 *c)
{
    BIGNUM *bn = BN_new();
    ASN1_INTEGER *serial = bn && BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ? BN_to_ASN1_INTEGER(bn, NULL)
                                                                                         : NULL;
    int ok = serial && X509_set_serialNumber(c, serial);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return ok ? 0 : -1;
}

/* orig under the new names: subject, issuer's name (issuer's re-issued subject when the
 * lab holds the issuer), SAN, a new serial, only the extensions keep_extensions keeps.
 * Not signed yet. NULL when it cannot be made. */
static X509 *renamed(const redact_map *m, X509 *orig, X509 *issuer)
{
    X509 *c = X509_dup(orig);
    X509_NAME *subject = redact_name(m, X509_get_subject_name(orig));
    X509_NAME *iname = issuer ? NULL : redact_name(m, X509_get_issuer_name(orig));
    int ok = c && subject && (issuer || iname) && keep_extensions(c) == 0 && new_serial(c) == 0 &&
             X509_set_subject_name(c, subject) &&
             X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : iname) && redact_san(m, c) == 0;
    X509_NAME_free(subject);
    X509_NAME_free(iname);
    if (!ok) {
        X509_free(c);
        return NULL;
    }
    return c;
}

/* Signs c as certificate i's issuer j (i itself: self-signed) would, with its key from the
 * vault; without it, with a throw-away key and a warning: the chain no longer verifies. */
static int sign_as_issuer(reissue_ctx *r, size_t i, int j, X509 *c)
{
    EVP_PKEY *key = NULL;
    if (j >= 0 && ws_vault_get(r->st, r->x->certs[j].name, NULL, &key, NULL, r->e) != 0)
        return -1;
    if (!key) {
        key = EVP_RSA_gen(2048);
        ws_strv_addf(&r->x->warnings, "%s: its issuer's key is not in the lab: re-issued with a throw-away key",
                     r->x->certs[i].name);
    }
    int ok = key && X509_sign(c, key, digest_of(r->x->certs[i].cert));
    EVP_PKEY_free(key);
    return ok ? 0 : ws_seterr(r->e, "%s: cannot sign it under the new names", r->x->certs[i].name);
}

/* Certificate i under the new names, its issuer first (r->done[i]). */
static int reissue(reissue_ctx *r, size_t i)
{
    if (r->done[i])
        return 0;
    if (r->visiting[i]++)
        return ws_seterr(r->e, "%s: its issuers form a loop", r->x->certs[i].name);
    int j = issuer_index(r->x, i);
    if (j >= 0 && (size_t)j != i && reissue(r, (size_t)j) != 0)
        return -1;
    X509 *orig = r->x->certs[i].cert, *c = renamed(r->m, orig, j >= 0 && (size_t)j != i ? r->done[j] : NULL);
    if (!c)
        return ws_seterr(r->e, "%s: cannot re-issue it under the new names", r->x->certs[i].name);
    /* Every certificate is signed again, even one with no name to change: its serial
     * and SHA-1 are the customer's (a stand-in keeps its original's serial). */
    if (sign_as_issuer(r, i, j, c) != 0) {
        X509_free(c);
        return -1;
    }
    r->done[i] = c;
    return c ? 0 : ws_seterr(r->e, "out of memory");
}

/* Every certificate re-issued (issuers first), renamed, its thumbprint mapped. */
static int reissue_all(ws_state *st, ws_deploy_export *x, redact_map *m, ws_error *e)
{
    reissue_ctx r = {.st = st, .x = x, .m = m, .e = e, .done = calloc(x->n_certs + 1, sizeof(X509 *)),
                     .visiting = calloc(x->n_certs + 1, sizeof(int))};
    int rc = r.done && r.visiting ? 0 : ws_seterr(e, "out of memory");
    for (size_t i = 0; rc == 0 && i < x->n_certs; i++)
        rc = reissue(&r, i);
    for (size_t i = 0; rc == 0 && i < x->n_certs; i++) {
        ws_export_cert *c = &x->certs[i];
        char tp[41], name[sizeof c->name], unique[sizeof c->name];
        ws_cert_thumbprint(r.done[i], tp);
        ws_strv_add(&m->tp_from, c->thumbprint);
        ws_strv_add(&m->tp_to, tp);
        X509_free(c->cert);
        c->cert = r.done[i];
        r.done[i] = NULL;
        snprintf(c->thumbprint, sizeof c->thumbprint, "%s", tp);
        redact_words(m, c->name, name, sizeof name);
        /* A vault name is up to 64 characters (vault.c) and two names may become one:
         * cut, then made unique with -2, -3, ... inside the 64. */
        snprintf(unique, sizeof unique, "%.*s", WS_REDACT_NAME_MAX, name);
        for (int k = 2; rc == 0; k++) {
            int taken = 0;
            for (size_t j = 0; j < i; j++)
                taken |= strcmp(x->certs[j].name, unique) == 0;
            if (!taken)
                break;
            if (k > 9999)
                rc = ws_seterr(e, "%s: no unique certificate name of up to %d characters is left", name,
                               WS_REDACT_NAME_MAX);
            char sfx[8];
            int sl = snprintf(sfx, sizeof sfx, "-%d", k);
            snprintf(unique, sizeof unique, "%.*s%s", WS_REDACT_NAME_MAX - sl, name, sfx);
        }
        ws_strv_add(&m->name_from, c->name);
        ws_strv_add(&m->name_to, unique);
        snprintf(c->name, sizeof c->name, "%s", unique);
    }
    for (size_t i = 0; r.done && i < x->n_certs; i++)
        X509_free(r.done[i]);
    free(r.done);
    free(r.visiting);
    return rc;
}

/* ---- the document ---- */

typedef void (*redact_fn)(const redact_map *m, const char *in, char *out, size_t n);

static void set_str(const redact_map *m, cJSON *obj, const char *key, redact_fn fn)
{
    cJSON *it = cJSON_GetObjectItem(obj, key);
    if (!cJSON_IsString(it))
        return;
    char out[TEXT_MAX];
    fn(m, it->valuestring, out, sizeof out);
    cJSON_SetValuestring(it, out);
}

static void set_array(const redact_map *m, cJSON *obj, const char *key, redact_fn fn)
{
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(obj, key))
    {
        char out[TEXT_MAX];
        if (!cJSON_IsString(it))
            continue;
        fn(m, it->valuestring, out, sizeof out);
        cJSON_SetValuestring(it, out);
    }
}

static void redact_whole(const redact_map *m, const char *in, char *out, size_t n)
{
    const char *to = lookup(&m->whole_from, &m->whole_to, in, 0);
    if (to)
        snprintf(out, n, "%s", to);
    else
        redact_words(m, in, out, n);
}

/* A certificate's thumbprint: its re-issued one's; one no certificate has: a random one
 * (add_unknown_tp), still matching nothing. */
static void redact_tp(const redact_map *m, const char *in, char *out, size_t n)
{
    const char *to = lookup(&m->tp_from, &m->tp_to, in, 1);
    snprintf(out, n, "%s", to ? to : in);
}

static int is_thumbprint(const char *s)
{
    return strlen(s) == 40 && strspn(s, "0123456789abcdefABCDEF") == 40;
}

/* A registered thumbprint that matches no certificate is the SHA-1 of the customer's real
 * one (crt.sh finds it): it becomes a random one, the same wherever the export names it,
 * so it still matches nothing and the finding survives. */
static void add_unknown_tp(redact_map *m, const cJSON *value)
{
    if (!cJSON_IsString(value) || !is_thumbprint(value->valuestring) ||
        lookup(&m->tp_from, &m->tp_to, value->valuestring, 1))
        return;
    unsigned char r[20];
    char hex[41];
    if (RAND_bytes(r, sizeof r) != 1)
        return;
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02X", r[i]);
    ws_strv_add(&m->tp_from, value->valuestring);
    ws_strv_add(&m->tp_to, hex);
}

static void collect_unknown_tps(redact_map *m, const cJSON *doc)
{
    const cJSON *mc, *it, *store;
    cJSON_ArrayForEach(mc, cJSON_GetObjectItem(doc, "machines"))
    {
        const cJSON *vmm = cJSON_GetObjectItem(mc, "vmm");
        const cJSON *one[] = {cJSON_GetObjectItem(mc, "tls_certificate"), cJSON_GetObjectItem(mc, "rdp_certificate"),
                              cJSON_GetObjectItem(vmm, "gateway_certificate"),
                              cJSON_GetObjectItem(vmm, "hyperv_certificate")};
        for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
            add_unknown_tp(m, one[i]);
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(mc, "trusted_issuers")) add_unknown_tp(m, it);
        cJSON_ArrayForEach(store, cJSON_GetObjectItem(mc, "stores")) cJSON_ArrayForEach(it, store)
            add_unknown_tp(m, cJSON_GetObjectItem(it, "thumbprint"));
    }
}

static void redact_file(const redact_map *m, const char *in, char *out, size_t n)
{
    snprintf(out, n, "%s", in);
    for (int i = 0; i < m->file_from.n; i++)
        if (strcmp(m->file_from.v[i], in) == 0)
            snprintf(out, n, WS_DEPLOY_CERTS_DIR "/%s.cer", m->x->certs[i].name);
}

static void redact_entry(const redact_map *m, cJSON *en)
{
    set_str(m, en, "file", redact_file);
    set_str(m, en, "thumbprint", redact_tp);
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(cJSON_GetObjectItem(en, "private_key"), "access"))
        set_str(m, a, "account", redact_account);
}

static void redact_machine_name(const redact_map *m, const char *in, char *out, size_t n)
{
    const char *to = lookup(&m->mach_from, &m->mach_to, in, 1);
    snprintf(out, n, "%s", to ? to : in);
}

static void redact_machine(const redact_map *m, cJSON *mc)
{
    set_str(m, mc, "name", redact_machine_name);
    set_array(m, cJSON_GetObjectItem(mc, "balancer"), "members", redact_machine_name);
    set_str(m, mc, "fqdn", redact_dns);
    set_str(m, mc, "public_fqdn", redact_dns);
    set_str(m, mc, "service_account", redact_account);
    set_array(m, mc, "local_administrators", redact_account);
    cJSON *dns = cJSON_GetObjectItem(mc, "dns"), *it;
    set_array(m, dns, "forwarders", redact_dns);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(dns, "hosts")) set_str(m, it, "name", redact_dns);
    cJSON *stores = cJSON_GetObjectItem(mc, "stores"), *store;
    cJSON_ArrayForEach(store, stores) cJSON_ArrayForEach(it, store) redact_entry(m, it);
    set_str(m, mc, "tls_certificate", redact_tp);
    set_str(m, mc, "rdp_certificate", redact_tp);
    set_array(m, mc, "trusted_issuers", redact_tp);
    cJSON *vmm = cJSON_GetObjectItem(mc, "vmm");
    set_str(m, vmm, "gateway_certificate", redact_tp);
    set_str(m, vmm, "hyperv_certificate", redact_tp);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(mc, "vms"))
    {
        set_str(m, it, "name", redact_whole);
        set_str(m, it, "tenant", redact_account);
        set_str(m, it, "subscription", redact_whole);
    }
}

static void redact_doc(const redact_map *m, cJSON *doc)
{
    cJSON_DeleteItemFromObject(doc, "description");
    cJSON_AddBoolToObject(doc, "redacted", 1);
    set_str(m, cJSON_GetObjectItem(doc, "cloud"), "rd_gateway_fqdn", redact_dns);
    cJSON *t, *s, *mc;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(doc, "tenants"))
    {
        set_str(m, t, "name", redact_account);
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(t, "subscriptions")) set_str(m, s, "name", redact_whole);
    }
    cJSON_ArrayForEach(mc, cJSON_GetObjectItem(doc, "machines")) redact_machine(m, mc);
}

/* ---- the mapping ---- */

/* An account's domain (NetBIOS or DNS) and user part; a tenant's as a whole. */
static void collect_account(redact_map *m, const char *account, int tenant)
{
    const char *bs = strchr(account, '\\'), *at = strchr(account, '@');
    if (bs && well_known_domain(account, (size_t)(bs - account)))
        return;
    if (bs) {
        char d[256];
        snprintf(d, sizeof d, "%.*s", (int)(bs - account), account);
        add_word(m, d, "domain", &m->n_netbios); /* a domain's label already is customerN */
    }
    if (at)
        collect_domain(m, at + 1);
    char user[256];
    const char *u = bs ? bs + 1 : account;
    snprintf(user, sizeof user, "%.*s", (int)(at && at > u ? at - u : (ptrdiff_t)strlen(u)), u);
    if (tenant) {
        add_pair(&m->tenant_from, &m->tenant_to, account, "tenant", &m->n_tenant);
        /* A tenant's name as a word of other text (a certificate's) becomes the same. */
        if (strspn(user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == strlen(user))
            add_word_to(m, user, lookup(&m->tenant_from, &m->tenant_to, account, 1));
        return;
    }
    if (!well_known_user(user))
        add_pair(&m->user_from, &m->user_to, user, "user", &m->n_user);
}

static void add_whole(redact_map *m, const char *value, const char *prefix, int *counter)
{
    if (!value || lookup(&m->whole_from, &m->whole_to, value, 0))
        return;
    ws_strv_add(&m->whole_from, value);
    ws_strv_addf(&m->whole_to, "%s%d", prefix, ++*counter);
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Pass 1: the DNS names, so a domain's label is customerN before a NetBIOS domain of
 * the same word is met. */
static void collect_machine_domains(redact_map *m, const cJSON *mc)
{
    const char *names[] = {str_of(mc, "fqdn"), str_of(mc, "public_fqdn")};
    for (int i = 0; i < 2; i++)
        if (names[i])
            collect_domain(m, names[i]);
    const cJSON *dns = cJSON_GetObjectItem(mc, "dns"), *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(dns, "forwarders")) collect_domain(m, it->valuestring);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(dns, "hosts")) if (str_of(it, "name"))
        collect_domain(m, str_of(it, "name"));
}

/* Whether a machine's new name is taken: by a new name given already, or by a machine's
 * name in the document (which may stay). */
static int machine_taken(const redact_map *m, const cJSON *doc, const char *to)
{
    const cJSON *mc;
    if (lookup(&m->mach_to, &m->mach_from, to, 1))
        return 1;
    cJSON_ArrayForEach(mc, cJSON_GetObjectItem(doc, "machines"))
    {
        const cJSON *n = cJSON_GetObjectItem(mc, "name");
        if (cJSON_IsString(n) && strcasecmp(n->valuestring, to) == 0)
            return 1;
    }
    return 0;
}

/* A machine's new name: its words mapped; one that no longer fits a computer name (15
 * characters, NetBIOS) or is taken becomes machineN, the first N free. */
static void collect_machine_name(redact_map *m, const cJSON *doc, const char *name)
{
    char to[TEXT_MAX];
    redact_words(m, name, to, sizeof to);
    if (strcmp(to, name) == 0 || lookup(&m->mach_from, &m->mach_to, name, 1))
        return;
    for (int k = 1; strlen(to) > 15 || machine_taken(m, doc, to); k++)
        snprintf(to, sizeof to, "machine%d", k);
    ws_strv_add(&m->mach_from, name);
    ws_strv_add(&m->mach_to, to);
}

/* Pass 2: accounts, VMs, subscriptions, machine names. */
static void collect_machine(redact_map *m, const cJSON *doc, const cJSON *mc)
{
    const cJSON *it, *store, *en, *a;
    if (str_of(mc, "name"))
        collect_machine_name(m, doc, str_of(mc, "name"));
    if (str_of(mc, "service_account"))
        collect_account(m, str_of(mc, "service_account"), 0);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(mc, "local_administrators")) collect_account(m, it->valuestring, 0);
    cJSON_ArrayForEach(store, cJSON_GetObjectItem(mc, "stores")) cJSON_ArrayForEach(en, store)
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(cJSON_GetObjectItem(en, "private_key"), "access"))
            if (str_of(a, "account")) collect_account(m, str_of(a, "account"), 0);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(mc, "vms"))
    {
        const char *vm = str_of(it, "name");
        add_whole(m, vm, "vm", &m->n_vm);
        /* A VM's name as a word of other text (a certificate's) becomes the same. */
        if (vm && strspn(vm, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == strlen(vm))
            add_word_to(m, vm, lookup(&m->whole_from, &m->whole_to, vm, 0));
        if (str_of(it, "tenant"))
            collect_account(m, str_of(it, "tenant"), 1);
        add_whole(m, str_of(it, "subscription"), "Subscription ", &m->n_sub);
    }
}

static void collect(redact_map *m, const ws_deploy_export *x)
{
    const cJSON *doc = x->doc, *it, *s;
    const char *gw = str_of(cJSON_GetObjectItem(doc, "cloud"), "rd_gateway_fqdn");
    if (gw)
        collect_domain(m, gw);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "machines")) collect_machine_domains(m, it);
    for (size_t i = 0; i < x->n_certs; i++)
        collect_cert_names(m, x->certs[i].cert);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "machines")) collect_machine(m, doc, it);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "tenants"))
    {
        if (str_of(it, "name"))
            collect_account(m, str_of(it, "name"), 1);
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(it, "subscriptions"))
            add_whole(m, str_of(s, "name"), "Subscription ", &m->n_sub);
    }
}

/* A sentence (a warning): each name in it (a run of letters, digits and . - _ @ \\ *)
 * through the mapping it would take in the document. */
static void redact_text(const redact_map *m, const char *in, char *out, size_t n)
{
    static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@\\*";
    size_t o = 0;
    out[0] = '\0';
    for (const char *p = in; *p && o + 1 < n;) {
        size_t len = strspn(p, name_chars);
        if (!len) {
            out[o++] = *p++;
            out[o] = '\0';
            continue;
        }
        char tok[TEXT_MAX], red[TEXT_MAX];
        snprintf(tok, sizeof tok, "%.*s", (int)len, p);
        const char *to = lookup(&m->tp_from, &m->tp_to, tok, 1);
        to = to ? to : lookup(&m->name_from, &m->name_to, tok, 0);
        to = to ? to : lookup(&m->mach_from, &m->mach_to, tok, 1);
        to = to ? to : lookup(&m->tenant_from, &m->tenant_to, tok, 1);
        to = to ? to : lookup(&m->whole_from, &m->whole_to, tok, 0);
        to = to ? to : lookup(&m->user_from, &m->user_to, tok, 1);
        if (!to && (strchr(tok, '\\') || strchr(tok, '@')))
            redact_account(m, tok, red, sizeof red);
        else if (!to && strchr(tok, '.'))
            redact_dns(m, tok, red, sizeof red);
        else if (!to)
            redact_words(m, tok, red, sizeof red);
        o += (size_t)snprintf(out + o, n - o, "%s", to ? to : red);
        if (o >= n)
            o = n - 1;
        p += len;
    }
}

/* Warnings (deploy_write.c's and the re-issue's) are written from the original names:
 * under --redact they are printed through the mapping too. */
static void redact_warnings(const redact_map *m, ws_strv *w)
{
    for (int i = 0; i < w->n; i++) {
        char out[TEXT_MAX];
        redact_text(m, w->v[i], out, sizeof out);
        char *copy = strdup(out);
        if (copy) {
            free(w->v[i]);
            w->v[i] = copy;
        }
    }
}

int ws_deploy_redact(ws_state *st, ws_deploy_export *x, ws_error *e)
{
    redact_map m;
    memset(&m, 0, sizeof m);
    collect(&m, x);
    m.x = x;
    for (size_t i = 0; i < x->n_certs; i++)
        ws_strv_addf(&m.file_from, WS_DEPLOY_CERTS_DIR "/%s.cer", x->certs[i].name);
    int rc = reissue_all(st, x, &m, e);
    if (rc == 0) {
        collect_unknown_tps(&m, x->doc);
        redact_doc(&m, x->doc);
        redact_warnings(&m, &x->warnings);
    }
    map_free(&m);
    return rc;
}
