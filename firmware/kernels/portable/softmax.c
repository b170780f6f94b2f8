/* SOFTMAX, int8 in, int8 out with scale 1/256 and zero point -128 (the only
 * output quantization TFLite allows for int8 softmax, checked by the
 * generator). TFLite's fixed-point specification: input differences from the
 * row maximum are rescaled into a Q5.26 value, exp() is evaluated in Q0.31,
 * summed in Q12.19, and the reciprocal found by Newton-Raphson.
 * In place: y[c] is written after x[c] was last read. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUM_INTEGER_BITS 12

void bench_kernel_softmax(const bench_softmax_params_t *p, uint8_t *arena) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    for (uint32_t r = 0; r < p->rows; ++r) {
        const int8_t *x = in + r * p->depth;
        int8_t *y = out + r * p->depth;
        int32_t max_in_row = -128;
        for (uint32_t c = 0; c < p->depth; ++c) {
            if (x[c] > max_in_row) max_in_row = x[c];
        }
        int32_t sum_of_exps = 0; /* Q12.19; each term <= 2^19 and depth < 4096 (checked by the generator): no overflow */
        for (uint32_t c = 0; c < p->depth; ++c) {
            int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                int32_t scaled = bench_sat_rounding_doubling_high_mul(
                    (int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
                sum_of_exps += bench_rounding_divide_by_pot(
                    bench_exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS), ACCUM_INTEGER_BITS);
            }
        }
        /* the row maximum contributes exp(0) = 2^19: sum_of_exps > 0, so clz is defined */
        int headroom_plus_one = __builtin_clz((uint32_t)sum_of_exps);
        int num_bits_over_unit = ACCUM_INTEGER_BITS - headroom_plus_one;
        int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (1U << 31));
        int32_t shifted_scale = bench_one_over_one_plus_x(shifted_sum_minus_one);
        const int exponent = num_bits_over_unit + 31 - 8;
        if (exponent > 31) {
            /* a sum of 2^28 or more (512+ terms near the maximum): every probability is below
             * 2^-9, and a non-negative Q0.31 value divided by 2^32 or more rounds to 0. A shift
             * that wide is undefined in C (TFLite's kernel shifts anyway), so say it here. */
            for (uint32_t c = 0; c < p->depth; ++c) y[c] = -128;
            continue;
        }
        for (uint32_t c = 0; c < p->depth; ++c) {
            int32_t diff = (int32_t)x[c] - max_in_row;
            int32_t v = -128;
            if (diff >= p->diff_min) {
                int32_t scaled = bench_sat_rounding_doubling_high_mul(
                    (int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
                int32_t e = bench_exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS);
                v = bench_rounding_divide_by_pot(bench_sat_rounding_doubling_high_mul(shifted_scale, e), exponent) - 128;
                v = bench_clamp(v, -128, 127);
            }
            y[c] = (int8_t)v;
        }
    }
}
