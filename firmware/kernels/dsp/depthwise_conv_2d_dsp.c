/* DEPTHWISE_CONV_2D with the DSP extension: depth multiplier 1, channels a
 * multiple of four, int8 activations, symmetric int8 weights per channel,
 * sums modulo 2^32 (see bench_dot.h).
 *
 * Four channels at a time: per tap one word of input bytes, split by SXTB16
 * into the halfword pairs of channels 0,2 and 1,3, multiplied by SMLABB and
 * SMLATT into four accumulators against weights widened at compile time.
 * `weights` holds (harness/ops/depthwise_dsp.py): per group of four channels,
 * per tap, the words (w0, w2) and (w1, w3) as int16 pairs; then per channel
 * four int32 words of requantization (lo, hi, multiplier, e - 1), which turn
 * TFLite's two roundings into one 64-bit multiply-accumulate and a shift.
 * Windows inside the input start from `bias_folded`, a 3x3 one in straight
 * line; windows cut by the padding sum their inside taps from `bias` with the
 * input offset added to each halfword (SADD16). Output pixels are written in
 * order, each group's four bytes as one word after its taps are read, as the
 * portable kernel does. Parameters are copied to locals (stores through the
 * output may alias them). */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"
#include "bench_simd.h"
#include "bench_window.h"

/* acc0..acc3 += the four input bytes at xp times the tap's widened weights at byte woff (a literal) of wp */
#define TAP(xp, wp, woff)                                           \
    do {                                                            \
        const uint32_t xv_ = bench_read_u32(xp);                    \
        const uint32_t x02_ = bench_sxtb16(xv_);                    \
        const uint32_t x13_ = bench_sxtb16_ror8(xv_);               \
        const uint32_t w02_ = bench_read_u32((wp) + (woff)), w13_ = bench_read_u32((wp) + (woff) + 4); \
        acc0 = bench_smlabb(x02_, w02_, acc0);                      \
        acc2 = bench_smlatt(x02_, w02_, acc2);                      \
        acc1 = bench_smlabb(x13_, w13_, acc1);                      \
        acc3 = bench_smlatt(x13_, w13_, acc3);                      \
    } while (0)

/* the same with the input offset (in both halfwords of o) added to each input */
#define TAP_OFFSET(xp, wp, o)                                       \
    do {                                                            \
        const uint32_t xv_ = bench_read_u32(xp);                    \
        const uint32_t x02_ = bench_sadd16(bench_sxtb16(xv_), (o));       \
        const uint32_t x13_ = bench_sadd16(bench_sxtb16_ror8(xv_), (o));  \
        const uint32_t w02_ = bench_read_u32(wp), w13_ = bench_read_u32((wp) + 4); \
        acc0 = bench_smlabb(x02_, w02_, acc0);                      \
        acc2 = bench_smlatt(x02_, w02_, acc2);                      \
        acc1 = bench_smlabb(x13_, w13_, acc1);                      \
        acc3 = bench_smlatt(x13_, w13_, acc3);                      \
    } while (0)

/* One output from its sum (mod 2^32) and the channel's words q: lo, hi (a 64-bit constant holding both
 * rounding terms and the output offset), multiplier, e - 1; saturated to int8. The generator keeps e in
 * [1, 20], where the sum stays inside int64 (harness/ops/depthwise_dsp.py). */
static inline int32_t requantize(uint32_t acc, const int8_t *q) {
    const uint32_t lo = bench_read_u32(q), hi = bench_read_u32(q + 4);
    const int32_t multiplier = (int32_t)bench_read_u32(q + 8), e = (int32_t)bench_read_u32(q + 12);
    const int64_t c = (int64_t)(((uint64_t)hi << 32) | lo);
    const int64_t v = c + (int64_t)bench_i32_from_bits(acc) * multiplier - (int64_t)(acc & 0x80000000u);
    return bench_ssat8((int32_t)(v >> 32) >> e);
}

static inline uint32_t pack4(int32_t b0, int32_t b1, int32_t b2, int32_t b3) {
    return ((uint32_t)b0 & 0xFFu) | (((uint32_t)b1 & 0xFFu) << 8) | (((uint32_t)b2 & 0xFFu) << 16) |
           ((uint32_t)b3 << 24);
}

/* the four sums as four output bytes in one word, clamped to the activation's range when it is narrower
 * than int8 (lo4, hi4: the bounds in each byte) */
#define STORE4(dst, q)                                                                          \
    do {                                                                                        \
        uint32_t word_ = pack4(requantize(acc0, (q)), requantize(acc1, (q) + 16),                \
                               requantize(acc2, (q) + 32), requantize(acc3, (q) + 48));          \
        if (clamp) {                                                                            \
            word_ = bench_min_s8x4(bench_max_s8x4(word_, lo4), hi4);                            \
        }                                                                                       \
        bench_write_u32((dst), word_);                                                          \
    } while (0)

