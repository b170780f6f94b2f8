/* CONV_2D (weights OHWI) and DEPTHWISE_CONV_2D (weights 1HWO) 16x8: NHWC int16
 * activations with zero point 0, int8 weights per output channel (zero point
 * 0), int64 bias (TFLite's 16x8 quantization).
 * out[c] = clamp(M_c * (bias[c] + sum in * w)), the sum in int64 and M_c applied
 * by the int64 MultiplyByQuantizedMultiplier (bench_fixedpoint16.h). Taps
 * outside the input are skipped: with zero point 0 that is zero padding.
 * Output pixels are written in order, each after its window was read (the
 * planner's rule for these operators, scaled to 2-byte elements). */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"
#include "bench_fixedpoint16.h"
#include "bench_mem.h"

static inline void put(const bench_conv16_params_t *p, uint8_t *base, uint32_t i, int64_t acc, int oc) {
    if (p->bias != 0) {
        acc += p->bias[oc];
    }
    const int32_t v = bench_multiply_by_quantized_multiplier64(acc, p->multiplier[oc], p->shift[oc]);
    bench_put_i16(base, i, (int16_t)bench_clamp(v, p->act_min, p->act_max));
}

/* The input row (or column) of tap k of a window starting at `origin`, or -1 outside the input. */
static inline int tap(int origin, int k, int dilation, int size) {
    const int v = origin + k * dilation;
    return v >= 0 && v < size ? v : -1;
}

void bench_kernel_conv_2d_16x8(const bench_conv16_params_t *p, uint8_t *arena) {
    const uint8_t *in = arena + p->in_offset;
    uint8_t *out = arena + p->out_offset;
    const int in_c = p->in_c;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_h;
        for (int ox = 0; ox < p->out_w; ++ox) {
            const int x0 = ox * p->stride_w - p->pad_w;
            for (int oc = 0; oc < p->out_c; ++oc) {
                int64_t acc = 0;
                for (int ky = 0; ky < p->k_h; ++ky) {
                    const int iy = tap(y0, ky, p->dilation_h, p->in_h);
                    if (iy < 0) continue;
                    for (int kx = 0; kx < p->k_w; ++kx) {
                        const int ix = tap(x0, kx, p->dilation_w, p->in_w);
                        if (ix < 0) continue;
                        const uint32_t pixel = ((uint32_t)iy * p->in_w + (uint32_t)ix) * (uint32_t)in_c;
                        const int8_t *w = p->weights + (((uint32_t)oc * p->k_h + (uint32_t)ky) * p->k_w + (uint32_t)kx) * (uint32_t)in_c;
                        for (int ic = 0; ic < in_c; ++ic) {
                            acc += bench_get_i16(in, pixel + (uint32_t)ic) * (int32_t)w[ic];
                        }
                    }
                }
                put(p, out, ((uint32_t)oy * p->out_w + (uint32_t)ox) * p->out_c + (uint32_t)oc, acc, oc);
            }
        }
    }
}

void bench_kernel_depthwise_conv_2d_16x8(const bench_conv16_params_t *p, uint8_t *arena) {
    const uint8_t *in = arena + p->in_offset;
    uint8_t *out = arena + p->out_offset;
    const int in_c = p->in_c, out_c = p->out_c, dm = p->depth_multiplier;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_h;
        for (int ox = 0; ox < p->out_w; ++ox) {
            const int x0 = ox * p->stride_w - p->pad_w;
            for (int oc = 0; oc < out_c; ++oc) {
                const int ic = oc / dm;
                int64_t acc = 0;
                for (int ky = 0; ky < p->k_h; ++ky) {
                    const int iy = tap(y0, ky, p->dilation_h, p->in_h);
                    if (iy < 0) continue;
                    for (int kx = 0; kx < p->k_w; ++kx) {
                        const int ix = tap(x0, kx, p->dilation_w, p->in_w);
                        if (ix < 0) continue;
                        const uint32_t i = ((uint32_t)iy * p->in_w + (uint32_t)ix) * (uint32_t)in_c + (uint32_t)ic;
                        const int8_t w = p->weights[((uint32_t)ky * p->k_w + (uint32_t)kx) * (uint32_t)out_c + (uint32_t)oc];
                        acc += bench_get_i16(in, i) * (int32_t)w;
                    }
                }
                put(p, out, ((uint32_t)oy * p->out_w + (uint32_t)ox) * (uint32_t)out_c + (uint32_t)oc, acc, oc);
            }
        }
    }
}
