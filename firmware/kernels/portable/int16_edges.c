/* QUANTIZE and DEQUANTIZE of int16 activations (TFLite's 16x8 quantization):
 * int8 <-> int16 and int16 -> int16 requantization, FLOAT32 -> int16 and
 * int16 -> FLOAT32. Each is TFLM's reference: Requantize (subtract the input
 * zero point, MultiplyByQuantizedMultiplier, add the output zero point, clamp
 * to the output type), AffineQuantize and Dequantize. */
#include "bench_kernels.h"
#include "bench_mem.h"
#include "bench_fixedpoint.h"

static inline int32_t requantize_one(const bench_requantize_params_t *p, int32_t x) {
    const int32_t v = bench_multiply_by_quantized_multiplier(x - p->input_zero_point, p->multiplier, p->shift);
    return bench_clamp(v + p->output_zero_point, p->act_min, p->act_max);
}

/* int8 -> int16: the output is twice as wide, so it is written backwards; the
 * planner never lets it share the input's bytes (harness/firmware/planner.py). */
void bench_kernel_requantize_int8_to_int16(const bench_requantize_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    uint8_t *y = arena + p->out_offset;
    for (uint32_t i = p->count; i-- > 0;) {
        bench_put_i16(y, i, (int16_t)requantize_one(p, x[i]));
    }
}

/* int16 -> int8: element i is written after input element i was read, at or
 * below its first byte, so it runs in place. */
void bench_kernel_requantize_int16_to_int8(const bench_requantize_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t i = 0; i < p->count; ++i) {
        y[i] = (int8_t)requantize_one(p, bench_get_i16(x, i));
    }
}

void bench_kernel_requantize_int16(const bench_requantize_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    uint8_t *y = arena + p->out_offset;
    for (uint32_t i = 0; i < p->count; ++i) {
        bench_put_i16(y, i, (int16_t)requantize_one(p, bench_get_i16(x, i)));
    }
}

/* AffineQuantize to int16, as bench_kernel_quantize_from_float computes it for
 * int8 (quantize_edges.c): v / scale in float32, rounded half away from zero,
 * converted as x86 does (NaN and values outside int32 give INT32_MIN), plus
 * the zero point with wrapping, clamped to int16. */
void bench_kernel_quantize_from_float_to_int16(const bench_dequantize_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    uint8_t *y = arena + p->out_offset;
    const float scale = (float)p->scale;
    for (uint32_t i = 0; i < p->count; ++i) {
        float v;
        __builtin_memcpy(&v, x + 4u * i, sizeof v);
        const float q = v / scale;
        int32_t r = INT32_MIN;
        if (q >= -2147483648.0f && q < 2147483648.0f) { /* false for NaN */
            r = (int32_t)q;
            const float frac = q - (float)r;
            if (frac >= 0.5f) {
                r = r == INT32_MAX ? INT32_MIN : r + 1;
            } else if (frac <= -0.5f) {
                r -= 1;
            }
        }
        const int32_t s = (int32_t)((uint32_t)r + (uint32_t)p->zero_point);
        bench_put_i16(y, i, (int16_t)bench_clamp(s, -32768, 32767));
    }
}

/* int16 -> FLOAT32: scale * (q - zero_point) in double, stored as float32;
 * backwards, so the output may start where the input does. */
void bench_kernel_dequantize_int16(const bench_dequantize_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    uint8_t *y = arena + p->out_offset;
    for (uint32_t i = p->count; i-- > 0;) {
        const float v = (float)(p->scale * (double)(bench_get_i16(x, i) - p->zero_point));
        __builtin_memcpy(y + 4u * i, &v, sizeof v);
    }
}
