/* SPDX-License-Identifier: Apache-2.0 */
/* cert: see cert.h. Everything here is OpenSSL 3; nothing is hand-written crypto. */
#include "crypto/cert.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "crypto/sslerr.h"

/* "CN=a, O=b": Windows writes the most specific name first; DER holds it last. */
static X509_NAME *parse_subject(const char *text, ws_error *e)
{
    char *copy = ws_strdup(text);
    char *parts[32];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == 32) {
            free(copy);
            ws_seterr(e, "subject '%s' has too many parts", text);
            return NULL;
        }
        while (isspace((unsigned char)*tok))
            tok++;
        parts[n++] = tok;
    }
    X509_NAME *name = X509_NAME_new();
    for (int i = n - 1; i >= 0; i--) {
        char *eq = strchr(parts[i], '=');
        if (!eq || eq == parts[i] || !eq[1]) {
            ws_seterr(e, "bad subject '%s': '%s' is not KEY=value", text, parts[i]);
            goto fail;
        }
        *eq = '\0';
        char *end = eq - 1;
        while (end > parts[i] && isspace((unsigned char)*end))
            *end-- = '\0';
        char *value = eq + 1, *vend = value + strlen(value);
        while (vend > value && isspace((unsigned char)vend[-1]))
            *--vend = '\0';
        if (!*value) {
            ws_seterr(e, "bad subject '%s': '%s' has no value", text, parts[i]);
            goto fail;
        }
        const char *field = strcmp(parts[i], "E") == 0 ? "emailAddress" : parts[i];
        if (OBJ_txt2nid(field) == NID_undef ||
            !X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (unsigned char *)value, -1, -1, 0)) {
            ERR_clear_error();
            ws_seterr(e, "bad subject '%s': unknown attribute '%s'", text, parts[i]);
            goto fail;
        }
    }
    if (n == 0) {
        ws_seterr(e, "empty subject");
        goto fail;
    }
    free(copy);
    return name;
fail:
    free(copy);
    X509_NAME_free(name);
    return NULL;
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value, ws_error *e)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ext) {
        ERR_clear_error();
        return ws_seterr(e, "bad %s '%s'", OBJ_nid2ln(nid), value);
    }
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : ws_ssl_error(e, "cannot add extension");
}

int ws_cert_create(const ws_cert_spec *spec, X509 *issuer, EVP_PKEY *issuer_key, X509 **cert_out,
                   EVP_PKEY **key_out, ws_error *e)
{
    int bits = spec->key_bits ? spec->key_bits : 2048;
    if (bits < 1024 || bits > 8192)
        return ws_seterr(e, "key size %d is out of range (1024..8192)", bits);
    if (spec->not_after <= spec->not_before)
        return ws_seterr(e, "the certificate would expire before it starts");
    if ((issuer == NULL) != (issuer_key == NULL))
        return ws_seterr(e, "an issuer needs both its certificate and its key");
    X509_NAME *subject = parse_subject(spec->subject ? spec->subject : "", e);
    if (!subject)
        return -1;
    EVP_PKEY *key = EVP_RSA_gen((unsigned)bits);
    X509 *cert = X509_new();
    BIGNUM *serial = BN_new();
    if (!key || !cert || !serial) {
        ws_ssl_error(e, "cannot create key");
        goto fail;
    }
    X509_set_version(cert, X509_VERSION_3);
    if (!BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert))) {
        ws_ssl_error(e, "cannot make a serial number");
        goto fail;
    }
    if (!ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)spec->not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)spec->not_after)) {
        ws_seterr(e, "validity dates out of range");
        goto fail;
    }
    X509_set_subject_name(cert, subject);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : subject);
    X509_set_pubkey(cert, key);

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    if (spec->is_ca) {
        if (add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE", e) != 0)
            goto fail;
    } else if (issuer) {
        if (add_ext(cert, &ctx, NID_basic_constraints, "CA:FALSE", e) != 0)
            goto fail;
    }
    char ku[256];
    const char *ku_list = spec->key_usage && *spec->key_usage ? spec->key_usage : NULL;
    if (spec->is_ca)
        snprintf(ku, sizeof ku, "critical,keyCertSign,cRLSign%s%s", ku_list ? "," : "", ku_list ? ku_list : "");
    else if (ku_list)
        snprintf(ku, sizeof ku, "critical,%s", ku_list);
    if ((spec->is_ca || ku_list) && add_ext(cert, &ctx, NID_key_usage, ku, e) != 0)
        goto fail;
    if (spec->eku && *spec->eku && add_ext(cert, &ctx, NID_ext_key_usage, spec->eku, e) != 0)
        goto fail;
    if (spec->san && *spec->san && add_ext(cert, &ctx, NID_subject_alt_name, spec->san, e) != 0)
        goto fail;
    if (add_ext(cert, &ctx, NID_subject_key_identifier, "hash", e) != 0)
        goto fail;
    /* Self-signed certificates name their own key as issuer too: with two roots of the same
     * subject in a store (a renewed self-signed certificate) chains are then built by key,
     * as Windows does, not by name alone. */
    if (add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always", e) != 0)
        goto fail;
    if (!X509_sign(cert, issuer ? issuer_key : key, EVP_sha256())) {
        ws_ssl_error(e, "cannot sign the certificate");
        goto fail;
    }
    BN_free(serial);
    X509_NAME_free(subject);
    *cert_out = cert;
    *key_out = key;
    return 0;
fail:
    BN_free(serial);
    X509_NAME_free(subject);
    X509_free(cert);
    EVP_PKEY_free(key);
    return -1;
}

void ws_cert_thumbprint(X509 *cert, char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!X509_digest(cert, EVP_sha1(), md, &len) || len != 20) {
        out[0] = '\0';
        return;
    }
    ws_hex_upper(md, 20, out);
}

