/* SPDX-License-Identifier: Apache-2.0 */
/* standin: a certificate remade with a new key (cert.h, ws_cert_standin). */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "crypto/cert.h"
#include "crypto/sslerr.h"

/* A new key like the original's public key: RSA of the same size, EC on the same curve. [model]
 * RSA above WS_STANDIN_MAX_RSA_BITS gets a key of that size: an 8192-bit key takes minutes to
 * make and nothing the lab checks depends on the size (ws_cert_standin_key's callers report it). */
EVP_PKEY *ws_cert_standin_key(X509 *orig, ws_error *e)
{
    EVP_PKEY *pub = X509_get0_pubkey(orig);
    if (!pub) {
        ws_seterr(e, "the certificate's public key cannot be read");
        return NULL;
    }
    EVP_PKEY *key = NULL;
    if (EVP_PKEY_is_a(pub, "RSA")) {
        int bits = EVP_PKEY_get_bits(pub);
        if (bits < 512 || bits > 16384) {
            ws_seterr(e, "RSA key of %d bits: the lab makes 512 to 16384", bits);
            return NULL;
        }
        key = EVP_RSA_gen((unsigned)(bits > WS_STANDIN_MAX_RSA_BITS ? WS_STANDIN_MAX_RSA_BITS : bits));
    } else if (EVP_PKEY_is_a(pub, "EC")) {
        char curve[80];
        if (!EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, NULL)) {
            ws_seterr(e, "EC key on a curve the lab does not know");
            return NULL;
        }
        key = EVP_EC_gen(curve);
    } else {
        ws_seterr(e, "a %s key: the lab makes RSA and EC keys only", EVP_PKEY_get0_type_name(pub));
        return NULL;
    }
    if (!key)
        ws_ssl_error(e, "cannot make a key");
    return key;
}

/* Every extension but the key identifiers, which name keys the stand-in does not have. */
static int copy_extensions(X509 *orig, X509 *cert, int *had_ski, int *had_aki, ws_error *e)
{
    *had_ski = *had_aki = 0;
    for (int i = 0; i < X509_get_ext_count(orig); i++) {
        X509_EXTENSION *ext = X509_get_ext(orig, i);
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid == NID_subject_key_identifier)
            *had_ski = 1;
        else if (nid == NID_authority_key_identifier)
            *had_aki = 1;
        else if (!X509_add_ext(cert, ext, -1))
            return ws_ssl_error(e, "cannot copy an extension");
    }
    return 0;
}

/* The AKI names the signer's key id when the signer has an SKI, else its issuer and serial (RFC 5280
 * 4.2.1.1): an old CA or a makecert certificate has no SKI, and "keyid:always" would fail on it. */
static int add_key_ids(X509 *cert, X509 *signer, int had_ski, int had_aki, ws_error *e)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, signer, cert, NULL, NULL, 0);
    static const struct {
        int nid;
        const char *value;
    } ids[] = {{NID_subject_key_identifier, "hash"}, {NID_authority_key_identifier, "keyid,issuer"}};
    for (int i = 0; i < 2; i++) {
        if (!(i == 0 ? had_ski : had_aki))
            continue;
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, ids[i].nid, ids[i].value);
        int ok = ext && X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        if (!ok)
            return ws_ssl_error(e, "cannot make a key identifier");
    }
    return 0;
}

/* The digest the original was signed with; SHA-256 when it cannot be told. */
static const EVP_MD *digest_of(X509 *orig)
{
    int md_nid = NID_undef, pk_nid = NID_undef;
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(orig), &md_nid, &pk_nid) || md_nid == NID_undef)
        return EVP_sha256();
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    return md ? md : EVP_sha256();
}

int ws_cert_standin_with_key(X509 *orig, X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key, X509 **cert_out,
                             ws_error *e)
{
    if ((issuer == NULL) != (issuer_key == NULL))
        return ws_seterr(e, "an issuer needs both its certificate and its key");
    X509 *cert = X509_new();
    int had_ski, had_aki;
    if (!cert || !X509_set_version(cert, X509_get_version(orig)) ||
        !X509_set_serialNumber(cert, X509_get_serialNumber(orig)) ||
        !X509_set_subject_name(cert, X509_get_subject_name(orig)) ||
        !X509_set_issuer_name(cert, X509_get_issuer_name(orig)) || !X509_set1_notBefore(cert, X509_get0_notBefore(orig)) ||
        !X509_set1_notAfter(cert, X509_get0_notAfter(orig)) || !X509_set_pubkey(cert, key)) {
        ws_ssl_error(e, "cannot copy the certificate's fields");
        goto fail;
    }
    if (copy_extensions(orig, cert, &had_ski, &had_aki, e) != 0 ||
        add_key_ids(cert, issuer ? issuer : cert, had_ski, had_aki, e) != 0)
        goto fail;
    if (!X509_sign(cert, issuer ? issuer_key : key, digest_of(orig))) {
        ws_ssl_error(e, "cannot sign the stand-in");
        goto fail;
    }
    *cert_out = cert;
    return 0;
fail:
    X509_free(cert);
    return -1;
}

int ws_cert_standin(X509 *orig, X509 *issuer, EVP_PKEY *issuer_key, X509 **cert_out, EVP_PKEY **key_out,
                    ws_error *e)
{
    if ((issuer == NULL) != (issuer_key == NULL))
        return ws_seterr(e, "an issuer needs both its certificate and its key");
    EVP_PKEY *key = ws_cert_standin_key(orig, e);
    if (!key)
        return -1;
    if (ws_cert_standin_with_key(orig, issuer, issuer_key, key, cert_out, e) != 0) {
        EVP_PKEY_free(key);
        return -1;
    }
    *key_out = key;
    return 0;
}
