/* LOG_SOFTMAX over the last axis, int8 in, int8 out with scale 16/256 and
 * zero point 127 (the only output quantization TFLite allows for int8,
 * checked by the generator). TFLite's fixed-point specification: input
 * differences from the row maximum rescaled into Q5.26, exp() in Q0.31,
 * summed in Q12.19; log of the sum in Q5.26 by gemmlowp's polynomial on a
 * range reduced by powers of sqrt(2); the output is the difference, Q5.26
 * rounded to Q4.3 and offset by 127.
 * In place: y[c] is written after x[c] was last read. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define SUM_INTEGER_BITS 12
#define LOG_ACCUM_INTEGER_BITS (SCALED_DIFF_INTEGER_BITS + 1) /* one bit of headroom for the sum of two terms */
#define OUTPUT_INTEGER_BITS 4

/* Q0.31 constants */
#define LOG_2 1488522236          /* log(2) */
#define SQRT_SQRT_HALF 1805811301 /* 0.5^(1/4) */
#define SQRT_HALF 1518500250      /* 0.5^(1/2) */
#define ONE_QUARTER 536870912     /* 1/4 */
#define ALPHA_N 117049297         /* 11/240 * 2^(1/4) */
#define ALPHA_D 127690142         /* 1/20 * 2^(1/4) */
#define ALPHA_I 1057819769        /* 2 / 2^(1/4) - 2^(1/4) */
#define ALPHA_F 638450708         /* 1/4 * 2^(1/4) */

/* int32 sums that TFLite's int32 arithmetic wraps: through uint32_t, where wrapping is defined. */
static inline int32_t wrap_add(int32_t a, int32_t b) { return bench_i32_from_bits((uint32_t)a + (uint32_t)b); }
static inline int32_t wrap_sub(int32_t a, int32_t b) { return bench_i32_from_bits((uint32_t)a - (uint32_t)b); }

static inline int32_t saturate64(int64_t v) {
    return v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : (int32_t)v);
}

/* (a + b) / 2, rounded to nearest with halves away from zero. */
static inline int32_t rounding_half_sum(int32_t a, int32_t b) {
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

static inline int count_leading_zeros(uint32_t x) { return x ? __builtin_clz(x) : 32; }

#define MUL bench_sat_rounding_doubling_high_mul
#define POT bench_sat_rounding_mul_by_pot

/* log(x) for x >= 1 in Q12.19, as Q5.26. x = 2^k * r with r in [sqrt(1/2), 1)
 * reached two ways (x and x * sqrt(1/2) normalized); log r comes from a
 * rational approximation around 2^(-1/4). */
static int32_t log_of_sum(int32_t x) {
    const int32_t shifted_quarter = POT(ONE_QUARTER, -LOG_ACCUM_INTEGER_BITS);
    const int a_headroom_plus_one = count_leading_zeros((uint32_t)x);
    const int32_t r_a = POT(MUL(POT(x, a_headroom_plus_one - 1), SQRT_HALF), 1);
    const int32_t a_pow2_adj = saturate64((int64_t)POT(SUM_INTEGER_BITS - a_headroom_plus_one, 31 - LOG_ACCUM_INTEGER_BITS)
                                          + shifted_quarter);
    const int b_headroom = count_leading_zeros((uint32_t)MUL(x, SQRT_HALF)) - 1;
    const int32_t r_b = POT(x, b_headroom);
    const int32_t b_pow2_adj = saturate64((int64_t)POT(SUM_INTEGER_BITS - b_headroom, 31 - LOG_ACCUM_INTEGER_BITS)
                                          - shifted_quarter);
    const int32_t r = r_a < r_b ? r_a : r_b;
    const int32_t pow2_adj = a_pow2_adj > b_pow2_adj ? a_pow2_adj : b_pow2_adj;

    const int32_t p = rounding_half_sum(r, SQRT_SQRT_HALF);
    int32_t q = wrap_sub(r, SQRT_SQRT_HALF);
    q = wrap_add(q, q);
    const int32_t q2 = MUL(q, q);
    const int32_t num = wrap_add(MUL(q, r), MUL(MUL(q, q2), ALPHA_N));
    const int32_t denom_minus_one = wrap_add(MUL(p, wrap_add(wrap_add(ALPHA_I, q), MUL(ALPHA_D, q2))), MUL(ALPHA_F, q));
    const int32_t recip_denom = bench_one_over_one_plus_x(denom_minus_one);
    const int32_t num_scaled = POT(num, -LOG_ACCUM_INTEGER_BITS);
    const int32_t sum = wrap_add(MUL(pow2_adj, LOG_2), MUL(num_scaled, recip_denom));
    return POT(sum, LOG_ACCUM_INTEGER_BITS - SCALED_DIFF_INTEGER_BITS);
}

/* diff * 2^left_shift * multiplier / 2^31, rounded: the input difference in Q5.26. */
static inline int32_t scaled_diff(const bench_log_softmax_params_t *p, int32_t diff) {
    return MUL((int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
}

void bench_kernel_log_softmax(const bench_log_softmax_params_t *p, uint8_t *arena) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    for (uint32_t row = 0; row < p->rows; ++row) {
        const int8_t *x = in + row * p->depth;
        int8_t *y = out + row * p->depth;
        int32_t max_in_row = -128;
        for (uint32_t c = 0; c < p->depth; ++c) {
            if (x[c] > max_in_row) max_in_row = x[c];
        }
        int32_t sum_of_exps = 0; /* Q12.19; each term <= 2^19 and depth < 4096 (checked by the generator) */
        for (uint32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                sum_of_exps += bench_rounding_divide_by_pot(
                    bench_exp_on_negative_values(scaled_diff(p, diff), SCALED_DIFF_INTEGER_BITS), SUM_INTEGER_BITS);
            }
        }
        /* the row maximum contributes exp(0): the sum is >= 1 */
        const int32_t log_sum = log_of_sum(sum_of_exps);
        /* the smallest difference whose Q5.26 value minus log_sum stays above -32 */
        const int32_t from_log = bench_multiply_by_quantized_multiplier(wrap_add(log_sum, INT32_MIN), p->reverse_multiplier,
                                                                        p->reverse_shift);
        const int32_t adjusted_diff_min = p->diff_min - 1 > from_log ? p->diff_min - 1 : from_log;
        for (uint32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            int32_t v = -128;
            if (diff > adjusted_diff_min) {
                v = bench_rounding_divide_by_pot(wrap_sub(scaled_diff(p, diff), log_sum),
                                                 31 - SCALED_DIFF_INTEGER_BITS - OUTPUT_INTEGER_BITS) + 127;
                v = bench_clamp(v, -128, 127);
            }
            y[c] = (int8_t)v;
        }
    }
}
