/* FULLY_CONNECTED 16x8: int16 activations with zero point 0, int8 symmetric
 * weights per tensor, int64 bias (TFLite's 16x8 quantization).
 * out[b][o] = clamp(M * (bias[o] + sum_i in[b][i] * w[o][i])), the sum in int64,
 * M applied by the int64 MultiplyByQuantizedMultiplier (bench_fixedpoint16.h).
 * Batch b's outputs are written after its inputs were read (the planner's rule
 * for FULLY_CONNECTED, in bytes). */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"
#include "bench_fixedpoint16.h"

void bench_kernel_fully_connected_16x8(const bench_fc16_params_t *p, uint8_t *arena) {
    const uint8_t *in = arena + p->in_offset;
    uint8_t *out = arena + p->out_offset;
    const uint32_t depth = p->in_depth;
    for (uint32_t b = 0; b < p->batches; ++b) {
        for (uint32_t o = 0; o < p->out_depth; ++o) {
            const int8_t *w = p->weights + o * depth;
            int64_t acc = 0;
            for (uint32_t i = 0; i < depth; ++i) {
                int16_t x;
                __builtin_memcpy(&x, in + 2u * (b * depth + i), sizeof x);
                acc += (int32_t)x * (int32_t)w[i];
            }
            if (p->bias != 0) {
                acc += p->bias[o];
            }
            const int32_t v = bench_multiply_by_quantized_multiplier64(acc, p->output_multiplier, p->output_shift);
            const int16_t y = (int16_t)bench_clamp(v, p->act_min, p->act_max);
            __builtin_memcpy(out + 2u * (b * p->out_depth + o), &y, sizeof y);
        }
    }
}
