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

#endif
