/* CONV_2D with the DSP extension: NHWC int8 activations, OHWI int8 weights
 * per output channel (zero point 0; the generator folded the input offset
 * into bias_folded), int32 sums modulo 2^32 (see bench_dot.h).
 *
 * A matrix multiply of output pixels by output channels, two by two. For each
 * pair of pixels the two columns (a window's depth = k_h * k_w * in_c values,
 * padded with zeros to a multiple of four) are widened once into the scratch
 * as halfword pairs, per four values (v0, v2) then (v1, v3) as SXTB16 gives
 * them; each pair of output channels then takes four weights of each channel
 * per step, splits them the same way and does eight SMLADs, 16 MACs.
 *
 * A 1x1 layer with in_c a multiple of four widens its input pixels in place
 * ("direct"; the generator's scratch size tests the same, harness/ops/
 * conv_dsp.py). Any other layer copies each window into the scratch first
 * (im2col), with the input's zero point at the taps outside the input, so
 * that bias_folded is right for every pixel.
 *
 * The generator lays the tables out for this walk (harness/ops/conv_dsp.py):
 * the weights per pair of channels (out_c padded to even with a zero
 * channel), 8 bytes per step, the first channel's four then the second's;
 * bias_folded holds, per pair of channels, RECORD_WORDS words: both folded
 * biases, then each channel's requantization in the form scale_down takes
 * (multiplier and shift are NULL). The scratch is at scratch_offset (16-byte
 * aligned by the planner). Outputs are
 * written pixel by pixel, each after its own window and its pair's were
 * read: the portable kernel's overlap rule holds. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"
#include "bench_simd.h"

/* acc * multiplier * 2^(shift - 31), rounded as TFLite's MultiplyByQuantizedMultiplier rounds (a rounding
 * doubling high multiply, then a rounding division by 2^r, r = -shift, halves away from zero), for shift < 0
 * in one 64-bit multiply-accumulate. With h = floor(P / 2^31), P = acc * m + 2^30, the division gives
 * floor((h + 2^(r-1) - [h < 0]) / 2^r) = floor((P + 2^(30+r) - [h < 0] * 2^31) / 2^(31+r)) (nested floor
 * divisions), and [acc < 0] may stand for [h < 0]: they differ only where h = 0, and there both give 0.
 * Since 31 + r >= 32 the result is the high word shifted right by r - 1. The generator gives the nudge
 * 2^30 + 2^(30+r) as its two words (harness/ops/conv_dsp.py, channel_records). */
static inline int32_t scale_down(int32_t x, int32_t multiplier, uint32_t nudge_lo, uint32_t nudge_hi, int r1) {
    const int64_t nudge = (int64_t)(((uint64_t)nudge_hi << 32) | nudge_lo);
    const int64_t p = nudge + (int64_t)x * multiplier - (int64_t)((uint32_t)x & 0x80000000u);
    return (int32_t)(p >> 32) >> r1;
}

/* v clamped to [lo, hi]; one SSAT where they are constants of the whole int8 range (see conv) */
BENCH_INLINE int32_t clamp(int32_t v, int32_t lo, int32_t hi) {
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    if (__builtin_constant_p(lo) && __builtin_constant_p(hi) && lo == -128 && hi == 127) {
        int32_t r;
        __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v));
        return r;
    }
#endif
    return bench_clamp(v, lo, hi);
}

/* The outputs y0[c] and y1[c] of the channel whose record is at rec (multiplier, nudge high and low words,
 * r - 1, or -1 - shift for a shift >= 0) from their sums (mod 2^32). */
BENCH_INLINE void requantize2(const int32_t *rec, uint32_t acc0, uint32_t acc1, int32_t offset, int32_t lo,
                              int32_t hi, int8_t *y0, int8_t *y1) {
    const int32_t multiplier = rec[0], r1 = rec[3];
    const int32_t x0 = bench_i32_from_bits(acc0), x1 = bench_i32_from_bits(acc1);
    int32_t v0, v1;
    if (__builtin_expect(r1 >= 0, 1)) {  /* a right shift, as for nearly every layer TFLite writes */
        const uint32_t nudge_hi = (uint32_t)rec[1], nudge_lo = (uint32_t)rec[2];
        v0 = scale_down(x0, multiplier, nudge_lo, nudge_hi, r1);
        v1 = scale_down(x1, multiplier, nudge_lo, nudge_hi, r1);
    } else {
        v0 = bench_multiply_by_quantized_multiplier(x0, multiplier, -1 - r1);
        v1 = bench_multiply_by_quantized_multiplier(x1, multiplier, -1 - r1);
    }
    *y0 = (int8_t)clamp(v0 + offset, lo, hi);
    *y1 = (int8_t)clamp(v1 + offset, lo, hi);
}

