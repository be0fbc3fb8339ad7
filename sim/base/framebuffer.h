/* SPDX-License-Identifier: Apache-2.0 */
/* framebuffer: a console frame as both ends of an RDP session hold it: 32-bit pixels,
 * B,G,R,X in memory order, rows top-down. The host writes each frame it sends to
 * <lab>/console/<vm>.ppm; the client assembles the bitmap updates it receives into
 * one and saves it as a screenshot, so the two can be compared byte for byte. */
#ifndef WAPSIM_FRAMEBUFFER_H
#define WAPSIM_FRAMEBUFFER_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

typedef struct ws_framebuffer {
    int width, height;
    uint8_t *bgrx; /* width * height * 4 bytes */
} ws_framebuffer;

int ws_framebuffer_init(ws_framebuffer *f, int width, int height);
void ws_framebuffer_free(ws_framebuffer *f);
/* Binary PPM (P6, maxval 255), written atomically. */
int ws_framebuffer_write_ppm(const ws_framebuffer *f, const char *path, ws_error *e);
/* Read a P6 PPM (as ws_framebuffer_write_ppm writes it, or netpbm tools do). */
int ws_framebuffer_read_ppm(const char *path, ws_framebuffer *f, ws_error *e);
/* 1 when both have the same size and the same pixels (X bytes ignored). */
int ws_framebuffer_equal(const ws_framebuffer *a, const ws_framebuffer *b);

#endif
