/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/lab/deploy_read.c and deploy_files.c: a deployment's JSON checked
 * the schema's way with the JSON path in every refusal, certificates read as DER or PEM
 * once per thumbprint, vault names from file stems, and a folder read without
 * following links. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#include "crypto/cert.h"
#include "lab/deployment.h"

static X509 *test_cert;
static unsigned char *test_der;
static size_t test_der_len;
static char test_tp[41];

static int group_setup(void **state)
{
    (void)state;
    ws_cert_spec spec = {.subject = "CN=Remote Console Connect", .eku = "clientAuth", .key_usage = "digitalSignature",
                         .not_before = 1700000000, .not_after = 1800000000};
    EVP_PKEY *key = NULL;
    ws_error e;
    if (ws_cert_create(&spec, NULL, NULL, &test_cert, &key, &e) != 0 ||
        ws_cert_to_der(test_cert, &test_der, &test_der_len) != 0)
        return -1;
    EVP_PKEY_free(key);
    ws_cert_thumbprint(test_cert, test_tp);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(test_cert);
    free(test_der);
    return 0;
}

/* A deployment in memory: deployment.json and the files named (name, data, len)... */
typedef struct mem {
    ws_deploy_files f;
} mem;

static void add(ws_deploy_files *f, const char *name, const void *data, size_t len)
{
    f->v = realloc(f->v, (f->n + 1) * sizeof *f->v);
    unsigned char *copy = malloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0';
    f->v[f->n++] = (ws_deploy_file){.name = strdup(name), .data = copy, .len = len};
}

/* Read json (with certs/vmm.cer the test certificate, DER, and certs/vmm.pem, PEM). */
static int read_json(const char *json, ws_deployment *d, ws_error *e)
{
    ws_deploy_files f;
    memset(&f, 0, sizeof f);
    add(&f, WS_DEPLOYMENT_JSON, json, strlen(json));
    add(&f, "certs/vmm.cer", test_der, test_der_len);
    char *pem = ws_cert_to_pem(test_cert);
    add(&f, "certs/vmm copy.pem", pem, strlen(pem));
    free(pem);
    add(&f, "certs/junk.cer", "junk", 4);
    add(&f, "certs/a,b:c\\d é.cer", test_der, test_der_len);
    int rc = ws_deploy_read(&f, d, e);
    ws_deploy_files_free(&f);
    return rc;
}

#define HEAD "{\"format\":\"wapsim-deployment\",\"version\":1,\"machines\":["

static void refused(const char *json, const char *want)
{
    ws_deployment d;
    ws_error e = {""};
    assert_int_equal(read_json(json, &d, &e), -1);
    assert_contains(e.msg, want);
}

static void test_valid_reads_certificates_once(void **state)
{
    (void)state;
    char json[2048];
    snprintf(json, sizeof json,
             HEAD "{\"name\":\"vmm01\",\"role\":\"vmm\",\"stores\":{\"My\":[{\"file\":\"certs/vmm.cer\","
                  "\"thumbprint\":\"%s\",\"private_key\":{\"provider\":\"Microsoft Enhanced RSA and AES Cryptographic "
                  "Provider\"}}]},\"vmm\":{\"gateway_certificate\":\"%s\"}},"
                  "{\"name\":\"hv01\",\"role\":\"host\",\"stores\":{\"Root\":[{\"file\":\"certs/vmm copy.pem\"}]},"
                  "\"trusted_issuers\":[\"%s\"],\"vms\":[{\"name\":\"web01\"}]},{\"name\":\"gw01\",\"role\":\"gateway\"}],"
                  "\"collected_at\":\"2024-01-02T03:04:05Z\"}",
             test_tp, test_tp, test_tp);
    ws_deployment d;
    ws_error e = {""};
    assert_int_equal(read_json(json, &d, &e), 0);
    assert_int_equal(d.n_certs, 1); /* DER and PEM of one certificate: one */
    assert_string_equal(d.certs[0].name, "vmm");
    assert_string_equal(d.certs[0].thumbprint, test_tp);
    assert_string_equal(d.certs[0].csp, "Microsoft Enhanced RSA and AES Cryptographic Provider");
    assert_int_equal(d.certs[0].files.n, 2);
    assert_int_equal(d.collected_at, 1704164645);
    char lower[41];
    for (int i = 0; i < 41; i++)
        lower[i] = (char)(test_tp[i] >= 'A' && test_tp[i] <= 'F' ? test_tp[i] + 32 : test_tp[i]);
    assert_non_null(ws_deploy_cert_by_thumbprint(&d, lower));
    assert_null(ws_deploy_cert_by_thumbprint(&d, "0123456789012345678901234567890123456789"));
    ws_deployment_free(&d);
}

