/* SPDX-License-Identifier: Apache-2.0 */
/* planar: the RDP 6.0 Planar bitmap codec (MS-RDPEGDI 2.2.2.5.1 RDP6_BITMAP_STREAM, 2.2.2.5.1.1
 * RDP6_RLE_PLANE, 2.2.2.5.1.3 RDP6_RLE_SEGMENT; 3.1.9.2 compressing), as the data of a compressed
 * 32-bpp TS_BITMAP_DATA (MS-RDPBCGR 2.2.9.1.1.3.1.2.2, flags BITMAP_COMPRESSION): FreeRDP 2.11 and 3
 * decode every compressed bitmap of 32 bpp with it (gdi_Bitmap_Decompress: below 32 bpp Interleaved
 * RLE, else Planar, bottom-up rows). Bytes only: the caller frees nothing.
 *
 * Layout (all byte-aligned):
 *   FormatHeader   1 byte: bits 0-2 CLL (color loss level; 0 = RGB planes), bit 3 CS (chroma
 *                  subsampling), bit 4 RLE, bit 5 NA (no alpha plane), bits 6-7 reserved
 *   AlphaPlane     absent when NA; then LumaOrRedPlane, OrangeChromaOrGreenPlane,
 *                  GreenChromaOrBluePlane: each width x height bytes raw, or with RLE one
 *                  RDP6_RLE_PLANE, a run of RDP6_RLE_SEGMENTs per scanline
 *   Pad            1 optional byte after raw planes
 * An RDP6_RLE_SEGMENT is a controlByte (low nibble nRunLength, high nibble cRawBytes; nRunLength 1
 * means a run of cRawBytes + 16 and no raw bytes, 2 a run of cRawBytes + 32), cRawBytes raw values,
 * then nRunLength copies of the last value (0 at the start of a scanline). The first scanline holds
 * values; every later one holds deltas to the scanline before it, each byte (d << 1) for d >= 0 and
 * ((-d) << 1) - 1 for d < 0, d taken modulo 256 (3.1.9.2.3).
 *
 * Pixels on both sides are the bytes an uncompressed 32-bpp TS_BITMAP_DATA carries: rows bottom-up
 * as the stream's scanlines, 4 bytes per pixel B, G, R, A. */
#ifndef WAPSIM_WIRE_PLANAR_H
#define WAPSIM_WIRE_PLANAR_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define WS_PLANAR_CLL_MASK 0x07
#define WS_PLANAR_CS 0x08
#define WS_PLANAR_RLE 0x10
#define WS_PLANAR_NA 0x20
#define WS_PLANAR_DIM_MAX 4096 /* width or height the decoder accepts (WS_PDU_BITMAP_DIM_MAX) */

/* Bytes ws_planar_encode may need for a w x h bitmap: the FormatHeader, then per plane and
 * scanline at most w values and one control byte per value [a loose bound: runs cost less]. */
#define WS_PLANAR_MAX_SIZE(w, h) (1 + 4 * (size_t)(h) * (2 * (size_t)(w) + 2))

/* RLE-encode the w x h bitmap at bits (w * h * 4 bytes, rows bottom-up, B G R A) into out: all four
 * planes (alpha too, so a client that did not announce DRAW_ALLOW_SKIP_ALPHA reads it), CLL 0,
 * no subsampling. Returns the stream's length, or 0 when it would pass cap or w or h is 0. */
size_t ws_planar_encode(const uint8_t *bits, unsigned w, unsigned h, uint8_t *out, size_t cap);

/* Decode the stream p (len bytes) of a w x h bitmap into out (cap >= w * h * 4 bytes, same layout as
 * the encoder's input; with NA the alpha bytes are 0xFF). Raw and RLE planes, with or without alpha.
 * Refuses (e names the plane, scanline and offset) a CLL or CS other than 0 (YCoCg, which the lab
 * never announces), a truncated plane, a segment that runs past its scanline or covers no pixel,
 * and more than a Pad byte after the planes. 0, or -1. */
int ws_planar_decode(const uint8_t *p, size_t len, unsigned w, unsigned h, uint8_t *out, size_t cap,
                     ws_error *e);

#endif
