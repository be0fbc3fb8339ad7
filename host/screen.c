/* SPDX-License-Identifier: Apache-2.0 */
/* screen: see screen.h. */
#include "screen.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void put_at(host_screen *s, int row, int col, const char *text)
{
    if (row < 0 || row >= SCREEN_ROWS || col < 0)
        return;
    for (const char *p = text; *p && col < SCREEN_COLS; p++)
        s->cells[row][col++] = *p;
}

static void put(host_screen *s, int row, const char *text)
{
    put_at(s, row, 0, text);
}

/* The sign-in screen's lines are centred. */
static void put_centred(host_screen *s, int row, const char *text)
{
    int len = (int)strlen(text);
    put_at(s, row, len < SCREEN_COLS ? (SCREEN_COLS - len) / 2 : 0, text);
}

void host_screen_init(host_screen *s, const char *vm_name, const char *os)
{
    memset(s, 0, sizeof *s);
    for (int r = 0; r < SCREEN_ROWS; r++) {
        memset(s->cells[r], ' ', SCREEN_COLS);
        s->cells[r][SCREEN_COLS] = '\0';
    }
    s->windows = os && strncasecmp(os, "Windows", 7) == 0;
    char line[128];
    if (s->windows) {
        /* The sign-in screen: white on Windows' dark blue. */
        s->bg[0] = 0x8C, s->bg[1] = 0x3C, s->bg[2] = 0x00;
        s->fg[0] = s->fg[1] = s->fg[2] = 0xFF;
        snprintf(line, sizeof line, "%s", vm_name);
        put_centred(s, 8, line);
        put_centred(s, 9, os);
        put_centred(s, 12, "Press Ctrl+Alt+Delete to sign in.");
        put_at(s, 14, 30, "Password: ");
        s->prompt_row = 14;
        s->prompt_col = 40;
    } else {
        /* tty1: light grey on black. */
        s->fg[0] = s->fg[1] = s->fg[2] = 0xAA;
        snprintf(line, sizeof line, "%s %s tty1", os ? os : "Linux", vm_name);
        put(s, 0, line);
        snprintf(line, sizeof line, "%s login: ", vm_name);
        put(s, 2, line);
        s->prompt_row = 2;
        s->prompt_col = (int)strlen(line);
    }
}

void host_screen_type(host_screen *s, unsigned c)
{
    int start = s->windows ? 40 : (int)(strchr(s->cells[s->prompt_row], ':') - s->cells[s->prompt_row]) + 2;
    if (c == '\b') {
        if (s->prompt_col > start)
            s->cells[s->prompt_row][--s->prompt_col] = ' ';
    } else if (c == '\r' || c == '\n') {
        for (int col = start; col < SCREEN_COLS; col++)
            s->cells[s->prompt_row][col] = ' ';
        s->prompt_col = start;
    } else if (c >= 0x20 && c < 0x7F && s->prompt_col < SCREEN_COLS) {
        /* A password field shows a dot for each character, as Windows does. */
        s->cells[s->prompt_row][s->prompt_col++] = s->windows ? '*' : (char)c;
    }
}

void host_screen_scancode(host_screen *s, uint8_t code, int release, int *shift)
{
    static const char lower[] = "\0\0331234567890-=\b\tqwertyuiop[]\r\0asdfghjkl;'`\0\\zxcvbnm,./";
    static const char upper[] = "\0\033!@#$%^&*()_+\b\tQWERTYUIOP{}\r\0ASDFGHJKL:\"~\0|ZXCVBNM<>?";
    if (code == 0x2A || code == 0x36) {
        *shift = !release;
        return;
    }
    if (release)
        return;
    if (code == 0x39) {
        host_screen_type(s, ' ');
        return;
    }
    if (code < sizeof lower - 1) {
        char c = *shift ? upper[code] : lower[code];
        if (c)
            host_screen_type(s, (unsigned char)c);
    }
}

int host_screen_render(const host_screen *s, const host_font *font, ws_framebuffer *f)
{
    int w = SCREEN_COLS * font->width, h = SCREEN_ROWS * font->height;
    if (!f->bgrx && ws_framebuffer_init(f, w, h) != 0)
        return -1;
    if (f->width != w || f->height != h)
        return -1;
    for (int r = 0; r < SCREEN_ROWS; r++) {
        for (int col = 0; col < SCREEN_COLS; col++) {
            unsigned c = (unsigned char)s->cells[r][col];
            for (int y = 0; y < font->height; y++) {
                uint8_t *px = f->bgrx + (((size_t)(r * font->height + y) * (size_t)w) + (size_t)(col * font->width)) * 4;
                for (int x = 0; x < font->width; x++, px += 4) {
                    const uint8_t *color = host_font_pixel(font, c, x, y) ? s->fg : s->bg;
                    px[0] = color[0];
                    px[1] = color[1];
                    px[2] = color[2];
                    px[3] = 0xFF; /* opaque: FreeRDP 3 honours the alpha byte of 32-bpp bitmaps */
                }
            }
        }
    }
    return 0;
}
