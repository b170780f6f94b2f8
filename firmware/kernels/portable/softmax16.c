/* int16 SOFTMAX (16x8 quantization) over rows of the last axis; the numpy
 * model is harness/ops/softmax16.py (softmax16). Input Q with zero point 0,
 * output Q0.15. The generator checks input_shift in [-31, 15] (a difference
 * of two int16 values shifted left by 15 still fits int32) and depth at most
 * (2^31 - 1) / 32767 (the sum of exps fits int32). */
#include "bench_fixedpoint.h"
#include "bench_kernels.h"
#include "bench_mem.h"

/* A 513-entry Q0.15 table at int16 v: position 256 + v / 128, interpolated
 * with the 7 low bits, rounded (an arithmetic shift: a falling table's
 * negative steps round toward -infinity at halves, as TFLite's lookup). */
static inline int32_t lut_at(const int16_t *lut, int32_t v) {
    const int32_t index = 256 + (v >> 7);
    const int32_t base = lut[index];
    return base + (((lut[index + 1] - base) * (v & 0x7F) + 64) >> 7);
}

/* exp(x - max) in Q0.15 from the rescaled difference, moved up by 32767 so
 * that a difference of 0 is the table's last position. */
static inline int32_t exp_of(int32_t diff, int32_t multiplier, int shift, const int16_t *exp_lut) {
    const int32_t scaled = bench_multiply_by_quantized_multiplier(diff, multiplier, shift);
    /* scaled <= 0: the sum cannot overflow */
    return lut_at(exp_lut, bench_clamp(scaled + 32767, INT16_MIN, INT16_MAX));
}

/* x and y: int16 elements of the arena (bench_mem.h) */
static void softmax16_row(const uint8_t *x, uint8_t *y, uint32_t depth, const bench_softmax16_params_t *p) {
    int32_t max = bench_get_i16(x, 0);
    for (uint32_t c = 1; c < depth; ++c) {
        const int32_t v = bench_get_i16(x, c);
        max = v > max ? v : max;
    }
    int32_t sum = 0; /* the largest element's exp is 32762: the sum is positive */
    for (uint32_t c = 0; c < depth; ++c) {
        sum += exp_of(bench_get_i16(x, c) - max, p->input_multiplier, p->input_shift, p->exp_lut);
    }
    /* headroom in [1, 17]: the sum normalized into [2^30, 2^31), then its top
     * 17 bits rounded, in [2^16, 2^17]; less 2^16 + 2^15 it is 1 + x's table
     * position for x in [0, 1] */
    const uint32_t headroom = (uint32_t)__builtin_clz((uint32_t)sum); /* sum > 0: defined */
    const int32_t normalized = (int32_t)((((uint32_t)sum << (headroom - 1u)) + (1u << 13)) >> 14);
    const int32_t reciprocal = lut_at(p->reciprocal_lut,
                                      bench_clamp(normalized - (1 << 15) - (1 << 16), INT16_MIN, INT16_MAX));
    const int right_shift = (int)(31u - headroom);
    /* written after reading x[c]: the output may share the input's bytes */
    for (uint32_t c = 0; c < depth; ++c) {
        const int32_t e = exp_of(bench_get_i16(x, c) - max, p->input_multiplier, p->input_shift, p->exp_lut);
        /* e <= 32767 and reciprocal <= 32767: the product fits int32 */
        bench_put_i16(y, c, (int16_t)bench_clamp(bench_rounding_divide_by_pot(e * reciprocal, right_shift), 0,
                                                 INT16_MAX));
    }
}

void bench_kernel_softmax16(const bench_softmax16_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    uint8_t *y = arena + p->out_offset;
    for (uint32_t r = 0; r < p->rows; ++r) {
        softmax16_row(x + 2u * r * p->depth, y + 2u * r * p->depth, p->depth, p);
    }
}
