/* SPDX-License-Identifier: Apache-2.0 */
/* deploy_files: a deployment's files into memory (deployment.h). A deployment is a
 * customer's folder or archive: untrusted input. Names are checked before anything is
 * read, sizes are bounded (WS_DEPLOY_MAX_*), a folder is walked with O_NOFOLLOW (a
 * link is skipped, never followed, so nothing outside the folder is read). */
#include "lab/deployment.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ws_deploy_files_free(ws_deploy_files *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].data);
    }
    free(f->v);
    ws_strv_free(&f->ignored);
    memset(f, 0, sizeof *f);
}

const ws_deploy_file *ws_deploy_files_get(const ws_deploy_files *f, const char *name)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].name, name) == 0)
            return &f->v[i];
    return NULL;
}

/* An entry's name: relative, no '..' part (the schema's relative_file). "./" prefixes
 * (tar's) are dropped. 0, or -1 with e. */
static int name_ok(const char *name, ws_error *e)
{
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c < 0x20 || *c == 0x7f) /* not quoted: it would break the one-line refusal */
            return ws_seterr(e, "an entry whose name has a control character (\\x%02X): refused", *c);
    if (!name[0] || name[0] == '/' || strlen(name) > 255)
        return ws_seterr(e, "%s: refused: an absolute or empty name (a deployment's names are relative)", name);
    for (const char *p = name; *p;) {
        size_t k = strcspn(p, "/");
        if (k == 2 && p[0] == '.' && p[1] == '.')
            return ws_seterr(e, "%s: refused: a '..' part (a name must stay inside the deployment)", name);
        p += k;
        while (*p == '/')
            p++;
    }
    return 0;
}

/* Take one file: its size already checked against the per-file bound. */
static int add_file(ws_deploy_files *f, const char *name, unsigned char *data, size_t len, ws_error *e)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    if (f->n >= WS_DEPLOY_MAX_FILES) {
        free(data);
        return ws_seterr(e, "%s: refused: more than %d files in the deployment", name, WS_DEPLOY_MAX_FILES);
    }
    if (ws_deploy_files_get(f, name)) { /* tar x would keep the last, we the first: neither is right */
        free(data);
        return ws_seterr(e, "%s: refused: a second entry of that name in the deployment", name);
    }
    if (f->total + len > WS_DEPLOY_MAX_TOTAL_BYTES) {
        free(data);
        return ws_seterr(e, "%s: refused: the deployment's files exceed %d bytes in all", name,
                         WS_DEPLOY_MAX_TOTAL_BYTES);
    }
    ws_deploy_file *v = realloc(f->v, (f->n + 1) * sizeof *v);
    char *copy = strdup(name);
    if (!v || !copy) {
        free(copy);
        free(data);
        if (v)
            f->v = v;
        return ws_seterr(e, "out of memory");
    }
    f->v = v;
    f->v[f->n++] = (ws_deploy_file){.name = copy, .data = data, .len = len};
    f->total += len;
    return 0;
}

/* Every entry counts against WS_DEPLOY_MAX_FILES, a skipped one too (its name is kept in
 * ignored): a million links or folders are refused like a million files. */
static int count_entry(ws_deploy_files *f, const char *name, ws_error *e)
{
    if (++f->entries > WS_DEPLOY_MAX_FILES)
        return ws_seterr(e, "%s: refused: more than %d entries in the deployment", name, WS_DEPLOY_MAX_FILES);
    return 0;
}

static int too_large(const char *name, ws_error *e)
{
    return ws_seterr(e, "%s: refused: larger than %d bytes (a deployment's file)", name, WS_DEPLOY_MAX_FILE_BYTES);
}

/* ---- an archive (.zip, .tar.gz): libarchive, format detected from the content ---- */
static int load_archive(const char *path, ws_deploy_files *f, ws_error *e)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 16384) != ARCHIVE_OK) {
        ws_seterr(e, "%s: not a readable .zip or .tar.gz: %s", path, archive_error_string(a));
        archive_read_free(a);
        return -1;
    }
    struct archive_entry *en;
    int rc = 0, r;
    while (rc == 0 && (r = archive_read_next_header(a, &en)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(en);
        if (!name || name_ok(name, e) != 0 || count_entry(f, name, e) != 0) {
            rc = name ? -1 : ws_seterr(e, "%s: an entry without a name", path);
            break;
        }
        if (archive_entry_filetype(en) != AE_IFREG) {
            if (archive_entry_filetype(en) != AE_IFDIR)
                ws_strv_addf(&f->ignored, "%s: not a regular file", name);
            continue;
        }
        if (archive_entry_size_is_set(en) && archive_entry_size(en) > WS_DEPLOY_MAX_FILE_BYTES) {
            rc = too_large(name, e);
            break;
        }
        unsigned char *data = malloc(WS_DEPLOY_MAX_FILE_BYTES + 2);
        size_t len = 0;
        ssize_t got = 0;
        while (data && (got = archive_read_data(a, data + len, WS_DEPLOY_MAX_FILE_BYTES + 1 - len)) > 0 &&
               len + (size_t)got <= WS_DEPLOY_MAX_FILE_BYTES)
            len += (size_t)got;
        if (!data)
            rc = ws_seterr(e, "out of memory");
        else if (got > 0)
            rc = too_large(name, e);
        else if (got < 0)
            rc = ws_seterr(e, "%s: %s: %s", path, name, archive_error_string(a));
        if (rc != 0) {
            free(data);
            break;
        }
        data[len] = '\0';
        unsigned char *fit = realloc(data, len + 1); /* not the bound's 1 MiB for each entry */
        rc = add_file(f, name, fit ? fit : data, len, e);
    }
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = ws_seterr(e, "%s: a damaged archive: %s", path, archive_error_string(a));
    archive_read_free(a);
    return rc;
}

