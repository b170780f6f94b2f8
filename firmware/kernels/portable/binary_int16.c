/* ADD and MUL of two int16 tensors (TFLite's 16x8 quantization: zero points
 * 0), with NumPy-style broadcasting over a rank-4 output: the int8 kernels'
 * arithmetic (binary.c) on int16 values. ADD takes 15 bits of headroom instead
 * of 20 (left_shift, from the generator), as TFLite's int16 ADD does; MUL's
 * product of two int16 values fits int32. Element i of the output is written
 * after element i of each input was read. */
#include "bench_kernels.h"
#include "bench_binary_one.h"
#include "bench_mem.h"

BENCH_DEFINE_ADD_MUL_ONE(bench_binary_params_t)

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
                        const int32_t v_ = one(p, bench_get_i16(x1, a + i3 * p->stride1[3]),            \
                                               bench_get_i16(x2, b + i3 * p->stride2[3]));              \
                        bench_put_i16(y, k++, (int16_t)v_);                                             \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

WIDE_BINARY_KERNEL(bench_kernel_add_int16, add_one)
WIDE_BINARY_KERNEL(bench_kernel_mul_int16, mul_one)
