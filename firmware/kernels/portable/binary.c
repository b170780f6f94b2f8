/* ADD and MUL of two int8 tensors, each in its own quantization, with
 * NumPy-style broadcasting over a rank-4 output. ADD rescales both inputs to
 * a common scale with 20 bits of headroom before summing (TFLite's int8
 * specification); MUL multiplies the offset inputs and rescales once.
 * Element i of the output is written after element i of each input was read. */
#include "bench_kernels.h"
#include "bench_binary_one.h"

BENCH_DEFINE_ADD_MUL_ONE(bench_binary_params_t)

#define BINARY_KERNEL(name, one)                                                                        \
    void name(const bench_binary_params_t *p, uint8_t *arena) {                                          \
        const int8_t *x1 = (const int8_t *)(arena + p->in1_offset);                                     \
        const int8_t *x2 = (const int8_t *)(arena + p->in2_offset);                                     \
        int8_t *y = (int8_t *)(arena + p->out_offset);                                                  \
        if (!p->broadcast) {                                                                            \
            const uint32_t n = p->shape[0] * p->shape[1] * p->shape[2] * p->shape[3];                   \
            for (uint32_t i = 0; i < n; ++i) {                                                          \
                y[i] = (int8_t)one(p, x1[i], x2[i]);                                                    \
            }                                                                                           \
            return;                                                                                     \
        }                                                                                               \
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

BINARY_KERNEL(bench_kernel_add, add_one)
BINARY_KERNEL(bench_kernel_mul, mul_one)
