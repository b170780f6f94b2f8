/* The per-element arithmetic of TFLite's quantized ADD and MUL, shared by the
 * kernels whose parameter structs carry its fields (bench_binary_params_t:
 * binary.c, binary_int16.c; bench_arith_params_t: arith.c, whose SUB and
 * SQUARED_DIFFERENCE rescale their inputs the same way). */
#ifndef BENCH_BINARY_ONE_H
#define BENCH_BINARY_ONE_H

#include "bench_fixedpoint.h"

/* Input n (1 or 2) of p's operator: offset, shifted up by left_shift (the
 * headroom) and rescaled to the common scale of the two inputs. */
#define BENCH_RESCALED_INPUT(p, x, n)                                                                  \
    bench_multiply_by_quantized_multiplier(((x) + (p)->input##n##_offset) * (1 << (p)->left_shift),    \
                                           (p)->input##n##_multiplier, (p)->input##n##_shift)

/* add_one and mul_one(p, a, b) for a parameter struct type: the output value
 * of one element, clamped to the fused activation's range. */
#define BENCH_DEFINE_ADD_MUL_ONE(params_t)                                                             \
    static inline int32_t add_one(const params_t *p, int32_t a, int32_t b) {                           \
        const int32_t sa = BENCH_RESCALED_INPUT(p, a, 1);                                              \
        const int32_t sb = BENCH_RESCALED_INPUT(p, b, 2);                                              \
        const int32_t v = bench_multiply_by_quantized_multiplier(sa + sb, p->output_multiplier,        \
                                                                 p->output_shift);                     \
        return bench_clamp(v + p->output_offset, p->act_min, p->act_max);                              \
    }                                                                                                  \
    static inline int32_t mul_one(const params_t *p, int32_t a, int32_t b) {                           \
        const int32_t v = bench_multiply_by_quantized_multiplier(                                      \
            (a + p->input1_offset) * (b + p->input2_offset), p->output_multiplier, p->output_shift);   \
        return bench_clamp(v + p->output_offset, p->act_min, p->act_max);                              \
    }

#endif /* BENCH_BINARY_ONE_H */
