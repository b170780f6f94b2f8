/* ARG_MAX and ARG_MIN of int8 along one axis, to int32 indices, as TFLM's
 * reference ArgMinMax: a strict comparison, so the first index wins a tie.
 * The generator (harness/ops/arg_min_max.py) checked the geometry; the int32
 * output is stored byte by byte (little-endian), so its offset need not be
 * 4-aligned. */
#include "bench_kernels.h"

static void put_i32(uint8_t *y, uint32_t v) {
    y[0] = (uint8_t)v;
    y[1] = (uint8_t)(v >> 8);
    y[2] = (uint8_t)(v >> 16);
    y[3] = (uint8_t)(v >> 24);
}

static void arg_min_max(const bench_arg_min_max_params_t *p, uint8_t *arena, int is_min) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    uint8_t *y = arena + p->out_offset;
    for (uint32_t o = 0; o < p->outer; ++o) {
        const int8_t *slab = x + o * p->axis_size * p->inner;
        for (uint32_t k = 0; k < p->inner; ++k) {
            int8_t best = slab[k];
            uint32_t at = 0;
            for (uint32_t i = 1; i < p->axis_size; ++i) {
                const int8_t v = slab[i * p->inner + k];
                if (is_min ? v < best : v > best) {
                    best = v;
                    at = i;
                }
            }
            put_i32(y, at);
            y += 4;
        }
    }
}

void bench_kernel_arg_max(const bench_arg_min_max_params_t *p, uint8_t *arena) { arg_min_max(p, arena, 0); }

void bench_kernel_arg_min(const bench_arg_min_max_params_t *p, uint8_t *arena) { arg_min_max(p, arena, 1); }
