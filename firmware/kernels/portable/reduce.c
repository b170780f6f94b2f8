/* MEAN over any axes and SUM (harness/ops/reduce.py), and CONCATENATION with
 * constant inputs (harness/ops/concatenation.py).
 *
 * The generator orders the input's dims as the output's (kept) ones, then the
 * summed ones, each with its input stride, so one odometer walks the outputs
 * and another the elements summed into each; no scratch buffer. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

/* One step of the odometer over dims [first, 4]: the input offset advances by
 * the stride of the fastest dim that did not wrap. Unsigned arithmetic: the
 * offset goes back by count * stride on a wrap, modulo 2^32, and comes out exact. */
static uint32_t odometer_step(uint32_t *index, const uint32_t *count, const uint32_t *stride, uint32_t first,
                              uint32_t offset) {
    for (uint32_t d = 5; d-- > first;) {
        offset += stride[d];
        if (++index[d] < count[d]) return offset;
        offset -= stride[d] * count[d];
        index[d] = 0;
    }
    return offset;
}

void bench_kernel_reduce_sum(const bench_reduce_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    uint32_t outer_index[5] = {0, 0, 0, 0, 0};
    uint32_t base = 0;
    for (uint32_t o = 0; o < p->outputs; ++o) {
        uint32_t inner_index[5] = {0, 0, 0, 0, 0};
        uint32_t at = base;
        uint32_t sum = 0; /* mod 2^32, as TFLite's int32 sum ends up (see bench_dot.h) */
        for (uint32_t r = 0; r < p->reduced; ++r) {
            sum += (uint32_t)((int32_t)x[at] - p->input_zero_point);
            at = odometer_step(inner_index, p->count, p->stride, p->kept, at);
        }
        /* MEAN: the multiplier already holds 1 / reduced */
        const int32_t v = bench_multiply_by_quantized_multiplier(bench_i32_from_bits(sum), p->multiplier, p->shift);
        y[o] = (int8_t)bench_clamp(v + p->output_zero_point, -128, 127);
        /* the outer odometer runs over dims [0, kept): give it a view that ends there */
        for (uint32_t d = p->kept; d-- > 0;) {
            base += p->stride[d];
            if (++outer_index[d] < p->count[d]) break;
            base -= p->stride[d] * p->count[d];
            outer_index[d] = 0;
        }
    }
}

void bench_kernel_concatenation_constant(const bench_concat_const_params_t *p, uint8_t *arena) {
    uint8_t *y = arena + p->out_offset;
    for (uint32_t o = 0; o < p->outer; ++o) {
        for (uint32_t k = 0; k < p->n_inputs; ++k) {
            const uint32_t n = p->chunk_bytes[k];
            const uint8_t *src = p->in_flash[k] ? (const uint8_t *)p->consts + p->in_offsets[k] + o * n
                                                : arena + p->in_offsets[k] + o * n;
            for (uint32_t i = 0; i < n; ++i) y[i] = src[i];
            y += n;
        }
    }
}
