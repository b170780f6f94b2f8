/* Elementwise int8 kernels: QUANTIZE (int8 -> int8), RELU, RELU6, LOGISTIC,
 * TANH and DEQUANTIZE (int8 -> float32). Each output element is written after
 * its input element was read, so they run in place. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

#define SIGMOID_INPUT_INTEGER_BITS 4

void bench_kernel_requantize(const bench_requantize_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    if (!p->rescale) {
        for (uint32_t i = 0; i < p->count; ++i) {
            y[i] = (int8_t)bench_clamp(x[i], p->act_min, p->act_max);
        }
        return;
    }
    for (uint32_t i = 0; i < p->count; ++i) {
        int32_t v = bench_multiply_by_quantized_multiplier((int32_t)x[i] - p->input_zero_point, p->multiplier, p->shift);
        y[i] = (int8_t)bench_clamp(v + p->output_zero_point, p->act_min, p->act_max);
    }
}

void bench_kernel_dequantize(const bench_dequantize_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    uint8_t *y = arena + p->out_offset;
    /* backwards: the float output may start where the int8 input does. Stored
     * with memcpy, never through a float pointer into the byte arena (an
     * aliasing and alignment violation); __builtin_ so that -ffreestanding
     * still compiles it to one store. */
    for (uint32_t i = p->count; i-- > 0;) {
        const float v = (float)(p->scale * (double)((int32_t)x[i] - p->zero_point));
        __builtin_memcpy(y + 4u * i, &v, sizeof v);
    }
}

/* logistic(a) for a in Q4.27, as int8 with scale 1/256 and zero point -128. */
static inline int8_t logistic_of(int32_t a) {
    int32_t q0 = 1 << 30; /* logistic(a) in Q0.31; 1/2 at a = 0 */
    if (a != 0) {
        const int32_t abs_a = a > 0 ? a : -a;
        const int32_t positive = bench_one_over_one_plus_x(
            bench_exp_on_negative_values(-abs_a, SIGMOID_INPUT_INTEGER_BITS));
        q0 = a > 0 ? positive : INT32_MAX - positive;
    }
    return (int8_t)bench_clamp(bench_rounding_divide_by_pot(q0, 23) - 128, -128, 127);
}

/* tanh(a) for a in Q4.27, as int8 with scale 1/128 and zero point 0. */
static inline int8_t tanh_of(int32_t a) {
    int32_t q0 = 0; /* tanh(a) in Q0.31 */
    if (a != 0) {
        const int32_t neg_abs = a < 0 ? a : -a;
        /* exp(2 * neg_abs): the same raw value read with 5 integer bits */
        const int32_t t = bench_one_minus_x_over_one_plus_x(
            bench_exp_on_negative_values(neg_abs, SIGMOID_INPUT_INTEGER_BITS + 1));
        q0 = a < 0 ? -t : t;
    }
    return (int8_t)bench_clamp(bench_rounding_divide_by_pot(q0, 24), -128, 127);
}

/* Each input rescaled to Q4.27 and passed to `of`, or the saturated answer
 * when it lies outside the range the rescale can hold. */
static inline void sigmoid_kernel(const bench_sigmoid_params_t *p, uint8_t *arena, int8_t (*of)(int32_t)) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t i = 0; i < p->count; ++i) {
        const int32_t v = (int32_t)x[i] - p->input_zero_point;
        if (v <= -p->input_range_radius) {
            y[i] = -128;
        } else if (v >= p->input_range_radius) {
            y[i] = 127;
        } else {
            y[i] = of(bench_multiply_by_quantized_multiplier(v, p->input_multiplier, p->input_left_shift));
        }
    }
}

void bench_kernel_logistic(const bench_sigmoid_params_t *p, uint8_t *arena) {
    sigmoid_kernel(p, arena, logistic_of);
}

void bench_kernel_tanh(const bench_sigmoid_params_t *p, uint8_t *arena) {
    sigmoid_kernel(p, arena, tanh_of);
}
