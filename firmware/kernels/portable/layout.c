/* Kernels that rearrange bytes without arithmetic: TRANSPOSE, SLICE and
 * STRIDED_SLICE (one strided copy), GATHER with constant indices, and
 * RESIZE_NEAREST_NEIGHBOR (source rows and columns computed by the generator).
 * Every parameter was validated and computed by the generator (harness/ops/
 * layout modules): counts and steps keep every read inside the input. */
#include "bench_kernels.h"

void bench_kernel_strided_copy(const bench_strided_copy_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    const uint32_t *n = p->count;
    const int32_t *s = p->step;
    /* each partial sum is the input position of an output element whose inner
     * indices are 0, so it stays in 0..input bytes-1 and never overflows */
    for (uint32_t i0 = 0; i0 < n[0]; ++i0) {
        const int32_t o0 = (int32_t)p->base + (int32_t)i0 * s[0];
        for (uint32_t i1 = 0; i1 < n[1]; ++i1) {
            const int32_t o1 = o0 + (int32_t)i1 * s[1];
            for (uint32_t i2 = 0; i2 < n[2]; ++i2) {
                const int32_t o2 = o1 + (int32_t)i2 * s[2];
                for (uint32_t i3 = 0; i3 < n[3]; ++i3) {
                    const int32_t o3 = o2 + (int32_t)i3 * s[3];
                    for (uint32_t i4 = 0; i4 < n[4]; ++i4) {
                        const int8_t *src = x + (o3 + (int32_t)i4 * s[4]);
                        if (s[5] == 1) {
                            for (uint32_t i5 = 0; i5 < n[5]; ++i5) *y++ = src[i5];
                        } else {
                            for (uint32_t i5 = 0; i5 < n[5]; ++i5) *y++ = src[(int32_t)i5 * s[5]];
                        }
                    }
                }
            }
        }
    }
}

void bench_kernel_gather(const bench_gather_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t b = 0; b < p->batches; ++b) {
        const int32_t *coords = p->coords + b * p->n_coords;
        for (uint32_t o = 0; o < p->outer; ++o) {
            const int8_t *slab = x + (b * p->outer + o) * p->axis_size * p->inner;
            for (uint32_t i = 0; i < p->n_coords; ++i) {
                /* the generator checked 0 <= coords[i] < axis_size */
                const int8_t *src = slab + (uint32_t)coords[i] * p->inner;
                for (uint32_t k = 0; k < p->inner; ++k) *y++ = src[k];
            }
        }
    }
}

void bench_kernel_resize_nearest_neighbor(const bench_resize_nn_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    const uint32_t c = p->channels;
    for (uint32_t b = 0; b < p->batches; ++b) {
        const int8_t *xb = x + b * p->in_h * p->in_w * c;
        for (uint32_t oy = 0; oy < p->out_h; ++oy) {
            const int8_t *row = xb + p->rows[oy] * p->in_w * c;
            for (uint32_t ox = 0; ox < p->out_w; ++ox) {
                const int8_t *src = row + p->cols[ox] * c;
                for (uint32_t k = 0; k < c; ++k) *y++ = src[k];
            }
        }
    }
}
