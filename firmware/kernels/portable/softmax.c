/* SOFTMAX, int8 in, int8 out with scale 1/256 and zero point -128 (the only
 * output quantization TFLite allows for int8 softmax, checked by the
 * generator). The arithmetic is TFLite's fixed-point specification: input
 * differences from the row maximum are rescaled into a Q5.26 value, exp() is
 * evaluated in Q0.31 by a polynomial on [-1/4, 0) and a barrel of exp(-2^k)
 * constants, summed in Q12.19, and the reciprocal found by Newton-Raphson. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUM_INTEGER_BITS 12

static int32_t rounding_half_sum(int32_t a, int32_t b) {
    int64_t sum = (int64_t)a + (int64_t)b;
    int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a in [-1/4, 0), both Q0.31: a Taylor series around -1/8. */
static int32_t exp_on_quarter_interval(int32_t a) {
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
    int32_t x = a + (1 << 28);                       /* a + 1/8 */
    int32_t x2 = bench_sat_rounding_doubling_high_mul(x, x);
    int32_t x3 = bench_sat_rounding_doubling_high_mul(x2, x);
    int32_t x4 = bench_sat_rounding_doubling_high_mul(x2, x2);
    int32_t x4_over_4 = bench_sat_rounding_mul_by_pot(x4, -2);
    int32_t poly = bench_sat_rounding_mul_by_pot(
        bench_sat_rounding_doubling_high_mul(x4_over_4 + x3, one_third) + x2, -1);
    return exp_minus_one_eighth + bench_sat_rounding_doubling_high_mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0; a in Q5.26, result in Q0.31. */
static int32_t exp_on_negative_values(int32_t a) {
    enum { FRAC_BITS = 31 - SCALED_DIFF_INTEGER_BITS };
    /* exp(-2^k) in Q0.31 for k = -2 .. 4 */
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 268};
    const int32_t one_quarter = 1 << (FRAC_BITS - 2);
    int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_on_quarter_interval(
        bench_sat_rounding_mul_by_pot(a_mod_quarter_minus_quarter, SCALED_DIFF_INTEGER_BITS));
    int32_t remainder = a_mod_quarter_minus_quarter - a;
    for (int k = -2; k <= 4; ++k) {
        if (SCALED_DIFF_INTEGER_BITS > k && (remainder & (1 << (FRAC_BITS + k))) != 0) {
            result = bench_sat_rounding_doubling_high_mul(result, barrel[k + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), both Q0.31 (the result is in [0.5, 1]). */
static int32_t one_over_one_plus_x(int32_t a) {
    int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    /* Q2.29 throughout the iteration: x0 = 48/17 - 32/17 * d */
    int32_t x = 1515870810 + bench_sat_rounding_doubling_high_mul(half_denominator, -1010580540);
    for (int i = 0; i < 3; ++i) {
        int32_t half_denominator_times_x = bench_sat_rounding_doubling_high_mul(half_denominator, x);
        int32_t one_minus = (1 << 29) - half_denominator_times_x;
        x = x + bench_sat_rounding_mul_by_pot(bench_sat_rounding_doubling_high_mul(x, one_minus), 2);
    }
    return bench_sat_rounding_mul_by_pot(x, 1);
}

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
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (uint32_t c = 0; c < p->depth; ++c) {
            int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                int32_t scaled = bench_sat_rounding_doubling_high_mul(
                    (int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
                sum_of_exps += bench_rounding_divide_by_pot(exp_on_negative_values(scaled), ACCUM_INTEGER_BITS);
            }
        }
        int headroom_plus_one = __builtin_clz((uint32_t)sum_of_exps);
        int num_bits_over_unit = ACCUM_INTEGER_BITS - headroom_plus_one;
        int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (1U << 31));
        int32_t shifted_scale = one_over_one_plus_x(shifted_sum_minus_one);
        for (uint32_t c = 0; c < p->depth; ++c) {
            int32_t diff = (int32_t)x[c] - max_in_row;
            int32_t v = -128;
            if (diff >= p->diff_min) {
                int32_t scaled = bench_sat_rounding_doubling_high_mul(
                    (int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
                int32_t e = exp_on_negative_values(scaled);
                v = bench_rounding_divide_by_pot(bench_sat_rounding_doubling_high_mul(shifted_scale, e),
                                                 num_bits_over_unit + 31 - 8) - 128;
                if (v < -128) v = -128;
                if (v > 127) v = 127;
            }
            y[c] = (int8_t)v;
        }
    }
}
