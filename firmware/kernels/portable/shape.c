/* Kernels that move bytes: RESHAPE (usually nothing to do, the planner gives
 * the output the input's buffer), CONCATENATION, PAD, and MEAN over the
 * spatial axes. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

static void copy_bytes(uint8_t *dst, const uint8_t *src, uint32_t n) {
    if (dst == src) return;
    for (uint32_t i = 0; i < n; ++i) dst[i] = src[i];
}

void bench_kernel_reshape(const bench_copy_params_t *p, uint8_t *arena) {
    copy_bytes(arena + p->out_offset, arena + p->in_offset, p->bytes);
}

void bench_kernel_concatenation(const bench_concat_params_t *p, uint8_t *arena) {
    uint8_t *y = arena + p->out_offset;
    for (uint32_t o = 0; o < p->outer; ++o) {
        for (uint32_t k = 0; k < p->n_inputs; ++k) {
            const uint32_t n = p->chunk_bytes[k];
            copy_bytes(y, arena + p->in_offsets[k] + o * n, n);
            y += n;
        }
    }
}

void bench_kernel_pad(const bench_pad_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    const uint32_t *is = p->in_shape, *os = p->out_shape, *b = p->before;
    const uint32_t total = os[0] * os[1] * os[2] * os[3];
    for (uint32_t i = 0; i < total; ++i) y[i] = p->pad_value;
    for (uint32_t i0 = 0; i0 < is[0]; ++i0) {
        for (uint32_t i1 = 0; i1 < is[1]; ++i1) {
            for (uint32_t i2 = 0; i2 < is[2]; ++i2) {
                int8_t *dst = y + (((i0 + b[0]) * os[1] + i1 + b[1]) * os[2] + i2 + b[2]) * os[3] + b[3];
                const int8_t *src = x + ((i0 * is[1] + i1) * is[2] + i2) * is[3];
                for (uint32_t i3 = 0; i3 < is[3]; ++i3) dst[i3] = src[i3];
            }
        }
    }
}

void bench_kernel_mean(const bench_mean_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    const uint32_t n = p->h * p->w;
    for (uint32_t b = 0; b < p->batches; ++b) {
        const int8_t *xb = x + b * n * p->channels;
        for (uint32_t c = 0; c < p->channels; ++c) {
            uint32_t sum = 0; /* mod 2^32, as TFLite's int32 sum ends up (see bench_dot.h) */
            for (uint32_t i = 0; i < n; ++i) sum += (uint32_t)((int32_t)xb[i * p->channels + c] - p->input_zero_point);
            /* the multiplier already holds 1 / (h * w) */
            const int32_t v = bench_multiply_by_quantized_multiplier(bench_i32_from_bits(sum), p->multiplier, p->shift);
            y[b * p->channels + c] = (int8_t)bench_clamp(v + p->output_zero_point, -128, 127);
        }
    }
}
