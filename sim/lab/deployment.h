/* SPDX-License-Identifier: Apache-2.0 */
/* deployment: a customer's Console Connect deployment as a file, and the lab it becomes.
 *
 * The format is the contract: schema/deployment-v1.schema.json (JSON Schema 2020-12),
 * README "Collecting a customer's configuration" for where each field comes from.
 * A deployment is deployment.json plus the certificate files it names (public parts,
 * DER or PEM), in a folder, a .zip or a .tar.gz. Nothing private travels: no private
 * key, no password. `wapsim lab init DIR --from PATH` builds a lab that is that
 * deployment (lab.h, ws_lab_init with opts->from); `wapsim lab export DIR` writes a lab
 * in the same format. A certificate loaded from a deployment is a stand-in
 * (crypto/cert.h ws_cert_standin; lab/vault.h ws_vault_original): its customer's
 * thumbprint is kept, and every thumbprint the file registers (trusted issuers,
 * bindings, VMM's settings) maps to the stand-in of the certificate that had it; one
 * that matches none stays as written, an unknown thumbprint. */
#ifndef WAPSIM_DEPLOYMENT_H
#define WAPSIM_DEPLOYMENT_H

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "lab/state.h"

#define WS_DEPLOYMENT_FORMAT "wapsim-deployment"
#define WS_DEPLOYMENT_VERSION 1
#define WS_DEPLOYMENT_JSON "deployment.json"
#define WS_DEPLOYMENT_SCHEMA "schema/deployment-v1.schema.json" /* in the source tree */

/* Bounds on what a deployment may hold: a deployment is untrusted input (a customer's
 * archive). Larger is refused in one line naming the file. */
#define WS_DEPLOY_MAX_FILES 1024               /* files in a folder or archive */
#define WS_DEPLOY_MAX_FILE_BYTES (1 << 20)     /* deployment.json, and each certificate file */
#define WS_DEPLOY_MAX_TOTAL_BYTES (32 << 20)   /* all of them, unpacked */


/* ---- import: reading a deployment and building its lab (lab init --from) ---- */
#include <openssl/x509.h>
#include <stdint.h>

#include "base/buf.h"

/* One file of a deployment, read into memory: name relative, '/'-separated. */
typedef struct ws_deploy_file {
    char *name;
    unsigned char *data; /* NUL-terminated for convenience */
    size_t len;
} ws_deploy_file;

typedef struct ws_deploy_files {
    ws_deploy_file *v;
    size_t n;
    size_t total;    /* bytes */
    size_t entries;  /* every entry seen (files, folders, links, devices): bounded by WS_DEPLOY_MAX_FILES */
    ws_strv ignored; /* "name: why" for each entry skipped (a directory, a link, a device) */
} ws_deploy_files;

/* Read a deployment's files from a folder (O_NOFOLLOW: a link is ignored, never
 * followed), a .zip or a .tar.gz (libarchive), within WS_DEPLOY_MAX_*. An entry whose
 * name is absolute or has a '..' part, or one too large, is refused: -1 with e naming
 * it; an entry that is not a regular file is ignored (listed in ignored). */
int ws_deploy_files_load(const char *path, ws_deploy_files *out, ws_error *e);
const ws_deploy_file *ws_deploy_files_get(const ws_deploy_files *f, const char *name);
void ws_deploy_files_free(ws_deploy_files *f);

/* A certificate of the deployment: one per customer thumbprint, however many entries
 * name it. */
typedef struct ws_deploy_cert {
    char thumbprint[41]; /* the customer's */
    char name[64];       /* vault name: its first file's stem, made unique */
    char file[256];      /* the first file that held it */
    ws_strv files;       /* every file that holds it */
    char csp[129];       /* a private_key's provider, "" when no entry gave one */
    X509 *cert;
} ws_deploy_cert;

/* A validated deployment: the JSON (every key checked against the schema's rules,
 * every certificate parsed, every relation resolved) and its certificates. */
typedef struct ws_deployment {
    struct cJSON *json;
    ws_deploy_cert *certs;
    size_t n_certs;
    int64_t collected_at; /* 0: not given */
} ws_deployment;

/* Validate deployment.json of files: 0, or -1 with e one line naming the file and the
 * JSON path ("deployment.json: machines[1].trusted_issuers[0]: '8F3A' is not a
 * thumbprint (40 hexadecimal digits)"). */
