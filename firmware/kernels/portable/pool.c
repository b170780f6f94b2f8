/* AVERAGE_POOL_2D and MAX_POOL_2D on NHWC int8, input and output in one
 * quantization. The window is clipped to the input; the average divides by
 * the number of points inside it, rounding half away from zero.
 * Output pixels are written in order. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

static inline int clip_lo(int origin) { return origin < 0 ? -origin : 0; }
static inline int clip_hi(int origin, int size, int filter) {
    return size - origin < filter ? size - origin : filter;
}

void bench_kernel_average_pool_2d(const bench_pool_params_t *p, uint8_t *arena) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    const int channels = p->channels;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_h;
        const int fy_lo = clip_lo(y0), fy_hi = clip_hi(y0, p->in_h, p->filter_h);
        for (int ox = 0; ox < p->out_w; ++ox) {
            const int x0 = ox * p->stride_w - p->pad_w;
            const int fx_lo = clip_lo(x0), fx_hi = clip_hi(x0, p->in_w, p->filter_w);
            const int32_t count = (fy_hi - fy_lo) * (fx_hi - fx_lo);
            int8_t *dst = out + ((uint32_t)oy * p->out_w + ox) * channels;
            for (int c = 0; c < channels; ++c) {
                int32_t sum = 0;
                for (int fy = fy_lo; fy < fy_hi; ++fy) {
                    const int8_t *x = in + ((uint32_t)(y0 + fy) * p->in_w + x0 + fx_lo) * channels + c;
                    for (int fx = fx_lo; fx < fx_hi; ++fx) {
                        sum += *x;
                        x += channels;
                    }
                }
                int32_t avg = 0;
                if (count > 0) {
                    avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                }
                dst[c] = (int8_t)bench_clamp(avg, p->act_min, p->act_max);
            }
        }
    }
}

void bench_kernel_max_pool_2d(const bench_pool_params_t *p, uint8_t *arena) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    const int channels = p->channels;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_h;
        const int fy_lo = clip_lo(y0), fy_hi = clip_hi(y0, p->in_h, p->filter_h);
        for (int ox = 0; ox < p->out_w; ++ox) {
            const int x0 = ox * p->stride_w - p->pad_w;
            const int fx_lo = clip_lo(x0), fx_hi = clip_hi(x0, p->in_w, p->filter_w);
            int8_t *dst = out + ((uint32_t)oy * p->out_w + ox) * channels;
            for (int c = 0; c < channels; ++c) {
                int32_t max = -128;
                for (int fy = fy_lo; fy < fy_hi; ++fy) {
                    const int8_t *x = in + ((uint32_t)(y0 + fy) * p->in_w + x0 + fx_lo) * channels + c;
                    for (int fx = fx_lo; fx < fx_hi; ++fx) {
                        if (*x > max) max = *x;
                        x += channels;
                    }
                }
                dst[c] = (int8_t)bench_clamp(max, p->act_min, p->act_max);
            }
        }
    }
}
