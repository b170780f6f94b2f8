/* QUANTIZE at the graph's edges: FLOAT32 -> int8 and UINT8 -> int8 on the
 * input, int8 -> UINT8 on the output. Each output element is written after its
 * input element was read (and no later than its input's first byte), so they
 * run in place. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

/* TFLM's AffineQuantize as the host interpreter computes it: v / scale in
 * float32, std::round (half away from zero), static_cast<int32_t> (x86's
 * cvttss2si: NaN and values outside int32 give INT32_MIN), + zero point
 * (wrapping), clamp to int8. The params are DEQUANTIZE's: `scale` holds the
 * float32 output scale exactly. */
void bench_kernel_quantize_from_float(const bench_dequantize_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    int8_t *y = (int8_t *)(arena + p->out_offset);
    const float scale = (float)p->scale;
    for (uint32_t i = 0; i < p->count; ++i) {
        float v;
        __builtin_memcpy(&v, x + 4u * i, sizeof v);
        const float q = v / scale;
        int32_t r = INT32_MIN;
        if (q >= -2147483648.0f && q < 2147483648.0f) { /* false for NaN */
            r = (int32_t)q; /* truncated toward zero; exact */
            const float frac = q - (float)r; /* exact: |q| < 2^31 and r shares its high bits */
            if (frac >= 0.5f) {
                r = r == INT32_MAX ? INT32_MIN : r + 1; /* 2^31 after rounding: out of int32 */
            } else if (frac <= -0.5f) {
                r -= 1; /* q > -2^31 - 1/2 with q >= -2^31: r > INT32_MIN here */
            }
        }
        const int32_t s = (int32_t)((uint32_t)r + (uint32_t)p->zero_point);
        y[i] = (int8_t)bench_clamp(s, -128, 127);
    }
}

/* Requantize<uint8_t, int8_t>: the int8 requantize with the input read as uint8. */
void bench_kernel_requantize_from_uint8(const bench_requantize_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t i = 0; i < p->count; ++i) {
        int32_t v = bench_multiply_by_quantized_multiplier((int32_t)x[i] - p->input_zero_point, p->multiplier, p->shift);
        y[i] = (int8_t)bench_clamp(v + p->output_zero_point, p->act_min, p->act_max);
    }
}

/* Requantize<int8_t, uint8_t>: the output clamped to 0..255 (act_min, act_max) and stored as uint8. */
void bench_kernel_requantize_to_uint8(const bench_requantize_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    uint8_t *y = arena + p->out_offset;
    for (uint32_t i = 0; i < p->count; ++i) {
        int32_t v = bench_multiply_by_quantized_multiplier((int32_t)x[i] - p->input_zero_point, p->multiplier, p->shift);
        y[i] = (uint8_t)bench_clamp(v + p->output_zero_point, p->act_min, p->act_max);
    }
}
