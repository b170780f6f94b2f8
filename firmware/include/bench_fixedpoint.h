/* Integer arithmetic shared by the int8 kernels: the rounding and saturating
 * fixed-point operations that TFLite's quantized kernels are specified in
 * (gemmlowp's conventions). A value `raw` with I integer bits stands for
 * raw / 2^(31 - I). */
#ifndef BENCH_FIXEDPOINT_H
#define BENCH_FIXEDPOINT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* a * b / 2^31 rounded to nearest with halves toward +infinity, i.e.
 * floor((ab + 2^30) / 2^31), saturating the single overflow case INT32_MIN^2:
 * +0.5 rounds to 1 and -0.5 to 0 (not away from zero). The specification
 * (gemmlowp's SaturatingRoundingDoublingHighMul) adds a nudge of 2^30 or
 * 1 - 2^30 by the sign of ab and truncates toward zero; for integer ab the two
 * agree everywhere, and this form is one arithmetic shift instead of a 64-bit
 * division. */
static inline int32_t bench_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + (1LL << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest with halves away from zero (-2.5 -> -3,
 * 2.5 -> 3); exponent in [0, 31] (the generator and the callers keep it there:
 * a shift of 32 or more is undefined in C). */
static inline int32_t bench_rounding_divide_by_pot(int32_t x, int exponent) {
    const int32_t mask = (int32_t)((1u << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^exponent, saturating, for exponent in [-31, 31]. */
static inline int32_t bench_sat_rounding_mul_by_pot(int32_t x, int exponent) {
    if (exponent > 0) {
        int32_t threshold = (int32_t)((1LL << (31 - exponent)) - 1);
        if (x > threshold) return INT32_MAX;
        if (x < -threshold) return INT32_MIN;
        return (int32_t)((uint32_t)x << exponent);
    }
    if (exponent < 0) {
        return bench_rounding_divide_by_pot(x, -exponent);
    }
    return x;
}

/* x * multiplier * 2^(shift - 31), rounded as the two steps above round.
 * multiplier in [0, 2^31) (never INT32_MIN, so the saturation case of the
 * high multiply cannot occur) and shift in [-31, 30]: the generator checks
 * both (harness/model/quant.py, check_requant). */
static inline int32_t bench_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t high = (int32_t)(((int64_t)(int32_t)((uint32_t)x << left) * multiplier + (1LL << 30)) >> 31);
    return bench_rounding_divide_by_pot(high, right);
}

/* The int32 with the two's-complement bits of `u`. Accumulators that may pass
 * INT32_MAX on the way (a folded bias near the limit, a long dot product) sum
 * in uint32_t, where wrapping is defined, and come back through this at the
 * end: the same bits TFLite's int32 arithmetic leaves. A plain cast would be
 * implementation-defined above INT32_MAX; GCC compiles this to nothing. */
static inline int32_t bench_i32_from_bits(uint32_t u) {
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}

static inline int32_t bench_clamp(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* The transcendental helpers of SOFTMAX, LOGISTIC and TANH (fixedpoint.c). */

/* exp(a) for a <= 0 given with `integer_bits` integer bits; result in Q0.31. */
int32_t bench_exp_on_negative_values(int32_t a, int integer_bits);
/* 1 / (1 + a) for a in [0, 1), both Q0.31. */
int32_t bench_one_over_one_plus_x(int32_t a);
/* (1 - a) / (1 + a) for a in [0, 1), both Q0.31. */
int32_t bench_one_minus_x_over_one_plus_x(int32_t a);

#ifdef __cplusplus
}
#endif
#endif /* BENCH_FIXEDPOINT_H */