/* A vault name from a stem holds only [A-Za-z0-9._-]: every other character becomes '-'. */
static void test_stem_names_are_vault_names(void **state)
{
    (void)state;
    char json[1024];
    snprintf(json, sizeof json,
             HEAD "{\"name\":\"vmm01\",\"role\":\"vmm\",\"stores\":{\"My\":[{\"file\":\"certs/a,b:c\\\\d \u00e9.cer\"}]}},"
                  "{\"name\":\"gw01\",\"role\":\"gateway\"}]}");
    ws_deployment d;
    ws_error e = {""};
    assert_int_equal(read_json(json, &d, &e), 0);
    assert_int_equal(d.n_certs, 1);
    assert_string_equal(d.certs[0].name, "a-b-c-d---");
    ws_deployment_free(&d);
}

static void test_refusals_name_the_path(void **state)
{
    (void)state;
    refused("{\"format\":", "deployment.json: not JSON (line 1");
    refused("{\"format\":\"wapsim-deployment\",\"version\":2,\"machines\":[]}", "deployment.json: version: must be 1");
    refused("{\"format\":\"wapsim-deployment\",\"version\":1,\"machines\":[]}", "deployment.json: machines: required");
    refused(HEAD "{\"name\":\"vmm01\",\"role\":\"vmm\",\"colour\":1}]}", "deployment.json: machines[0].colour: unknown key");
    refused(HEAD "{\"name\":\"vmm01\",\"role\":\"wizard\"}]}", "machines[0].role: 'wizard' is not one of portal");
    refused(HEAD "{\"name\":\"12345\",\"role\":\"vmm\"}]}", "machines[0]: name '12345' is not a computer name");
    refused(HEAD "{\"name\":\"gw\",\"role\":\"gateway\",\"trusted_issuers\":[\"8F3A\"]}]}",
            "deployment.json: machines[0] (gw).trusted_issuers[0]: '8F3A' is not a thumbprint (40 hexadecimal digits)");
    refused(HEAD "{\"name\":\"gw\",\"role\":\"gateway\",\"vms\":[]}]}",
            "machines[0] (gw).vms: only a host has it (this machine's role is gateway)");
    refused(HEAD "{\"name\":\"gw\",\"role\":\"gateway\",\"stores\":{\"My\":[{\"file\":\"certs/junk.cer\"}]}}]}",
            "deployment.json: machines[0] (gw).stores.My[0].file certs/junk.cer: not a certificate (DER or PEM)");
    refused(HEAD "{\"name\":\"gw\",\"role\":\"gateway\",\"stores\":{\"My\":[{\"file\":\"certs/none.cer\"}]}}]}",
            "machines[0] (gw).stores.My[0].file: certs/none.cer: not in the deployment");
    refused(HEAD "{\"name\":\"gw\",\"role\":\"gateway\",\"stores\":{\"My\":[{\"file\":\"certs/vmm.cer\","
                 "\"private_key\":{\"provider\":\"Acme CSP\"}}]}}]}",
            "machines[0] (gw).stores.My[0].private_key: provider 'Acme CSP' is not a provider Windows has");
    refused(HEAD "{\"name\":\"hv01\",\"role\":\"host\"},{\"name\":\"HV01\",\"role\":\"host\"}]}",
            "machines[1] (HV01): a second machine named HV01 (the first is machines[0])");
    refused(HEAD "{\"name\":\"hv01\",\"role\":\"host\",\"vms\":[{\"name\":\"a\"},{\"name\":\"a\"}]}]}",
            "machines[0] (hv01).vms[1] (a): a second VM named a");
    refused(HEAD "{\"name\":\"lb\",\"role\":\"balancer\",\"balancer\":{\"members\":[\"hv01\"]}},"
                 "{\"name\":\"hv01\",\"role\":\"host\"}]}",
            "machines[0] (lb).balancer.members[0]: 'hv01' is not a gateway (its role is host)");
    refused("{\"format\":\"wapsim-deployment\",\"version\":1,\"tenants\":[{\"name\":\"alice\"}],\"machines\":["
            "{\"name\":\"hv01\",\"role\":\"host\",\"vms\":[{\"name\":\"a\",\"tenant\":\"bob\"}]}]}",
            "machines[0] (hv01).vms[0] (a): tenant 'bob' is not in tenants");
    refused(HEAD "{\"name\":\"hv01\",\"role\":\"host\",\"vms\":[{\"name\":\"a\",\"tenant\":5}]}]}",
            "machines[0] (hv01).vms[0] (a).tenant: not a string of 1 to 127 characters");
    refused(HEAD "{\"name\":\"hv01\",\"role\":\"host\",\"vms\":[{\"name\":\"a\",\"tenant\":\"\"}]}]}",
            "machines[0] (hv01).vms[0] (a).tenant: not a string of 1 to 127 characters");
    refused(HEAD "{\"name\":\"hv01\",\"role\":\"host\",\"vms\":[{\"name\":\"a\",\"subscription\":[]}]}]}",
            "machines[0] (hv01).vms[0] (a).subscription: not a string of 1 to 128 characters");
    /* VMM and a gateway: required, refused at read (before anything is made). */
    refused(HEAD "{\"name\":\"vmm01\",\"role\":\"vmm\"}]}",
            "deployment.json: machines: no machine of role gateway: Console Connect needs an RD Gateway");
    /* Control characters: escaped in the refusal (one line, no escape sequence), refused in strings. */
    refused(HEAD "{\"name\":\"vmm01\",\"role\":\"vmm\",\"col\\u001b[2J\\nour\":1}]}",
            "deployment.json: machines[0].col\\x1B[2J\\x0Aour: unknown key");
    refused(HEAD "{\"name\":\"hv01\",\"role\":\"host\",\"vms\":[{\"name\":\"a\",\"os\":\"Win\\r\\ndows\"}]}]}",
            "machines[0] (hv01).vms[0].os: 'Win\\x0D\\x0Adows': a control character in it");
    refused(HEAD "{\"name\":\"hv01\",\"role\":\"host\",\"address\":\"10.0.0.300\"}]}",
            "machines[0] (hv01): address '10.0.0.300' is not an IPv4 address");
    refused("{\"format\":\"wapsim-deployment\",\"version\":1,\"collected_at\":\"yesterday\",\"machines\":["
            "{\"name\":\"hv01\",\"role\":\"host\"}]}",
            "deployment.json: collected_at: 'yesterday' is not a UTC time");
}

