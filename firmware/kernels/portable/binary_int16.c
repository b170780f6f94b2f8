/* ADD and MUL of two int16 tensors (TFLite's 16x8 quantization: zero points
 * 0), with NumPy-style broadcasting over a rank-4 output: the int8 kernels'
 * arithmetic (binary.c) on int16 values. ADD takes 15 bits of headroom instead
 * of 20 (left_shift, from the generator), as TFLite's int16 ADD does; MUL's
 * product of two int16 values fits int32. Element i of the output is written
 * after element i of each input was read. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

static inline int32_t add_one(const bench_binary_params_t *p, int32_t a, int32_t b) {
    const int32_t sa = bench_multiply_by_quantized_multiplier((a + p->input1_offset) * (1 << p->left_shift),
                                                              p->input1_multiplier, p->input1_shift);
    const int32_t sb = bench_multiply_by_quantized_multiplier((b + p->input2_offset) * (1 << p->left_shift),
                                                              p->input2_multiplier, p->input2_shift);
    const int32_t v = bench_multiply_by_quantized_multiplier(sa + sb, p->output_multiplier, p->output_shift);
    return bench_clamp(v + p->output_offset, p->act_min, p->act_max);
}

static inline int32_t mul_one(const bench_binary_params_t *p, int32_t a, int32_t b) {
    const int32_t v = bench_multiply_by_quantized_multiplier((a + p->input1_offset) * (b + p->input2_offset),
                                                             p->output_multiplier, p->output_shift);
    return bench_clamp(v + p->output_offset, p->act_min, p->act_max);
}

static inline int32_t at(const uint8_t *base, uint32_t i) {
    int16_t v;
    __builtin_memcpy(&v, base + 2u * i, sizeof v);
    return v;
}

static inline void put(uint8_t *base, uint32_t i, int32_t v) {
    const int16_t s = (int16_t)v;
    __builtin_memcpy(base + 2u * i, &s, sizeof s);
}

#define WIDE_BINARY_KERNEL(name, one)                                                                      \
    void name(const bench_binary_params_t *p, uint8_t *arena) {                                          \
        const uint8_t *x1 = arena + p->in1_offset;                                                      \
        const uint8_t *x2 = arena + p->in2_offset;                                                      \
        uint8_t *y = arena + p->out_offset;                                                             \
        uint32_t k = 0;                                                                                 \
        for (uint32_t i0 = 0; i0 < p->shape[0]; ++i0) {                                                 \
            for (uint32_t i1 = 0; i1 < p->shape[1]; ++i1) {                                             \
                for (uint32_t i2 = 0; i2 < p->shape[2]; ++i2) {                                         \
                    const uint32_t a = i0 * p->stride1[0] + i1 * p->stride1[1] + i2 * p->stride1[2];    \
                    const uint32_t b = i0 * p->stride2[0] + i1 * p->stride2[1] + i2 * p->stride2[2];    \
                    for (uint32_t i3 = 0; i3 < p->shape[3]; ++i3) {                                     \
                        put(y, k++, one(p, at(x1, a + i3 * p->stride1[3]), at(x2, b + i3 * p->stride2[3]))); \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

WIDE_BINARY_KERNEL(bench_kernel_add_int16, add_one)
WIDE_BINARY_KERNEL(bench_kernel_mul_int16, mul_one)
