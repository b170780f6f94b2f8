/* int16 LOGISTIC and TANH (see bench_lut16.h), and their kernels. */
#include "bench_kernels.h"
#include "bench_lut16.h"
#include "bench_mem.h"

#define LUT_LAST 255u

/* x in steps of 1/(3*4096). In int32: |x| <= 2^15, multiplier < 2^15 and the
 * rounding at most 2^30, so the sum stays below 2^31. */
static inline int32_t lut_scaled(int16_t x, int32_t multiplier, int32_t left_shift) {
    if (multiplier == 0) {
        return (int32_t)x * (3 << left_shift);
    }
    const int32_t rounding = left_shift > 0 ? (int32_t)(1u << (left_shift - 1)) : 0;
    return ((int32_t)x * multiplier + rounding) >> left_shift;
}

/* sigmoid(a / (3*4096)) in 0.16 fixed point with `bits` more fraction bits,
 * for a >= 0 below the table's last position. */
static inline uint32_t lut_at(const uint16_t *lut, uint32_t a, uint32_t bits) {
    const uint32_t pos = a >> bits;
    const uint32_t lo = lut[pos], hi = lut[pos + 1u];
    /* hi >= lo: the table rises */
    return (lo << bits) + (a & ((1u << bits) - 1u)) * (hi - lo);
}

int16_t bench_logistic16(int16_t x, int32_t multiplier, int32_t left_shift, const uint16_t *lut) {
    const int32_t v = lut_scaled(x, multiplier, left_shift);
    const uint32_t a = v >= 0 ? (uint32_t)v : -(uint32_t)v;
    /* 0.16 + 9 fraction bits; at and past the last position, 0x7FFF << 10 */
    const uint32_t r = (a >> 9) >= LUT_LAST ? 0x7FFFu << 10 : lut_at(lut, a, 9u);
    const uint32_t q = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(q >> 10);
}

int16_t bench_tanh16(int16_t x, int32_t multiplier, int32_t left_shift, const uint16_t *lut) {
    const int32_t v = lut_scaled(x, multiplier, left_shift);
    const uint32_t a = v >= 0 ? (uint32_t)v : -(uint32_t)v;
    /* 2 * sigmoid(2|x|) - 1 with 8 more fraction bits than Q0.15 */
    const int32_t r = (int32_t)((a >> 8) >= LUT_LAST ? 0xFFFFu << 8 : lut_at(lut, a, 8u)) - (1 << 23);
    const int32_t q = v >= 0 ? r + (1 << 7) : -r + (1 << 7) - 1;
    return (int16_t)(q >> 8); /* arithmetic shift: the floor, as the model in lut16.py */
}

/* Each output element is written after its input element was read: they run in place. */
void bench_kernel_logistic16(const bench_sigmoid16_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    uint8_t *y = arena + p->out_offset;
    for (uint32_t i = 0; i < p->count; ++i) {
        bench_put_i16(y, i, bench_logistic16(bench_get_i16(x, i), p->multiplier, p->left_shift, p->lut));
    }
}

void bench_kernel_tanh16(const bench_sigmoid16_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    uint8_t *y = arena + p->out_offset;
    for (uint32_t i = 0; i < p->count; ++i) {
        bench_put_i16(y, i, bench_tanh16(bench_get_i16(x, i), p->multiplier, p->left_shift, p->lut));
    }
}