/* A folder: a link is never followed (ignored with its reason), a nested folder is read. */
static void test_folder_skips_links(void **state)
{
    (void)state;
    char dir[] = "/tmp/wapsim-test-deploy-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/certs", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/" WS_DEPLOYMENT_JSON, dir);
    ws_error e;
    assert_int_equal(ws_write_file(path, "{}", 2, 0600, &e), 0);
    snprintf(path, sizeof path, "%s/certs/a.cer", dir);
    assert_int_equal(ws_write_file(path, "x", 1, 0600, &e), 0);
    snprintf(path, sizeof path, "%s/certs/passwd.cer", dir);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    ws_deploy_files f;
    assert_int_equal(ws_deploy_files_load(dir, &f, &e), 0);
    assert_int_equal(f.n, 2);
    assert_non_null(ws_deploy_files_get(&f, "certs/a.cer"));
    assert_null(ws_deploy_files_get(&f, "certs/passwd.cer"));
    assert_int_equal(f.ignored.n, 1);
    assert_contains(f.ignored.v[0], "certs/passwd.cer: a link (not followed)");
    ws_deploy_files_free(&f);
    /* Without deployment.json: refused. */
    snprintf(path, sizeof path, "%s/" WS_DEPLOYMENT_JSON, dir);
    unlink(path);
    assert_int_equal(ws_deploy_files_load(dir, &f, &e), -1);
    assert_contains(e.msg, "no deployment.json in it");
    ws_test_rm_rf(dir);
}

