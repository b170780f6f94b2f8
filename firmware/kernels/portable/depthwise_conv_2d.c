/* DEPTHWISE_CONV_2D, NHWC int8 activations, 1HWO int8 weights quantized per
 * output channel, out_c = in_c * depth_multiplier, output channel
 * c * depth_multiplier + m reading input channel c.
 *
 * With depth multiplier 1, four channels at a time: per tap four input bytes
 * and four weights at consecutive addresses. Windows inside the input start
 * from `bias_folded`, as in CONV_2D. Output pixels are written in order. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

static inline int first_tap(int origin, int dilation) {
    return origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
}

static inline int end_tap(int origin, int dilation, int size, int taps) {
    if (size - origin <= 0) return 0;
    int n = (size - origin + dilation - 1) / dilation;
    return n < taps ? n : taps;
}

static inline int8_t requantize(const bench_conv_params_t *p, int32_t acc, int oc) {
    int32_t v = bench_multiply_by_quantized_multiplier(acc, p->multiplier[oc], p->shift[oc]);
    return (int8_t)bench_clamp(v + p->output_offset, p->act_min, p->act_max);
}

void bench_kernel_depthwise_conv_2d(const bench_conv_params_t *p, uint8_t *arena) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    const int in_w = p->in_w, in_c = p->in_c, out_c = p->out_c, k_w = p->k_w, dm = p->depth_multiplier;
    const int x_step = p->dilation_w * in_c; /* bytes between horizontal taps */
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_h;
        const int ky_lo = first_tap(y0, p->dilation_h), ky_hi = end_tap(y0, p->dilation_h, p->in_h, p->k_h);
        for (int ox = 0; ox < p->out_w; ++ox) {
            const int x0 = ox * p->stride_w - p->pad_w;
            const int kx_lo = first_tap(x0, p->dilation_w), kx_hi = end_tap(x0, p->dilation_w, in_w, k_w);
            const int inside = ky_lo == 0 && ky_hi == p->k_h && kx_lo == 0 && kx_hi == k_w;
            const int32_t *bias = inside ? p->bias_folded : p->bias;
            const int32_t x_offset = inside ? 0 : p->input_offset;
            int8_t *dst = out + ((uint32_t)oy * p->out_w + ox) * out_c;
            int c = 0;
            if (dm == 1) {
                for (; c + 4 <= in_c; c += 4) {
                    int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
                    for (int ky = ky_lo; ky < ky_hi; ++ky) {
                        const int8_t *x = in + ((uint32_t)(y0 + ky * p->dilation_h) * in_w + x0 + kx_lo * p->dilation_w)
                                                   * in_c + c;
                        const int8_t *w = p->weights + ((uint32_t)ky * k_w + kx_lo) * out_c + c;
                        for (int kx = kx_lo; kx < kx_hi; ++kx) {
                            a0 += ((int32_t)x[0] + x_offset) * w[0];
                            a1 += ((int32_t)x[1] + x_offset) * w[1];
                            a2 += ((int32_t)x[2] + x_offset) * w[2];
                            a3 += ((int32_t)x[3] + x_offset) * w[3];
                            x += x_step;
                            w += out_c;
                        }
                    }
                    dst[c] = requantize(p, a0, c);
                    dst[c + 1] = requantize(p, a1, c + 1);
                    dst[c + 2] = requantize(p, a2, c + 2);
                    dst[c + 3] = requantize(p, a3, c + 3);
                }
            }
            for (; c < in_c; ++c) {
                for (int m = 0; m < dm; ++m) {
                    const int oc = c * dm + m;
                    int32_t acc = bias[oc];
                    for (int ky = ky_lo; ky < ky_hi; ++ky) {
                        const int8_t *x = in + ((uint32_t)(y0 + ky * p->dilation_h) * in_w + x0 + kx_lo * p->dilation_w)
                                                   * in_c + c;
                        const int8_t *w = p->weights + ((uint32_t)ky * k_w + kx_lo) * out_c + oc;
                        for (int kx = kx_lo; kx < kx_hi; ++kx) {
                            acc += ((int32_t)*x + x_offset) * *w;
                            x += x_step;
                            w += out_c;
                        }
                    }
                    dst[oc] = requantize(p, acc, oc);
                }
            }
        }
    }
}