/* Word i of an aligned run: weights are emitted 4-byte aligned and stepped 8 bytes at a time, the scratch is
 * 16-byte aligned (planner) and stepped 16 bytes at a time. */
static inline uint32_t word(const void *base, uint32_t i) {
    return bench_read_u32((const uint8_t *)__builtin_assume_aligned(base, 4) + 4u * i);
}

/* The two columns a (at x0) and b (at x1), `steps` words each, widened into
 * cols: per step a02, a13, b02, b13. */
static void widen(uint8_t *cols, const int8_t *x0, const int8_t *x1, uint32_t steps) {
    for (; steps > 0; --steps, x0 += 4, x1 += 4, cols += 16) {
        const uint32_t a = bench_read_u32(x0), b = bench_read_u32(x1);
        uint8_t *const c = __builtin_assume_aligned(cols, 16);
        bench_write_u32(c, bench_sxtb16(a));
        bench_write_u32(c + 4, bench_sxtb16_ror8(a));
        bench_write_u32(c + 8, bench_sxtb16(b));
        bench_write_u32(c + 12, bench_sxtb16_ror8(b));
    }
}

static inline int8_t *fill(int8_t *dst, int8_t v, uint32_t n) {
    for (; n > 0; --n) *dst++ = v;
    return dst;
}

static inline int8_t *copy(int8_t *dst, const int8_t *src, uint32_t n) {
    for (; n >= 4; n -= 4, src += 4, dst += 4) bench_write_u32(dst, bench_read_u32(src));
    for (; n > 0; --n) *dst++ = *src++;
    return dst;
}

/* The window of output pixel (oy, ox), depth values, into col (the zeros after them up to a multiple of
 * four are written once per layer); taps outside the input read the input's zero point. With dilation_w 1
 * a filter row is a run of padding, one contiguous copy and more padding. */
static void im2col(const bench_conv_params_t *p, const int8_t *in, int oy, int ox, int8_t *col) {
    const int in_c = p->in_c, k_w = p->k_w, in_w = p->in_w;
    const uint32_t row_bytes = (uint32_t)(k_w * in_c);
    const int8_t zero_point = (int8_t)(-p->input_offset);
    const int y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    /* the taps [kx_lo, kx_hi) of a row inside the input, for dilation_w 1 */
    const int kx_lo = x0 < 0 ? (-x0 < k_w ? -x0 : k_w) : 0;
    const int kx_hi = in_w - x0 < k_w ? (in_w - x0 > kx_lo ? in_w - x0 : kx_lo) : k_w;
    const int inside_w = kx_lo == 0 && kx_hi == k_w && p->dilation_w == 1;
    if (inside_w && y0 >= 0 && y0 + (p->k_h - 1) * p->dilation_h < p->in_h) {
        /* inside the input: k_h runs of row_bytes */
        const uint32_t stride = (uint32_t)p->dilation_h * (uint32_t)in_w * (uint32_t)in_c;
        const int8_t *src = in + ((uint32_t)y0 * (uint32_t)in_w + (uint32_t)x0) * (uint32_t)in_c;
        for (int ky = p->k_h; ky > 0; --ky, src += stride) col = copy(col, src, row_bytes);
        return;
    }
    for (int ky = 0; ky < p->k_h; ++ky) {
        const int iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= p->in_h) {
            col = fill(col, zero_point, row_bytes);
            continue;
        }
        const int8_t *row = in + (uint32_t)iy * (uint32_t)in_w * (uint32_t)in_c;
        if (p->dilation_w == 1) {
            col = fill(col, zero_point, (uint32_t)(kx_lo * in_c));
            if (kx_hi > kx_lo) {  /* else x0 + kx_lo may lie outside the row, and the arena */
                col = copy(col, row + (x0 + kx_lo) * in_c, (uint32_t)((kx_hi - kx_lo) * in_c));
            }
            col = fill(col, zero_point, (uint32_t)((k_w - kx_hi) * in_c));
            continue;
        }
        for (int kx = 0; kx < k_w; ++kx) {
            const int ix = x0 + kx * p->dilation_w;
            col = ix < 0 || ix >= in_w ? fill(col, zero_point, (uint32_t)in_c)
                                       : copy(col, row + (uint32_t)ix * (uint32_t)in_c, (uint32_t)in_c);
        }
    }
}

/* words per pair of output channels in bias_folded: the two folded biases, then 4 per channel */
#define RECORD_WORDS 10u