/* A .tar.gz of deployment.json and N tiny files certs/fNNN.cer (and extra, when not NULL: a
 * second entry of that name). */
static void make_tar(const char *path, int n, const char *extra)
{
    struct archive *a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = -1; i < n + (extra ? 1 : 0); i++) {
        char name[64];
        if (i < 0)
            snprintf(name, sizeof name, "%s", WS_DEPLOYMENT_JSON);
        else if (i >= n)
            snprintf(name, sizeof name, "%s", extra);
        else
            snprintf(name, sizeof name, "certs/f%03d.cer", i);
        struct archive_entry *en = archive_entry_new();
        archive_entry_set_pathname(en, name);
        archive_entry_set_size(en, 2);
        archive_entry_set_filetype(en, AE_IFREG);
        archive_entry_set_perm(en, 0644);
        assert_int_equal(archive_write_header(a, en), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, "{}", 2), 2);
        archive_entry_free(en);
    }
    archive_write_close(a);
    archive_write_free(a);
}

/* Many tiny archive entries take about their size, not the per-file bound each (1 MiB:
 * 300 tiny entries would hold 300 MiB): each buffer's usable size is asked of the
 * allocator (glibc's and ASan's both answer malloc_usable_size). */
static void test_archive_entries_take_their_size(void **state)
{
    (void)state;
    char path[] = "/tmp/wapsim-test-deploy-XXXXXX.tar.gz";
    int fd = mkstemps(path, 7);
    assert_true(fd >= 0);
    close(fd);
    make_tar(path, 300, NULL);
    ws_deploy_files f;
    ws_error e = {""};
    int rc = ws_deploy_files_load(path, &f, &e);
    unlink(path);
    if (rc != 0)
        fail_msg("load: %s", e.msg);
    assert_int_equal(f.n, 301);
    size_t biggest = 0;
    for (size_t i = 0; i < f.n; i++)
        if (malloc_usable_size(f.v[i].data) > biggest)
            biggest = malloc_usable_size(f.v[i].data);
    ws_deploy_files_free(&f);
    if (biggest > 65536)
        fail_msg("an entry's buffer holds %zu bytes", biggest);
}

/* An archive naming one file twice ("certs/a.cer" and "./certs/a.cer"): refused. */
static void test_archive_duplicate_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/wapsim-test-deploy-XXXXXX.tar.gz";
    int fd = mkstemps(path, 7);
    assert_true(fd >= 0);
    close(fd);
    make_tar(path, 3, "./certs/f001.cer");
    ws_deploy_files f;
    ws_error e = {""};
    assert_int_equal(ws_deploy_files_load(path, &f, &e), -1);
    assert_contains(e.msg, "certs/f001.cer: refused: a second entry of that name");
    unlink(path);
}

/* Entries that are not files (here links) count against WS_DEPLOY_MAX_FILES too. */
static void test_every_entry_counted(void **state)
{
    (void)state;
    char dir[] = "/tmp/wapsim-test-deploy-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    ws_error e = {""};
    snprintf(path, sizeof path, "%s/" WS_DEPLOYMENT_JSON, dir);
    assert_int_equal(ws_write_file(path, "{}", 2, 0600, &e), 0);
    for (int i = 0; i < WS_DEPLOY_MAX_FILES + 5; i++) {
        snprintf(path, sizeof path, "%s/l%04d", dir, i);
        assert_int_equal(symlink("/etc/passwd", path), 0);
    }
    ws_deploy_files f;
    assert_int_equal(ws_deploy_files_load(dir, &f, &e), -1);
    assert_contains(e.msg, "refused: more than 1024 entries");
    ws_test_rm_rf(dir);
    /* A name with a control character: refused without quoting it. */
    assert_non_null(mkdtemp(strcpy(dir, "/tmp/wapsim-test-deploy-XXXXXX")));
    snprintf(path, sizeof path, "%s/" WS_DEPLOYMENT_JSON, dir);
    assert_int_equal(ws_write_file(path, "{}", 2, 0600, &e), 0);
    snprintf(path, sizeof path, "%s/a\033[2J.cer", dir);
    assert_int_equal(ws_write_file(path, "x", 1, 0600, &e), 0);
    assert_int_equal(ws_deploy_files_load(dir, &f, &e), -1);
    assert_contains(e.msg, "a control character (\\x1B)");
    assert_null(strchr(e.msg, '\033'));
    ws_test_rm_rf(dir);
}

