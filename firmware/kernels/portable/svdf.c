/* SVDF with int8 input and output, int16 weights_time and state, as TFLM's
 * integer SVDF computes it (harness/ops/svdf.py has the algorithm and the
 * checks this code trusts: shapes, types, multiplier and shift ranges).
 * The state is [batches][n_filter][n_memory] int16, oldest step first, at a
 * 16-aligned arena offset, read and written through __builtin_memcpy (no
 * wide pointer into the byte arena); the runtime clears it before each inference.
 * Sums wrap modulo 2^32 in uint32_t, the bits TFLM's int32 sums leave. */
#include <stddef.h>
#include "bench_fixedpoint.h"
#include "bench_kernels.h"
#include "bench_mem.h"

void bench_kernel_svdf(const bench_svdf_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    uint8_t *state = arena + p->state_offset;
    const uint32_t units = p->n_filter / p->rank;
    for (uint32_t b = 0; b < p->batches; ++b) {
        const int8_t *xb = x + b * p->n_input;
        uint8_t *sb = state + 2u * b * p->n_filter * p->n_memory;
        /* one step back in time, then each filter's newest value:
         * (x - x_zero_point) . weights_feature, rescaled to the state's scale */
        for (uint32_t f = 0; f < p->n_filter; ++f) {
            uint8_t *row = sb + 2u * f * p->n_memory;
            for (uint32_t t = 1; t < p->n_memory; ++t) {
                bench_put_i16(row, t - 1u, bench_get_i16(row, t));
            }
            const int8_t *w = p->weights_feature + f * p->n_input;
            uint32_t acc = 0u;
            for (uint32_t i = 0; i < p->n_input; ++i) {
                acc += (uint32_t)(((int32_t)xb[i] + p->input_offset) * (int32_t)w[i]);
            }
            const int32_t v = bench_multiply_by_quantized_multiplier(bench_i32_from_bits(acc),
                                                                     p->feature_multiplier, p->feature_shift);
            bench_put_i16(row, p->n_memory - 1u, (int16_t)bench_clamp(v, INT16_MIN, INT16_MAX));
        }
        /* each unit: bias + its rank filters' state . weights_time, rescaled to the output */
        for (uint32_t u = 0; u < units; ++u) {
            uint32_t acc = p->bias != NULL ? (uint32_t)p->bias[u] : 0u;
            for (uint32_t f = u * p->rank; f < (u + 1u) * p->rank; ++f) {
                const uint8_t *row = sb + 2u * f * p->n_memory;
                const int16_t *w = p->weights_time + f * p->n_memory;
                for (uint32_t t = 0; t < p->n_memory; ++t) {
                    acc += (uint32_t)((int32_t)bench_get_i16(row, t) * (int32_t)w[t]);
                }
            }
            const int32_t v = bench_multiply_by_quantized_multiplier(bench_i32_from_bits(acc),
                                                                     p->output_multiplier, p->output_shift) +
                              p->output_offset;
            y[b * units + u] = (int8_t)bench_clamp(v, INT8_MIN, INT8_MAX);
        }
    }
}
