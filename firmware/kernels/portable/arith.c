/* SUB, MINIMUM, MAXIMUM, SQUARED_DIFFERENCE and PRELU of two int8 tensors
 * (and ADD and MUL with a constant operand),
 * with NumPy-style broadcasting over a rank-4 output. An input is read from
 * the arena at its offset, or from flash when it is a constant (in*_data).
 * r = s(q - Z) throughout; the formulas are TFLite's int8 reference ones:
 * SUB rescales both inputs to a common scale with 20 bits of headroom (as
 * ADD), SQUARED_DIFFERENCE with 7, and squares the difference; PRELU rescales
 * x >= 0 by s_x/s_y and x < 0 times alpha by s_x s_alpha / s_y.
 * Element i of the output is written after element i of each input was read. */
#include "bench_kernels.h"
#include "bench_binary_one.h"

static inline int32_t sub_one(const bench_arith_params_t *p, int32_t a, int32_t b) {
    const int32_t sa = BENCH_RESCALED_INPUT(p, a, 1);
    const int32_t sb = BENCH_RESCALED_INPUT(p, b, 2);
    const int32_t v = bench_multiply_by_quantized_multiplier(sa - sb, p->output_multiplier, p->output_shift);
    return bench_clamp(v + p->output_offset, p->act_min, p->act_max);
}

/* ADD and MUL as binary.c computes them, for a constant operand. */
BENCH_DEFINE_ADD_MUL_ONE(bench_arith_params_t)

static inline int32_t minimum_one(const bench_arith_params_t *p, int32_t a, int32_t b) {
    (void)p;
    return a < b ? a : b;
}

static inline int32_t maximum_one(const bench_arith_params_t *p, int32_t a, int32_t b) {
    (void)p;
    return a > b ? a : b;
}

static inline int32_t squared_difference_one(const bench_arith_params_t *p, int32_t a, int32_t b) {
    const int32_t sa = BENCH_RESCALED_INPUT(p, a, 1);
    const int32_t sb = BENCH_RESCALED_INPUT(p, b, 2);
    /* |sa - sb| <= 255 * 2^7: the square is below 2^31 */
    const int32_t d = sa - sb;
    const int32_t v = bench_multiply_by_quantized_multiplier(d * d, p->output_multiplier, p->output_shift);
    return bench_clamp(v + p->output_offset, -128, 127);
}

static inline int32_t prelu_one(const bench_arith_params_t *p, int32_t x, int32_t alpha) {
    const int32_t v = x + p->input1_offset;
    const int32_t out = v >= 0
        ? bench_multiply_by_quantized_multiplier(v, p->input1_multiplier, p->input1_shift)
        : bench_multiply_by_quantized_multiplier(v * (alpha + p->input2_offset), p->output_multiplier, p->output_shift);
    return bench_clamp(out + p->output_offset, -128, 127);
}

#define ARITH_KERNEL(name, one)                                                                         \
    void name(const bench_arith_params_t *p, uint8_t *arena) {                                          \
        const int8_t *x1 = p->in1_data ? p->in1_data : (const int8_t *)(arena + p->in1_offset);         \
        const int8_t *x2 = p->in2_data ? p->in2_data : (const int8_t *)(arena + p->in2_offset);         \
        int8_t *y = (int8_t *)(arena + p->out_offset);                                                  \
        for (uint32_t i0 = 0; i0 < p->shape[0]; ++i0) {                                                 \
            for (uint32_t i1 = 0; i1 < p->shape[1]; ++i1) {                                             \
                for (uint32_t i2 = 0; i2 < p->shape[2]; ++i2) {                                         \
                    const int8_t *a = x1 + i0 * p->stride1[0] + i1 * p->stride1[1] + i2 * p->stride1[2];\
                    const int8_t *b = x2 + i0 * p->stride2[0] + i1 * p->stride2[1] + i2 * p->stride2[2];\
                    for (uint32_t i3 = 0; i3 < p->shape[3]; ++i3) {                                     \
                        *y++ = (int8_t)one(p, a[i3 * p->stride1[3]], b[i3 * p->stride2[3]]);            \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

ARITH_KERNEL(bench_kernel_sub, sub_one)
ARITH_KERNEL(bench_kernel_minimum, minimum_one)
ARITH_KERNEL(bench_kernel_maximum, maximum_one)
ARITH_KERNEL(bench_kernel_squared_difference, squared_difference_one)
ARITH_KERNEL(bench_kernel_prelu, prelu_one)
ARITH_KERNEL(bench_kernel_add_constant, add_one)
ARITH_KERNEL(bench_kernel_mul_constant, mul_one)