/* A FIFO in the folder is skipped without being opened: a writer blocked in open() on it
 * stays blocked (opening it for reading would release the writer). */
static void test_folder_special_not_opened(void **state)
{
    (void)state;
    char dir[] = "/tmp/wapsim-test-deploy-XXXXXX", path[256], fifo[256];
    assert_non_null(mkdtemp(dir));
    ws_error e = {""};
    snprintf(path, sizeof path, "%s/" WS_DEPLOYMENT_JSON, dir);
    assert_int_equal(ws_write_file(path, "{}", 2, 0600, &e), 0);
    snprintf(fifo, sizeof fifo, "%s/pipe.cer", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(fifo, O_WRONLY); /* blocks until a reader opens it */
        _exit(fd >= 0 ? 0 : 1);
    }
    usleep(200000);
    ws_deploy_files f;
    assert_int_equal(ws_deploy_files_load(dir, &f, &e), 0);
    assert_int_equal(f.ignored.n, 1);
    assert_contains(f.ignored.v[0], "pipe.cer: not a regular file");
    ws_deploy_files_free(&f);
    usleep(200000);
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    ws_test_rm_rf(dir);
    assert_int_equal(done, 0); /* the writer was still waiting: the FIFO was never opened */
}

/* Paths come out whole, the names after them. */
static void test_path_tidy(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"deployment.json: machines[2] (hvx).vms[0] (vm1).tenant: not a string",
         "deployment.json: machines[2].vms[0].tenant (hvx, vm1): not a string"},
        {"deployment.json: machines[5] (hv02).vms[1] (app01): tenant 'mallory' is not in tenants",
         "deployment.json: machines[5].vms[1] (hv02, app01): tenant 'mallory' is not in tenants"},
        {"deployment.json: machines[3] (rdgw01).trusted_issuers[0]: '8F3A' is not a thumbprint",
         "deployment.json: machines[3].trusted_issuers[0] (rdgw01): '8F3A' is not a thumbprint"},
        {"deployment.json: machines[0] (gw).stores.My[0].file certs/junk.cer: not a certificate",
         "deployment.json: machines[0].stores.My[0].file (gw) certs/junk.cer: not a certificate"},
        {"deployment.json: machines[6] (HV01): a second machine named HV01 (the first is machines[0])",
         "deployment.json: machines[6] (HV01): a second machine named HV01 (the first is machines[0])"},
        {"deployment.json: machines: no machine of role vmm", "deployment.json: machines: no machine of role vmm"},
        {"machines[5] (hv02).rdp_certificate\t0123", "machines[5].rdp_certificate (hv02)\t0123"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[300];
        snprintf(buf, sizeof buf, "%s", cases[i][0]);
        ws_deploy_path_tidy(buf);
        assert_string_equal(buf, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_reads_certificates_once),
        cmocka_unit_test(test_refusals_name_the_path),
        cmocka_unit_test(test_stem_names_are_vault_names),
        cmocka_unit_test(test_path_tidy),
        cmocka_unit_test(test_folder_skips_links),
        cmocka_unit_test(test_archive_entries_take_their_size),
        cmocka_unit_test(test_archive_duplicate_refused),
        cmocka_unit_test(test_every_entry_counted),
        cmocka_unit_test(test_folder_special_not_opened),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