void bench_kernel_depthwise_conv_2d_dsp(const bench_conv_params_t *p, uint8_t *arena) {
    const int8_t *const in = (const int8_t *)(arena + p->in_offset);
    int8_t *const out = (int8_t *)(arena + p->out_offset);
    const int in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, out_h = p->out_h, out_w = p->out_w;
    const int k_h = p->k_h, k_w = p->k_w, taps = k_h * k_w;
    const int stride_h = p->stride_h, stride_w = p->stride_w, dil_h = p->dilation_h, dil_w = p->dilation_w;
    const int pad_h = p->pad_h, pad_w = p->pad_w;
    const int groups = in_c / 4;
    /* weights and the requantization words: 4-byte aligned (the generator aligns every table) */
    const int8_t *const wide = (const int8_t *)__builtin_assume_aligned(p->weights, 4);
    const int8_t *const rq = (const int8_t *)__builtin_assume_aligned(p->weights + (uint32_t)groups * taps * 8u, 4);
    const int32_t *const bias = p->bias, *const folded = p->bias_folded;
    const uint32_t off2 = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    const int clamp = act_min > -128 || act_max < 127;
    const uint32_t lo4 = (uint32_t)(uint8_t)act_min * 0x01010101u, hi4 = (uint32_t)(uint8_t)act_max * 0x01010101u;
    const int x_step = dil_w * in_c;   /* bytes between horizontal taps */
    const int row_step = dil_h * in_w * in_c;
    const int fast3x3 = k_h == 3 && k_w == 3;
    int8_t *dst = out;
    for (int oy = 0; oy < out_h; ++oy) {
        const int y0 = oy * stride_h - pad_h;
        const int ky_lo = bench_first_tap(y0, dil_h), ky_hi = bench_end_tap(y0, dil_h, in_h, k_h);
        for (int ox = 0; ox < out_w; ++ox) {
            const int x0 = ox * stride_w - pad_w;
            const int kx_lo = bench_first_tap(x0, dil_w), kx_hi = bench_end_tap(x0, dil_w, in_w, k_w);
            const int inside = ky_lo == 0 && ky_hi == k_h && kx_lo == 0 && kx_hi == k_w;
            const int8_t *const window = in + ((y0 + ky_lo * dil_h) * in_w + x0 + kx_lo * dil_w) * in_c;
            const int8_t *q = rq;
            if (inside && fast3x3) {
                const int8_t *w = wide;
                const int32_t *b = folded;
                const int8_t *x = window;
                for (int g = groups; g > 0; --g, x += 4, w += 72, b += 4, q += 64, dst += 4) {
                    uint32_t acc0 = (uint32_t)b[0], acc1 = (uint32_t)b[1], acc2 = (uint32_t)b[2],
                             acc3 = (uint32_t)b[3];
                    const int8_t *r = x;
                    TAP(r, w, 0);
                    TAP(r + x_step, w, 8);
                    TAP(r + 2 * x_step, w, 16);
                    r += row_step;
                    TAP(r, w, 24);
                    TAP(r + x_step, w, 32);
                    TAP(r + 2 * x_step, w, 40);
                    r += row_step;
                    TAP(r, w, 48);
                    TAP(r + x_step, w, 56);
                    TAP(r + 2 * x_step, w, 64);
                    STORE4(dst, q);
                }
                continue;
            }
            /* a window cut by the padding (or any window of another size): its taps inside the input */
            const int32_t *b = inside ? folded : bias;
            const uint32_t off = inside ? 0u : off2;
            const int rows = ky_hi - ky_lo, cols = kx_hi - kx_lo;
            const int8_t *const wfirst = wide + (ky_lo * k_w + kx_lo) * 8;
            for (int g = 0; g < groups; ++g, b += 4, q += 64, dst += 4) {
                uint32_t acc0 = (uint32_t)b[0], acc1 = (uint32_t)b[1], acc2 = (uint32_t)b[2], acc3 = (uint32_t)b[3];
                const int8_t *xr = window + 4 * g;
                const int8_t *wr = wfirst + g * taps * 8;
                for (int r = 0; r < rows; ++r, xr += row_step, wr += k_w * 8) {
                    const int8_t *x = xr;
                    const int8_t *w = wr;
                    for (int k = 0; k < cols; ++k, x += x_step, w += 8) {
                        TAP_OFFSET(x, w, off);
                    }
                }
                STORE4(dst, q);
            }
        }
    }
}
