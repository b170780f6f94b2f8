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
    float *y = (float *)(void *)(arena + p->out_offset);
    /* backwards: the float output may start where the int8 input does */
    for (uint32_t i = p->count; i-- > 0;) {
        y[i] = (float)(p->scale * (double)((int32_t)x[i] - p->zero_point));
    }
}

/* The input rescaled to Q4.27, or the saturated answer when it lies outside
 * the range the rescale can hold. */
static inline int sigmoid_input(const bench_sigmoid_params_t *p, int8_t x, int32_t *q4) {
    const int32_t v = (int32_t)x - p->input_zero_point;
    if (v <= -p->input_range_radius) return -1;
    if (v >= p->input_range_radius) return 1;
    *q4 = bench_multiply_by_quantized_multiplier(v, p->input_multiplier, p->input_left_shift);
    return 0;
}

void bench_kernel_logistic(const bench_sigmoid_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t i = 0; i < p->count; ++i) {
        int32_t a = 0;
        const int saturated = sigmoid_input(p, x[i], &a);
        if (saturated != 0) {
            y[i] = saturated < 0 ? -128 : 127;
            continue;
        }
        int32_t q0; /* logistic(a) in Q0.31 */
        if (a == 0) {
            q0 = 1 << 30;
        } else {
            const int32_t abs_a = a > 0 ? a : -a;
            const int32_t positive = bench_one_over_one_plus_x(
                bench_exp_on_negative_values(-abs_a, SIGMOID_INPUT_INTEGER_BITS));
            q0 = a > 0 ? positive : INT32_MAX - positive;
        }
        y[i] = (int8_t)bench_clamp(bench_rounding_divide_by_pot(q0, 23) - 128, -128, 127);
    }
}

void bench_kernel_tanh(const bench_sigmoid_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t i = 0; i < p->count; ++i) {
        int32_t a = 0;
        const int saturated = sigmoid_input(p, x[i], &a);
        if (saturated != 0) {
            y[i] = saturated < 0 ? -128 : 127;
            continue;
        }
        int32_t q0 = 0; /* tanh(a) in Q0.31 */
        if (a != 0) {
            const int32_t neg_abs = a < 0 ? a : -a;
            /* exp(2 * neg_abs): the same raw value read with 5 integer bits */
            const int32_t t = bench_one_minus_x_over_one_plus_x(
                bench_exp_on_negative_values(neg_abs, SIGMOID_INPUT_INTEGER_BITS + 1));
            q0 = a < 0 ? -t : t;
        }
        y[i] = (int8_t)bench_clamp(bench_rounding_divide_by_pot(q0, 24), -128, 127);
    }
}