int ws_thumbprint_valid(const char *s)
{
    if (!s || strlen(s) != 40)
        return 0;
    for (int i = 0; i < 40; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

int ws_thumbprint_normalize(const char *in, char out[41])
{
    size_t n = 0;
    for (const char *p = in; p && *p; p++) {
        if (*p == ' ' || *p == ':' || *p == '\t')
            continue;
        if (!isxdigit((unsigned char)*p) || n == 40)
            return -1;
        out[n++] = (char)toupper((unsigned char)*p);
    }
    out[n] = '\0';
    return n == 40 ? 0 : -1;
}

/* The text built in b, as a malloc'ed string; b is freed. */
static char *list_take(ws_buf *b)
{
    char *s = ws_buf_take(b, NULL);
    ws_buf_free(b);
    if (!s)
        abort(); /* as ws_strdup: out of memory is not recoverable here */
    return s;
}

static char *name_string(X509_NAME *name)
{
    ws_buf out;
    ws_buf_init(&out, WS_BUF_MAX_CERT_TEXT);
    for (int i = X509_NAME_entry_count(name) - 1; i >= 0; i--) {
        X509_NAME_ENTRY *ent = X509_NAME_get_entry(name, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(ent));
        const char *field = nid == NID_pkcs9_emailAddress ? "E" : OBJ_nid2sn(nid);
        unsigned char *utf8 = NULL;
        int ulen = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(ent));
        if (ulen < 0)
            continue;
        ws_buf_addf(&out, "%s%s=%.*s", ws_buf_len(&out) ? ", " : "", field, ulen, utf8);
        OPENSSL_free(utf8);
    }
    return list_take(&out);
}

char *ws_cert_subject(X509 *cert)
{
    return name_string(X509_get_subject_name(cert));
}

char *ws_cert_issuer(X509 *cert)
{
    return name_string(X509_get_issuer_name(cert));
}

/* Appends "item" to a comma-separated list. */
static void list_add(ws_buf *b, const char *item)
{
    ws_buf_addf(b, "%s%s", ws_buf_len(b) ? "," : "", item);
}

char *ws_cert_sans(X509 *cert)
{
    ws_buf out;
    ws_buf_init(&out, WS_BUF_MAX_CERT_TEXT);
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        char item[300];
        if (gn->type == GEN_DNS) {
            snprintf(item, sizeof item, "DNS:%.*s", ASN1_STRING_length(gn->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
        } else if (gn->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN] = "?";
            int l = ASN1_STRING_length(gn->d.iPAddress);
            const unsigned char *d = ASN1_STRING_get0_data(gn->d.iPAddress);
            if (l == 4 || l == 16)
                inet_ntop(l == 4 ? AF_INET : AF_INET6, d, ip, sizeof ip);
            snprintf(item, sizeof item, "IP:%s", ip);
        } else {
            continue;
        }
        list_add(&out, item);
    }
    GENERAL_NAMES_free(names);
    return list_take(&out);
}

char *ws_cert_ekus(X509 *cert)
{
    ws_buf out;
    ws_buf_init(&out, WS_BUF_MAX_CERT_TEXT);
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
        ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);
        char item[128];
        int nid = OBJ_obj2nid(obj);
        if (nid != NID_undef)
            snprintf(item, sizeof item, "%s", OBJ_nid2sn(nid));
        else
            OBJ_obj2txt(item, sizeof item, obj, 1);
        list_add(&out, item);
    }
    EXTENDED_KEY_USAGE_free(eku);
    return list_take(&out);
}

