/* exp() on negative values and the Newton-Raphson reciprocals of the int8
 * SOFTMAX, LOGISTIC and TANH kernels, in gemmlowp's fixed-point arithmetic
 * (exp by a polynomial on [-1/4, 0) and a barrel of exp(-2^k) constants). */
#include "bench_fixedpoint.h"

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

int32_t bench_exp_on_negative_values(int32_t a, int integer_bits) {
    const int frac_bits = 31 - integer_bits;
    /* exp(-2^k) in Q0.31 for k = -2 .. 4 */
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_on_quarter_interval(bench_sat_rounding_mul_by_pot(a_mod_quarter_minus_quarter, integer_bits));
    int32_t remainder = a_mod_quarter_minus_quarter - a;
    for (int k = -2; k <= 4; ++k) {
        if (integer_bits > k && (remainder & ((int32_t)1 << (frac_bits + k))) != 0) {
            result = bench_sat_rounding_doubling_high_mul(result, barrel[k + 2]);
        }
    }
    if (integer_bits > 5 && a < -((int32_t)1 << (36 - integer_bits))) {
        result = 0; /* below exp(-32) */
    }
    return a == 0 ? INT32_MAX : result;
}

/* Newton-Raphson for 1 / (1 + a), in Q2.29; a in [0, 1) Q0.31. */
static int32_t reciprocal_q2(int32_t a) {
    int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    int32_t x = 1515870810 + bench_sat_rounding_doubling_high_mul(half_denominator, -1010580540); /* 48/17 - 32/17 d */
    for (int i = 0; i < 3; ++i) {
        int32_t half_denominator_times_x = bench_sat_rounding_doubling_high_mul(half_denominator, x);
        int32_t one_minus = (1 << 29) - half_denominator_times_x;
        x = x + bench_sat_rounding_mul_by_pot(bench_sat_rounding_doubling_high_mul(x, one_minus), 2);
    }
    return x;
}

int32_t bench_one_over_one_plus_x(int32_t a) {
    return bench_sat_rounding_mul_by_pot(reciprocal_q2(a), 1);
}

int32_t bench_one_minus_x_over_one_plus_x(int32_t a) {
    return bench_sat_rounding_mul_by_pot(reciprocal_q2(a) - (1 << 29), 2);
}
