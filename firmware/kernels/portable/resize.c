/* RESIZE_BILINEAR (harness/ops/resize_bilinear.py): TFLite's int8 kernel in
 * 10-bit fixed point; the generator computed each row's and column's inputs
 * and weights. */
#include "bench_kernels.h"

void bench_kernel_resize_bilinear(const bench_resize_bilinear_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    const uint32_t c_n = p->channels, row = p->in_w * c_n;
    for (uint32_t b = 0; b < p->batches; ++b) {
        const int8_t *xb = x + b * p->in_h * row;
        for (uint32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t *r = p->rows + 3 * oy;
            const int64_t wy1 = r[2], wy0 = 1024 - r[2]; /* weights in 1/1024 */
            for (uint32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t *cl = p->cols + 3 * ox;
                const int64_t wx1 = cl[2], wx0 = 1024 - cl[2];
                const int8_t *p00 = xb + (uint32_t)r[0] * row + (uint32_t)cl[0] * c_n;
                const int8_t *p01 = xb + (uint32_t)r[0] * row + (uint32_t)cl[1] * c_n;
                const int8_t *p10 = xb + (uint32_t)r[1] * row + (uint32_t)cl[0] * c_n;
                const int8_t *p11 = xb + (uint32_t)r[1] * row + (uint32_t)cl[1] * c_n;
                for (uint32_t c = 0; c < c_n; ++c) {
                    /* a 20-bit fraction; rounded half away from zero, as TFLite's (double rounding) build */
                    const int64_t v = p00[c] * wy0 * wx0 + p10[c] * wy1 * wx0 + p01[c] * wy0 * wx1
                                      + p11[c] * wy1 * wx1;
                    const int64_t round = v > 0 ? (1 << 19) : -(1 << 19);
                    *y++ = (int8_t)((v + round) / (1 << 20));
                }
            }
        }
    }
}
