/* SPDX-License-Identifier: Apache-2.0 */
/* subnet: see subnet.h. */
#include "train/subnet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/lab.h"

#define SUBNET_FIRST 160        /* 127.160.0.0 */
#define SUBNET_COUNT (32 * 256) /* to 127.191.255.0 */
#define SUBNET_TRIES 512

/* Unlink before unlocking: a process that opened the old file finds, after its flock,
 * that the path is gone or another file (the inode check in ws_subnet_lock_take). */
void ws_subnet_lock_release(ws_subnet_lock *l)
{
    if (l->fd < 0)
        return;
    if (l->path[0])
        unlink(l->path);
    l->path[0] = '\0';
    close(l->fd);
    l->fd = -1;
}

int ws_subnet_lock_take(unsigned base, int index, ws_subnet_lock *l)
{
    l->fd = -1;
    l->path[0] = '\0';
    char dir[4200];
    snprintf(dir, sizeof dir, "/tmp/wapsim-subnets-%ld", (long)getuid());
    int have_dir = mkdir(dir, 0700) == 0 || errno == EEXIST;
    for (unsigned k = 0; k < SUBNET_TRIES; k++) {
        unsigned v = (base + (unsigned)index + k * 997u) % SUBNET_COUNT;
        snprintf(l->subnet, sizeof l->subnet, "127.%u.%u.0/24", SUBNET_FIRST + v / 256, v % 256);
        int fd = -1;
        if (have_dir) {
            snprintf(l->path, sizeof l->path, "%s/127.%u.%u.lock", dir, SUBNET_FIRST + v / 256, v % 256);
            fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            struct stat by_fd, by_path;
            if (fd >= 0 &&
                (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &by_fd) != 0 || stat(l->path, &by_path) != 0 ||
                 by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev)) {
                close(fd); /* taken, or released and unlinked meanwhile */
                l->path[0] = '\0';
                continue;
            }
            if (fd < 0)
                l->path[0] = '\0';
        }
        l->fd = fd;
        if (ws_subnet_in_use(l->subnet)) {
            ws_subnet_lock_release(l);
            continue;
        }
        return 0;
    }
    return -1;
}
