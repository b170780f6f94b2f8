/* AVERAGE_POOL_2D and MAX_POOL_2D on NHWC int8, input and output in one
 * quantization. The window is clipped to the input; the average divides by
 * the number of points inside it, rounding half away from zero.
 * Output pixels are written in order. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"
#include "bench_window.h"

/* One kernel for both: `average` is a constant at each call, so each gets its own loop. */
static inline void pool(const bench_pool_params_t *p, uint8_t *arena, int average) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    const int channels = p->channels;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_h;
        const int fy_lo = bench_first_tap(y0, 1), fy_hi = bench_end_tap(y0, 1, p->in_h, p->filter_h);
        for (int ox = 0; ox < p->out_w; ++ox) {
            const int x0 = ox * p->stride_w - p->pad_w;
            const int fx_lo = bench_first_tap(x0, 1), fx_hi = bench_end_tap(x0, 1, p->in_w, p->filter_w);
            const int32_t count = (fy_hi - fy_lo) * (fx_hi - fx_lo);
            int8_t *dst = out + ((uint32_t)oy * p->out_w + ox) * channels;
            for (int c = 0; c < channels; ++c) {
                int32_t acc = average ? 0 : -128; /* the sum, or the maximum */
                for (int fy = fy_lo; fy < fy_hi; ++fy) {
                    const int8_t *x = in + ((uint32_t)(y0 + fy) * p->in_w + x0 + fx_lo) * channels + c;
                    for (int fx = fx_lo; fx < fx_hi; ++fx) {
                        if (average) {
                            acc += *x;
                        } else if (*x > acc) {
                            acc = *x;
                        }
                        x += channels;
                    }
                }
                if (average) {
                    acc = count <= 0 ? 0 : acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                dst[c] = (int8_t)bench_clamp(acc, p->act_min, p->act_max);
            }
        }
    }
}

void bench_kernel_average_pool_2d(const bench_pool_params_t *p, uint8_t *arena) {
    pool(p, arena, 1);
}

void bench_kernel_max_pool_2d(const bench_pool_params_t *p, uint8_t *arena) {
    pool(p, arena, 0);
}