int ws_deploy_read(const ws_deploy_files *files, ws_deployment *d, ws_error *e);
void ws_deployment_free(ws_deployment *d);
/* A message's path made one piece, the machine's (or VM's) name after it:
 * "machines[3] (rdgw01).trusted_issuers[0]: x" -> "machines[3].trusted_issuers[0] (rdgw01): x".
 * In place; the length does not change. */
void ws_deploy_path_tidy(char *s);
/* The certificate the customer knew by thumbprint tp (any case), or NULL. */
const ws_deploy_cert *ws_deploy_cert_by_thumbprint(const ws_deployment *d, const char *tp);

/* What building took, for lab init's output. */
typedef struct ws_deploy_report {
    ws_strv defaults;  /* "machines[2] (vmm01).vmm.time_to_live_minutes: not given: 2, the default lab's" */
    ws_strv standins;  /* "name\tthumbprint\toriginal" */
    ws_strv unknown;   /* "path\tthumbprint": registered, matching none of the file's certificates */
} ws_deploy_report;
void ws_deploy_report_free(ws_deploy_report *r);

struct ws_lab_init_result;
/* Build the deployment's world in st (inside lab init's transaction; the lab clock's
 * offset is set already): machines at prefix's addresses, stand-in certificates,
 * stores, key access, settings, accounts (into res), tenants, VMs, DNS views, the
 * balancer. What it defaulted and the stand-ins go to rep. 0, or -1 with e. */
int ws_deploy_build(ws_state *st, const ws_deployment *d, const char *prefix, struct ws_lab_init_result *res,
                    ws_deploy_report *rep, ws_error *e);
/* The hosts file's text for the tenant's PC (the client's dns.hosts mapped, or the
 * public names as lab init writes them). Caller frees. */
char *ws_deploy_hosts_text(ws_state *st, const ws_deployment *d, ws_error *e);

/* ---- export: a lab written as a deployment (deploy_write.c, deploy_redact.c) ----
 * `wapsim lab export OUT`: every field of the schema the lab holds, read from the state
 * file (a running or a stopped lab), so that `lab init --from` the export is a lab that
 * behaves the same. Each certificate in a store is written once, certs/<vault name>.cer
 * (DER, as Export-Certificate writes it); no private key, password or stamp secret
 * travels. Settings naming a certificate are written as its thumbprint; a thumbprint no
 * certificate has stays as it is. */
#define WS_DEPLOY_CERTS_DIR "certs"

/* One certificate the export writes (or, for redaction, one the vault holds). */
typedef struct ws_export_cert {
    char name[128];        /* the file's stem: the vault name (renamed by --redact) */
    char thumbprint[41];   /* of cert */
    X509 *cert;            /* owned */
    int exported;          /* 1: in some store, written as certs/<name>.cer */
} ws_export_cert;

/* An export in memory: the document and the certificates it names. */
typedef struct ws_deploy_export {
    cJSON *doc;            /* deployment.json, in the schema's field order */
    ws_export_cert *certs; /* every vault certificate, by name; n_certs of them */
    size_t n_certs;
    int machines;          /* machines written */
    ws_strv warnings;      /* what could not be written as the lab has it, one line each */
} ws_deploy_export;

/* The lab as a deployment: 0 with *x filled (the caller frees it with
 * ws_deploy_export_free), or -1 with e set. Reads only. */
int ws_deploy_export_build(ws_state *st, ws_deploy_export *x, ws_error *e);
void ws_deploy_export_free(ws_deploy_export *x);
/* --redact (deploy_redact.c): replaces the customer's names consistently across the
 * document and the certificates (domains' labels, NetBIOS domains, tenants,
 * subscriptions, VMs; the description dropped), re-issues each certificate with the
 * lab's own keys from the vault under the new names so that every thumbprint the
 * document names follows, and sets "redacted". 0, or -1 with e set. */
int ws_deploy_redact(ws_state *st, ws_deploy_export *x, ws_error *e);
/* Writes x to out: a folder (must not exist, or be empty) or, with archive, one
 * .tar.gz file (must not exist). Written into out.tmp.<pid> and renamed, so an
 * interrupted export leaves no half folder. 0, or -1 with e naming the path. */
int ws_deploy_export_write(const ws_deploy_export *x, const char *out, int archive, ws_error *e);
/* Whether out may receive an export: 0, or -1 with e naming why not (it exists and is
 * not an empty folder; with archive, it exists; its folder does not exist). */
int ws_deploy_export_target_ok(const char *out, int archive, ws_error *e);
/* The number of certificates x writes. */
int ws_deploy_export_count(const ws_deploy_export *x);

#endif
