/* SPDX-License-Identifier: Apache-2.0 */
/* screen: what a VM's console shows, as text: 80 x 25 cells drawn in the console font.
 * A Windows VM shows its sign-in screen, a Linux VM its tty1 banner and login prompt;
 * typed keys appear on the prompt line. */
#ifndef WAPSIM_HOST_SCREEN_H
#define WAPSIM_HOST_SCREEN_H

#include <stdint.h>

#include "font.h"
#include "base/framebuffer.h"

#define SCREEN_COLS 80
#define SCREEN_ROWS 25

typedef struct host_screen {
    char cells[SCREEN_ROWS][SCREEN_COLS + 1];
    int prompt_row, prompt_col; /* where typed characters go */
    int windows;
    uint8_t fg[3], bg[3]; /* B, G, R */
} host_screen;

void host_screen_init(host_screen *s, const char *vm_name, const char *os);
/* A typed character (Unicode code point): printable ones appear; backspace removes one;
 * enter starts the prompt again. */
void host_screen_type(host_screen *s, unsigned codepoint);
/* A keyboard scancode (set 1) with its release flag, through a US layout. */
void host_screen_scancode(host_screen *s, uint8_t code, int release, int *shift);
/* Draw into a frame of cols * font width by rows * font height pixels. */
int host_screen_render(const host_screen *s, const host_font *font, ws_framebuffer *f);

#endif