char *ws_cert_key_usage(X509 *cert)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } bits[] = {
        {KU_DIGITAL_SIGNATURE, "digitalSignature"}, {KU_NON_REPUDIATION, "nonRepudiation"},
        {KU_KEY_ENCIPHERMENT, "keyEncipherment"},   {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
        {KU_KEY_AGREEMENT, "keyAgreement"},         {KU_KEY_CERT_SIGN, "keyCertSign"},
        {KU_CRL_SIGN, "cRLSign"},                   {KU_ENCIPHER_ONLY, "encipherOnly"},
        {KU_DECIPHER_ONLY, "decipherOnly"},
    };
    ws_buf out;
    ws_buf_init(&out, WS_BUF_MAX_CERT_TEXT);
    uint32_t ku = X509_get_key_usage(cert);
    if (ku == UINT32_MAX) /* no keyUsage extension */
        return list_take(&out);
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (ku & bits[i].bit)
            list_add(&out, bits[i].name);
    return list_take(&out);
}

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(t, &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

int64_t ws_cert_not_before(X509 *cert)
{
    return asn1_time_unix(X509_get0_notBefore(cert));
}

int64_t ws_cert_not_after(X509 *cert)
{
    return asn1_time_unix(X509_get0_notAfter(cert));
}

int ws_cert_self_signed(X509 *cert)
{
    return X509_self_signed(cert, 0) == 1;
}

int ws_cert_to_der(X509 *cert, unsigned char **der, size_t *len)
{
    *der = NULL;
    int n = i2d_X509(cert, der);
    if (n <= 0)
        return -1;
    *len = (size_t)n;
    return 0;
}

X509 *ws_cert_from_der(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    if (cert && p != der + len) { /* trailing bytes: not one certificate */
        X509_free(cert);
        return NULL;
    }
    ERR_clear_error();
    return cert;
}

int ws_key_to_der(EVP_PKEY *key, unsigned char **der, size_t *len)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
    if (!p8)
        return -1;
    *der = NULL;
    int n = i2d_PKCS8_PRIV_KEY_INFO(p8, der);
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (n <= 0)
        return -1;
    *len = (size_t)n;
    return 0;
}

EVP_PKEY *ws_key_from_der(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
    EVP_PKEY *key = p8 ? EVP_PKCS82PKEY(p8) : NULL;
    PKCS8_PRIV_KEY_INFO_free(p8);
    ERR_clear_error();
    return key;
}

static char *bio_to_string(BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)n + 1);
    if (!out)
        abort();
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    return out;
}

char *ws_cert_to_pem(X509 *cert)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_X509(bio, cert)) {
        BIO_free(bio);
        return NULL;
    }
    return bio_to_string(bio);
}

char *ws_key_to_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(bio);
        return NULL;
    }
    return bio_to_string(bio);
}

int ws_pfx_export(X509 *cert, EVP_PKEY *key, const char *csp, const char *password, unsigned char **der,
                  size_t *len, ws_error *e)
{
    STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
    STACK_OF(PKCS7) *safes = NULL;
    PKCS12 *p12 = NULL;
    unsigned char keyid[EVP_MAX_MD_SIZE];
    unsigned int keyid_len = 0;
    int rc = -1;
    const char *pass = password ? password : "";

    X509_digest(cert, EVP_sha1(), keyid, &keyid_len);
    PKCS12_SAFEBAG *bag = PKCS12_add_cert(&bags, cert);
    if (!bag || (key && !PKCS12_add_localkeyid(bag, keyid, (int)keyid_len)) ||
        !PKCS12_add_safe(&safes, bags, NID_aes_256_cbc, PKCS12_DEFAULT_ITER, pass))
        goto out;
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    bags = NULL;
    if (key) {
        /* The CSP name is an attribute of the key's bag, as Windows writes it. */
        bag = PKCS12_add_key(&bags, key, 0, PKCS12_DEFAULT_ITER, NID_aes_256_cbc, pass);
        if (!bag || !PKCS12_add_localkeyid(bag, keyid, (int)keyid_len) ||
            (csp && !PKCS12_add_CSPName_asc(bag, csp, -1)) || !PKCS12_add_safe(&safes, bags, -1, 0, NULL))
            goto out;
    }
    p12 = PKCS12_add_safes(safes, 0);
    if (!p12 || !PKCS12_set_mac(p12, pass, -1, NULL, 0, PKCS12_DEFAULT_ITER, NULL))
        goto out;
    *der = NULL;
    int n = i2d_PKCS12(p12, der);
    if (n <= 0)
        goto out;
    *len = (size_t)n;
    rc = 0;
out:
    if (rc != 0)
        ws_ssl_error(e, "cannot build the PFX");
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    PKCS12_free(p12);
    return rc;
}

