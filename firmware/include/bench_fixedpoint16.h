/* Fixed-point arithmetic of the int16-activation (16x8) kernels: the int64
 * requantization TFLite specifies for sums that can pass int32. */
#ifndef BENCH_FIXEDPOINT16_H
#define BENCH_FIXEDPOINT16_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* x * multiplier * 2^(shift - 31) for an int64 x, as TFLite's int64
 * MultiplyByQuantizedMultiplier computes it: the Q31 multiplier rounded to
 * Q15 (saturating at 0x7FFF), one product, one rounding shift of 15 - shift
 * bits with halves toward +infinity. Callers keep |x| < 2^47 and shift in
 * [-31, 7] (the generator checks both), so the product fits int64 and the
 * result fits int32. The right shift of a negative int64 is arithmetic in
 * GCC and Clang (documented implementation-defined behaviour). */
static inline int32_t bench_multiply_by_quantized_multiplier64(int64_t x, int32_t multiplier, int shift) {
    const int64_t reduced = multiplier < 0x7FFF0000 ? (int64_t)((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    return (int32_t)((x * reduced + round) >> total_shift);
}

#ifdef __cplusplus
}
#endif
#endif /* BENCH_FIXEDPOINT16_H */
