/* CONV_2D with MVE (Helium): NHWC int8 activations, OHWI int8 weights per
 * output channel (zero point 0; the generator folded the input offset into
 * the biases), int32 sums modulo 2^32 (see bench_dot.h).
 *
 * Per output pixel, its window's column of depth = k_h * k_w * in_c values
 * against four output channels at a time: per 16 values one load of the
 * column, one of each channel's weights and one VMLADAVA.S8 per channel
 * (16 multiply-accumulates; BENCH_MVE_DOT4). The last, partial, step loads
 * only the column values that exist (VCTP-predicated, the other lanes 0),
 * once per pixel for all blocks.
 * The four sums are requantized together in vector lanes
 * (bench_mve_requantize) and stored with one predicated VSTRB.32.
 *
 * The generator lays the tables out for this walk (harness/ops/conv_mve.py):
 * the weights per block of four channels (out_c padded with zero channels)
 * and per step of 16 values (the depth padded with zeros), each channel's
 * 16 weights; bias_folded holds per block BLOCK_WORDS words, four vectors:
 * the folded biases, the multipliers, the left shifts and the right shifts
 * (<= 0); multiplier, shift and bias are NULL.
 *
 * A 1x1 layer (never padded) reads its column straight from the input
 * pixel. Any other layer first copies the window into the layer's scratch
 * (im2col, at scratch_offset: depth bytes), with the input's zero point at
 * the taps outside the input, so that the folded bias is right for every
 * pixel. Outputs are written pixel by pixel, each after its own window was
 * read: the portable kernel's overlap rule holds. */
#include "bench_kernels.h"
#include "bench_mve.h"

/* The window of output pixel (oy, ox) into col, k_h * k_w * in_c values; taps outside the input read the
 * input's zero point. */
static void im2col(const bench_conv_params_t *p, const int8_t *in, int oy, int ox, int8_t *col) {
    const int in_c = p->in_c, in_w = p->in_w, in_h = p->in_h, k_w = p->k_w, dw = p->dilation_w;
    const int8_t zero_point = (int8_t)(-p->input_offset);
    const int y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    for (int ky = 0; ky < p->k_h; ++ky, col += k_w * in_c) {
        const int iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in_h) {
            bench_mve_fill(col, zero_point, (uint32_t)(k_w * in_c));
            continue;
        }
        const int8_t *const row = in + iy * in_w * in_c;
        if (dw == 1 && x0 >= 0 && x0 + k_w <= in_w) {  /* the whole filter row inside: one run */
            bench_mve_copy(col, row + x0 * in_c, (uint32_t)(k_w * in_c));
            continue;
        }
        for (int kx = 0; kx < k_w; ++kx) {
            const int ix = x0 + kx * dw;
            if (ix < 0 || ix >= in_w) {
                bench_mve_fill(col + kx * in_c, zero_point, (uint32_t)in_c);
            } else {
                bench_mve_copy(col + kx * in_c, row + ix * in_c, (uint32_t)in_c);
            }
        }
    }
}

/* words per block of four output channels in bias_folded: four vectors of four */
#define BLOCK_WORDS 16u

void bench_kernel_conv_2d_mve(const bench_conv_params_t *p, uint8_t *arena) {
    const int8_t *const in = (const int8_t *)(arena + p->in_offset);
    int8_t *const out = (int8_t *)(arena + p->out_offset);
    int8_t *const col = (int8_t *)(arena + p->scratch_offset);
    const uint32_t in_c = p->in_c, in_w = p->in_w, out_c = p->out_c, out_w = p->out_w;
    const uint32_t depth = (uint32_t)p->k_h * p->k_w * in_c, full = depth / 16u, rest = depth % 16u;
    const int direct = p->k_h == 1 && p->k_w == 1;
    const int32_t offset = p->output_offset;
    const bench_v32_t lo = bench_mve_dup32(p->act_min), hi = bench_mve_dup32(p->act_max);
    for (uint32_t oy = 0; oy < p->out_h; ++oy) {
        for (uint32_t ox = 0; ox < out_w; ++ox) {
            const int8_t *x;
            if (direct) {
                x = in + (oy * p->stride_h * in_w + ox * p->stride_w) * in_c;
            } else {
                im2col(p, in, (int)oy, (int)ox, col);
                x = col;
            }
            int8_t *const y = out + (oy * out_w + ox) * out_c;
            /* the column's last, partial, step: the same for every block of channels */
            const bench_v8_t xt = bench_mve_ld8_n(x + 16u * full, rest);
            const int8_t *w = p->weights;
            const int32_t *rec = p->bias_folded;
            for (uint32_t c = 0; c < out_c; c += 4u, rec += BLOCK_WORDS) {
                uint32_t a0 = (uint32_t)rec[0], a1 = (uint32_t)rec[1], a2 = (uint32_t)rec[2], a3 = (uint32_t)rec[3];
                const int8_t *xi = x;
                BENCH_MVE_DOT4(xi, w, full, a0, a1, a2, a3);
                if (rest != 0) {
                    BENCH_MVE_DOT4_LAST(xt, w, a0, a1, a2, a3);
                }
                const bench_v32_t mult = bench_mve_ld32(rec + 4), left = bench_mve_ld32(rec + 8);
                const bench_v32_t right = bench_mve_ld32(rec + 12);
                const bench_v32_t v = bench_mve_requantize_lr(bench_mve_make32(a0, a1, a2, a3), mult, left, right,
                                                              offset, lo, hi);
                if (c + 4u <= out_c) {
                    bench_mve_st32to8(y + c, v);
                } else {
                    bench_mve_st32to8_n(y + c, v, out_c - c);
                }
            }
        }
    }
}