/* The "Microsoft CSP Name" attribute of the PFX's key bag, or NULL. */
static char *pfx_csp(PKCS12 *p12, const char *pass)
{
    char *csp = NULL;
    STACK_OF(PKCS7) *asafes = PKCS12_unpack_authsafes(p12);
    for (int i = 0; !csp && i < sk_PKCS7_num(asafes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(asafes, i);
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        int nid = OBJ_obj2nid(p7->type);
        if (nid == NID_pkcs7_data)
            bags = PKCS12_unpack_p7data(p7);
        else if (nid == NID_pkcs7_encrypted)
            bags = PKCS12_unpack_p7encdata(p7, pass, -1);
        for (int j = 0; !csp && j < sk_PKCS12_SAFEBAG_num(bags); j++) {
            PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, j);
            int bnid = PKCS12_SAFEBAG_get_nid(bag);
            if (bnid != NID_keyBag && bnid != NID_pkcs8ShroudedKeyBag)
                continue;
            const ASN1_TYPE *attr = PKCS12_get_attr_gen(PKCS12_SAFEBAG_get0_attrs(bag), NID_ms_csp_name);
            if (attr && attr->type == V_ASN1_BMPSTRING) {
                unsigned char *utf8 = NULL;
                int n = ASN1_STRING_to_UTF8(&utf8, attr->value.bmpstring);
                if (n >= 0) {
                    csp = malloc((size_t)n + 1);
                    if (!csp)
                        abort();
                    memcpy(csp, utf8, (size_t)n);
                    csp[n] = '\0';
                }
                OPENSSL_free(utf8);
            }
        }
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(asafes, PKCS7_free);
    ERR_clear_error();
    return csp;
}

int ws_cert_read(const unsigned char *data, size_t len, const char *password, X509 **cert, EVP_PKEY **key,
                 char **csp, ws_error *e)
{
    *cert = NULL;
    if (key)
        *key = NULL;
    if (csp)
        *csp = NULL;
    if (len == 0 || len > 1024 * 1024)
        return ws_seterr(e, "not a certificate file (%zu bytes)", len);
    if (len > 10 && memmem(data, len, "-----BEGIN", 10)) {
        BIO *bio = BIO_new_mem_buf(data, (int)len);
        *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!*cert) {
            ERR_clear_error();
            return ws_seterr(e, "PEM file holds no certificate");
        }
        if (key) {
            bio = BIO_new_mem_buf(data, (int)len);
            *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)(password ? password : ""));
            BIO_free(bio);
            ERR_clear_error();
            if (*key && X509_check_private_key(*cert, *key) != 1) {
                EVP_PKEY_free(*key);
                *key = NULL;
                X509_free(*cert);
                *cert = NULL;
                ERR_clear_error();
                return ws_seterr(e, "the PEM file's key does not belong to its certificate");
            }
        }
        return 0;
    }
    *cert = ws_cert_from_der(data, len);
    if (*cert)
        return 0;
    const unsigned char *p = data;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
    if (!p12) {
        ERR_clear_error();
        return ws_seterr(e, "not a certificate: neither PEM, DER nor PFX");
    }
    const char *pass = password ? password : "";
    if (!PKCS12_verify_mac(p12, pass, -1)) {
        PKCS12_free(p12);
        ERR_clear_error();
        return ws_seterr(e, "the PFX's password is wrong (or its MAC is damaged)");
    }
    EVP_PKEY *k = NULL;
    STACK_OF(X509) *ca = NULL;
    int parsed = PKCS12_parse(p12, pass, &k, cert, &ca);
    /* A PFX without a key: OpenSSL puts its certificate among the CA certificates. */
    if (parsed && !*cert && sk_X509_num(ca) > 0)
        *cert = sk_X509_shift(ca);
    if (!parsed || !*cert) {
        PKCS12_free(p12);
        sk_X509_pop_free(ca, X509_free);
        EVP_PKEY_free(k);
        return ws_ssl_error(e, "cannot read the PFX");
    }
    sk_X509_pop_free(ca, X509_free);
    if (csp)
        *csp = pfx_csp(p12, pass);
    PKCS12_free(p12);
    if (key)
        *key = k;
    else
        EVP_PKEY_free(k);
    return 0;
}

int ws_cert_verify_chain(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *roots, int64_t at,
                         ws_error *e)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = -1;
    if (!store || !ctx) {
        ws_ssl_error(e, "out of memory");
        goto out;
    }
    for (int i = 0; i < sk_X509_num(roots); i++)
        X509_STORE_add_cert(store, sk_X509_value(roots, i));
    if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
        ws_ssl_error(e, "cannot build a chain");
        goto out;
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at);
    if (X509_verify_cert(ctx) == 1) {
        rc = 0;
    } else {
        int err = X509_STORE_CTX_get_error(ctx);
        ws_seterr(e, "%s", X509_verify_cert_error_string(err));
    }
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}