/* step k of the inner loop: a0C += column a times channel C's four weights, a1C += column b times them */
#define STEP(k)                                                                                      \
    do {                                                                                             \
        const uint32_t wa = word(w, 2u * (k)), wb = word(w, 2u * (k) + 1u);                          \
        const uint32_t xa02 = word(x, 4u * (k)), xa13 = word(x, 4u * (k) + 1u);                      \
        const uint32_t xb02 = word(x, 4u * (k) + 2u), xb13 = word(x, 4u * (k) + 3u);                 \
        uint32_t t = bench_sxtb16(wa);                                                               \
        a00 = bench_smlad(xa02, t, a00);                                                             \
        a10 = bench_smlad(xb02, t, a10);                                                             \
        t = bench_sxtb16_ror8(wa);                                                                   \
        a00 = bench_smlad(xa13, t, a00);                                                             \
        a10 = bench_smlad(xb13, t, a10);                                                             \
        t = bench_sxtb16(wb);                                                                        \
        a01 = bench_smlad(xa02, t, a01);                                                             \
        a11 = bench_smlad(xb02, t, a11);                                                             \
        t = bench_sxtb16_ror8(wb);                                                                   \
        a01 = bench_smlad(xa13, t, a01);                                                             \
        a11 = bench_smlad(xb13, t, a11);                                                             \
    } while (0)

/* The layer, its outputs clamped to [lo, hi]. */
BENCH_INLINE void conv(const bench_conv_params_t *p, uint8_t *arena, const int32_t lo, const int32_t hi) {
    const int8_t *const in = (const int8_t *)(arena + p->in_offset);
    int8_t *const out = (int8_t *)(arena + p->out_offset);
    const uint32_t in_c = p->in_c, out_c = p->out_c, out_w = p->out_w;
    const uint32_t depth4 = ((uint32_t)p->k_h * p->k_w * in_c + 3u) & ~3u, steps = depth4 / 4u;
    const uint32_t pairs = (out_c + 1u) / 2u, pixels = (uint32_t)p->out_h * out_w;
    uint8_t *const cols = arena + p->scratch_offset;
    const int32_t offset = p->output_offset;
    int8_t *const col0 = (int8_t *)(cols + 4u * depth4), *const col1 = col0 + depth4;
    const int direct = p->k_h == 1 && p->k_w == 1 && in_c % 4u == 0;
    if (!direct) {
        const uint32_t depth = (uint32_t)p->k_h * p->k_w * in_c;
        fill(col0 + depth, 0, depth4 - depth);
        fill(col1 + depth, 0, depth4 - depth);
    }
    for (uint32_t pix = 0; pix < pixels; pix += 2) {
        const uint32_t pix1 = pix + 1u < pixels ? pix + 1u : pix;
        const int oy0 = (int)(pix / out_w), ox0 = (int)(pix % out_w);
        const int oy1 = (int)(pix1 / out_w), ox1 = (int)(pix1 % out_w);
        if (direct) {
            const uint32_t sh = p->stride_h, sw = p->stride_w, in_w = p->in_w;
            widen(cols, in + ((uint32_t)oy0 * sh * in_w + (uint32_t)ox0 * sw) * in_c,
                  in + ((uint32_t)oy1 * sh * in_w + (uint32_t)ox1 * sw) * in_c, steps);
        } else {
            im2col(p, in, oy0, ox0, col0);
            im2col(p, in, oy1, ox1, col1);
            widen(cols, col0, col1, steps);
        }
        int8_t *const y0 = out + pix * out_c, *const y1 = out + pix1 * out_c;
        const int8_t *w = p->weights;
        const int32_t *rec = p->bias_folded;
        for (uint32_t c = 0; c < out_c; c += 2) {
            /* aPC: pixel P, channel c + C */
            uint32_t a00 = (uint32_t)rec[0], a01 = (uint32_t)rec[1];
            uint32_t a10 = a00, a11 = a01;
            const uint8_t *x = cols;
            /* two steps per iteration; the empty asm between them keeps GCC from hoisting the second
             * step's loads into the first, which runs out of registers and spills */
            for (uint32_t s = steps / 2u; s > 0; --s) {
                STEP(0);
                __asm__ volatile("" ::: "memory");
                STEP(1);
                w += 16;
                x += 32;
            }
            if (steps & 1u) {
                STEP(0);
                w += 8;
            }
            /* an odd last pixel has y1 == y0 and equal sums: written twice, the same bytes */
            requantize2(rec + 2, a00, a10, offset, lo, hi, y0 + c, y1 + c);
            if (c + 1u < out_c) requantize2(rec + 6, a01, a11, offset, lo, hi, y0 + c + 1u, y1 + c + 1u);
            rec += RECORD_WORDS;
        }
    }
}

void bench_kernel_conv_2d_dsp(const bench_conv_params_t *p, uint8_t *arena) {
    /* the whole int8 range (no activation, or one the output's zero point already gives) as constants: GCC
     * turns that clamp into one SSAT */
    if (p->act_min == -128 && p->act_max == 127) {
        conv(p, arena, -128, 127);
    } else {
        conv(p, arena, p->act_min, p->act_max);
    }
}
