/* DEPTHWISE_CONV_2D with MVE (Helium), depth multiplier 1: NHWC int8
 * activations, int8 weights per channel (zero point 0; the generator folded
 * the input offset into the biases), int32 sums modulo 2^32 (see
 * bench_dot.h).
 *
 * Eight channels at a time: per tap one VLDRB.S16 of eight input bytes and
 * one of eight weights, widened to int16, then VMULLB and VMULLT give the
 * int32 products of the even and the odd channels, added to two vectors of
 * sums. A window inside the input is read in place; a window cut by the
 * padding is first copied into the layer's scratch (k_h * k_w * in_c bytes),
 * the input's zero point at the taps outside the input, so that the folded
 * bias is right for every pixel and one loop serves both. The sums are
 * requantized in vector lanes (bench_mve_requantize_lr) and stored to every
 * other byte (VSTRB.32 scatter).
 *
 * The generator lays the tables out for this walk (harness/ops/
 * depthwise_mve.py): the weights per group of eight channels and per tap,
 * the eight channels' weights; bias_folded holds per group GROUP_WORDS words
 * (multiplier, shift and bias are NULL). It takes in_c a multiple of eight.
 * Outputs are written pixel by pixel, each after its own window was read:
 * the portable kernel's overlap rule holds. */
#include "bench_kernels.h"
#include "bench_mve.h"

/* The window at (y0, x0), cut by the padding, into col as k_h rows of k_w taps of `channels` bytes; taps
 * outside the input read the input's zero point. */
static void window(const bench_conv_params_t *p, const int8_t *in, int y0, int x0, int8_t *col) {
    const uint32_t channels = p->in_c;
    const int8_t zero_point = (int8_t)(-p->input_offset);
    for (int ky = 0; ky < p->k_h; ++ky) {
        const int iy = y0 + ky * p->dilation_h;
        for (int kx = 0; kx < p->k_w; ++kx, col += channels) {
            const int ix = x0 + kx * p->dilation_w;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                bench_mve_fill(col, zero_point, channels);
            } else {
                bench_mve_copy(col, in + ((uint32_t)iy * p->in_w + (uint32_t)ix) * channels, channels);
            }
        }
    }
}

/* words per group of eight channels in bias_folded: eight vectors of four, each for the even channels
 * (0, 2, 4, 6) then the odd ones: folded biases, multipliers, left shifts, right shifts (<= 0) */
#define GROUP_WORDS 32u

/* Output pixel y from the window whose first tap is at x, taps tap_stride bytes apart in a row and rows
 * row_stride bytes apart. */
static void pixel(const bench_conv_params_t *p, const int8_t *x, uint32_t tap_stride, uint32_t row_stride,
                  int8_t *y, bench_v32_t lo, bench_v32_t hi) {
    const uint32_t channels = p->in_c, k_h = p->k_h, k_w = p->k_w;
    const int8_t *w = p->weights;
    const int32_t *rec = p->bias_folded;
    const int32_t offset = p->output_offset;
    for (uint32_t c = 0; c < channels; c += 8u, rec += GROUP_WORDS) {
        const int8_t *row = x + c;
        bench_v32_t even = bench_mve_ld32(rec), odd = bench_mve_ld32(rec + 4);
        for (uint32_t ky = k_h; ky > 0; --ky, row += row_stride) {
            const int8_t *xi = row;
            for (uint32_t kx = k_w; kx > 0; --kx, xi += tap_stride, w += 8) {
                const bench_v16_t xv = bench_mve_ld8to16(xi), wv = bench_mve_ld8to16(w);
                even = bench_mve_addv32(even, bench_mve_mull_even16(xv, wv));
                odd = bench_mve_addv32(odd, bench_mve_mull_odd16(xv, wv));
            }
        }
        even = bench_mve_requantize_lr(even, bench_mve_ld32(rec + 8), bench_mve_ld32(rec + 16),
                                       bench_mve_ld32(rec + 24), offset, lo, hi);
        odd = bench_mve_requantize_lr(odd, bench_mve_ld32(rec + 12), bench_mve_ld32(rec + 20),
                                      bench_mve_ld32(rec + 28), offset, lo, hi);
        bench_mve_st32to8_stride2(y + c, even);
        bench_mve_st32to8_stride2(y + c + 1, odd);
    }
}

void bench_kernel_depthwise_conv_2d_mve(const bench_conv_params_t *p, uint8_t *arena) {
    const int8_t *const in = (const int8_t *)(arena + p->in_offset);
    int8_t *const out = (int8_t *)(arena + p->out_offset);
    int8_t *const col = (int8_t *)(arena + p->scratch_offset);
    const bench_v32_t lo = bench_mve_dup32(p->act_min), hi = bench_mve_dup32(p->act_max);
    const int in_h = p->in_h, in_w = p->in_w, k_h = p->k_h, k_w = p->k_w, dh = p->dilation_h, dw = p->dilation_w;
    const uint32_t out_w = p->out_w, channels = p->out_c;
    const uint32_t tap_stride = (uint32_t)dw * channels, row_stride = (uint32_t)dh * (uint32_t)in_w * channels;
    for (uint32_t oy = 0; oy < p->out_h; ++oy) {
        const int y0 = (int)oy * p->stride_h - p->pad_h;
        for (uint32_t ox = 0; ox < out_w; ++ox) {
            const int x0 = (int)ox * p->stride_w - p->pad_w;
            int8_t *const y = out + (oy * out_w + ox) * channels;
            if (y0 >= 0 && x0 >= 0 && y0 + (k_h - 1) * dh < in_h && x0 + (k_w - 1) * dw < in_w) {
                pixel(p, in + ((uint32_t)y0 * (uint32_t)in_w + (uint32_t)x0) * channels, tap_stride, row_stride, y,
                      lo, hi);
            } else {
                window(p, in, y0, x0, col);
                pixel(p, col, channels, (uint32_t)k_w * channels, y, lo, hi);
            }
        }
    }
}