/* ---- a folder: openat with O_NOFOLLOW from the top, so no link is ever followed ---- */
static int load_dir(int dfd, const char *rel, ws_deploy_files *f, int depth, ws_error *e)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return ws_seterr(e, "%s: %s", rel[0] ? rel : ".", strerror(errno));
    }
    int rc = 0;
    struct dirent *ent;
    while (rc == 0 && (ent = readdir(d))) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        char name[512];
        snprintf(name, sizeof name, "%s%s%s", rel, rel[0] ? "/" : "", ent->d_name);
        if ((rc = name_ok(name, e)) != 0 || (rc = count_entry(f, name, e)) != 0)
            break;
        /* The type first, without following or opening: a device node or a FIFO is never opened. */
        struct stat sb;
        if (fstatat(dirfd(d), ent->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            ws_strv_addf(&f->ignored, "%s: %s", name, strerror(errno));
            continue;
        }
        if (S_ISLNK(sb.st_mode) || (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))) {
            ws_strv_addf(&f->ignored, "%s: %s", name, S_ISLNK(sb.st_mode) ? "a link (not followed)" : "not a regular file");
            continue;
        }
        /* O_NOFOLLOW, and the type checked again on what was opened: it may have been swapped. */
        int fd = openat(dirfd(d), ent->d_name,
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (S_ISDIR(sb.st_mode) ? O_DIRECTORY : 0));
        mode_t was = sb.st_mode & S_IFMT;
        if (fd < 0 || fstat(fd, &sb) != 0 || (sb.st_mode & S_IFMT) != was) {
            ws_strv_addf(&f->ignored, "%s: %s", name,
                         fd < 0 && errno == ELOOP ? "a link (not followed)" : "changed while read (skipped)");
            if (fd >= 0)
                close(fd);
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            rc = depth >= 8 ? (close(fd), ws_seterr(e, "%s: refused: folders nested too deep", name))
                            : load_dir(fd, name, f, depth + 1, e);
            continue;
        }
        if (sb.st_size > WS_DEPLOY_MAX_FILE_BYTES) {
            close(fd);
            rc = too_large(name, e);
            continue;
        }
        unsigned char *data = malloc((size_t)sb.st_size + 1);
        size_t len = 0;
        ssize_t got = 1;
        while (data && len < (size_t)sb.st_size && (got = read(fd, data + len, (size_t)sb.st_size - len)) > 0)
            len += (size_t)got;
        close(fd);
        if (!data || got < 0) {
            free(data);
            rc = ws_seterr(e, "%s: cannot read: %s", name, data ? strerror(errno) : "out of memory");
            continue;
        }
        data[len] = '\0';
        rc = add_file(f, name, data, len, e);
    }
    closedir(d);
    return rc;
}

/* An archive made of a folder ("dep/deployment.json", "dep/certs/...") is that folder:
 * the one top folder holding deployment.json is taken off every name under it. */
static void strip_top_folder(ws_deploy_files *f)
{
    const char *top = NULL;
    size_t k = 0;
    for (size_t i = 0; i < f->n && !top; i++) {
        const char *slash = strchr(f->v[i].name, '/');
        if (slash && strcmp(slash + 1, WS_DEPLOYMENT_JSON) == 0) {
            top = f->v[i].name;
            k = (size_t)(slash - top) + 1;
        }
    }
    if (!top)
        return;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%.*s", (int)k, top);
    for (size_t i = 0; i < f->n; i++)
        if (strncmp(f->v[i].name, prefix, k) == 0)
            memmove(f->v[i].name, f->v[i].name + k, strlen(f->v[i].name + k) + 1);
}

int ws_deploy_files_load(const char *path, ws_deploy_files *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ws_seterr(e, "%s: %s", path, strerror(errno));
    int rc;
    if (S_ISDIR(sb.st_mode)) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = fd < 0 ? ws_seterr(e, "%s: %s", path, strerror(errno)) : load_dir(fd, "", out, 0, e);
    } else if (S_ISREG(sb.st_mode)) {
        rc = load_archive(path, out, e);
    } else {
        rc = ws_seterr(e, "%s: neither a folder nor a .zip or .tar.gz file", path);
    }
    if (rc == 0 && !ws_deploy_files_get(out, WS_DEPLOYMENT_JSON))
        strip_top_folder(out);
    if (rc == 0 && !ws_deploy_files_get(out, WS_DEPLOYMENT_JSON))
        rc = ws_seterr(e, "%s: no %s in it (a deployment is %s plus the certificate files it names)", path,
                       WS_DEPLOYMENT_JSON, WS_DEPLOYMENT_JSON);
    if (rc != 0)
        ws_deploy_files_free(out);
    return rc;
}
