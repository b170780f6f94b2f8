/* LEAKY_RELU and HARD_SWISH, int8 in and out, each tensor in its own
 * quantization; TFLite's int8 reference formulas. Each output element is
 * written after its input element was read, so they run in place. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

#define INT16_MIN_ (-32768)
#define INT16_MAX_ 32767

void bench_kernel_leaky_relu(const bench_leaky_relu_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t i = 0; i < p->count; ++i) {
        /* x >= 0: r = s_x x; x < 0: r = alpha s_x x */
        const int32_t v = (int32_t)x[i] - p->input_zero_point;
        const int32_t out = v >= 0
            ? bench_multiply_by_quantized_multiplier(v, p->identity_multiplier, p->identity_shift)
            : bench_multiply_by_quantized_multiplier(v, p->alpha_multiplier, p->alpha_shift);
        y[i] = (int8_t)bench_clamp(out + p->output_zero_point, -128, 127);
    }
}

/* a * b / 2^15 of two int16 values, rounded to nearest with halves away from
 * zero, saturating INT16_MIN^2 (gemmlowp's int16 rounding doubling high multiply). */
static inline int32_t rounding_high_mul16(int32_t a, int32_t b) {
    if (a == INT16_MIN_ && b == INT16_MIN_) return INT16_MAX_;
    const int32_t ab = a * b;
    return (ab + (ab >= 0 ? (1 << 14) : 1 - (1 << 14))) / (1 << 15); /* C division truncates toward zero */
}

/* a * b / 2^15 truncated toward zero, saturating INT16_MIN^2. */
static inline int32_t truncating_high_mul16(int32_t a, int32_t b) {
    if (a == INT16_MIN_ && b == INT16_MIN_) return INT16_MAX_;
    return (a * b) / (1 << 15);
}

/* x * 2^amount saturated to int16; amount in [0, 15]. */
static inline int32_t saturating_left_shift16(int32_t x, int amount) {
    return bench_clamp(x * (1 << amount), INT16_MIN_, INT16_MAX_);
}

/* x relu6(x + 3) / 6. The input is taken at scale s_x / 2^7 (int16); the
 * factor relu6(x + 3) / 6 is computed at scale 3 / 2^15 into [-1, 1) and
 * mapped to [0, 1) as a Q0.15 value, then multiplied in. */
void bench_kernel_hard_swish(const bench_hard_swish_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t i = 0; i < p->count; ++i) {
        const int32_t hires = ((int32_t)x[i] - p->input_zero_point) * (1 << 7); /* |.| <= 255 * 2^7 */
        const int32_t on_output_scale = rounding_high_mul16(hires, p->output_multiplier);
        int32_t reluish = hires;
        if (p->reluish_shift > 0) reluish = saturating_left_shift16(reluish, p->reluish_shift - 1);
        reluish = rounding_high_mul16(reluish, p->reluish_multiplier);
        if (p->reluish_shift > 0) reluish = saturating_left_shift16(reluish, 1);
        if (p->reluish_shift < 0) reluish = bench_rounding_divide_by_pot(reluish, -p->reluish_shift);
        reluish = (reluish + (1 << 15)) >> 1; /* [-1, 1) to [0, 1): non-negative, so >> is a division */
        const int32_t out = bench_rounding_divide_by_pot(truncating_high_mul16(reluish, on_output_scale), -p->output_shift);
        y[i] = (int8_t)bench_clamp(out + p->output_zero_point, -128, 127);
    }
}
