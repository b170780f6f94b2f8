/* DEPTHWISE_CONV_2D, NHWC int8 activations, 1HWO int8 weights quantized per
 * output channel, out_c = in_c * depth_multiplier, output channel
 * c * depth_multiplier + m reading input channel c.
 *
 * With depth multiplier 1, four channels at a time: per tap four input bytes
 * and four weights at consecutive addresses. Windows inside the input start
 * from `bias_folded`, as in CONV_2D, and sums are taken modulo 2^32 in
 * uint32_t (see bench_dot.h). Output pixels are written in order.
 * Parameters are copied to locals first: stores through the int8 output
 * pointer may alias anything, and would otherwise force the compiler to
 * reload them after every store. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"
#include "bench_window.h"

/* One output value from its sum (mod 2^32). */
static inline int8_t requantize(uint32_t acc, int32_t multiplier, int shift, int32_t out_offset, int32_t act_min,
                                int32_t act_max) {
    const int32_t v = bench_multiply_by_quantized_multiplier(bench_i32_from_bits(acc), multiplier, shift);
    return (int8_t)bench_clamp(v + out_offset, act_min, act_max);
}

void bench_kernel_depthwise_conv_2d(const bench_conv_params_t *p, uint8_t *arena) {
    const int8_t *const in = (const int8_t *)(arena + p->in_offset);
    int8_t *const out = (int8_t *)(arena + p->out_offset);
    const int8_t *const weights = p->weights;
    const int32_t *const mult = p->multiplier;
    const int8_t *const shift = p->shift;
    const int in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, out_h = p->out_h, out_w = p->out_w;
    const int out_c = p->out_c, k_h = p->k_h, k_w = p->k_w, dm = p->depth_multiplier;
    const int stride_h = p->stride_h, stride_w = p->stride_w, dil_h = p->dilation_h, dil_w = p->dilation_w;
    const int pad_h = p->pad_h, pad_w = p->pad_w;
    const int32_t in_offset = p->input_offset, out_offset = p->output_offset;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    const int x_step = dil_w * in_c;   /* bytes between horizontal taps */
    const int row_step = dil_h * in_w * in_c;
    for (int oy = 0; oy < out_h; ++oy) {
        const int y0 = oy * stride_h - pad_h;
        const int ky_lo = bench_first_tap(y0, dil_h), ky_hi = bench_end_tap(y0, dil_h, in_h, k_h);
        for (int ox = 0; ox < out_w; ++ox) {
            const int x0 = ox * stride_w - pad_w;
            const int kx_lo = bench_first_tap(x0, dil_w), kx_hi = bench_end_tap(x0, dil_w, in_w, k_w);
            const int inside = ky_lo == 0 && ky_hi == k_h && kx_lo == 0 && kx_hi == k_w;
            const int32_t *const bias = inside ? p->bias_folded : p->bias;
            const int32_t x_offset = inside ? 0 : in_offset;
            const int8_t *const window = in + ((y0 + ky_lo * dil_h) * in_w + x0 + kx_lo * dil_w) * in_c;
            const int8_t *const wwindow = weights + (ky_lo * k_w + kx_lo) * out_c;
            const int rows = ky_hi - ky_lo, cols = kx_hi - kx_lo;
            int8_t *const dst = out + (oy * out_w + ox) * out_c;
            int c = 0;
            if (dm == 1) {
                for (; c + 4 <= in_c; c += 4) {
                    uint32_t a0 = (uint32_t)bias[c], a1 = (uint32_t)bias[c + 1], a2 = (uint32_t)bias[c + 2],
                             a3 = (uint32_t)bias[c + 3];
                    const int8_t *xr = window + c;
                    const int8_t *wr = wwindow + c;
                    for (int r = 0; r < rows; ++r) {
                        const int8_t *x = xr;
                        const int8_t *w = wr;
                        for (int k = 0; k < cols; ++k) {
                            a0 += (uint32_t)(((int32_t)x[0] + x_offset) * w[0]);
                            a1 += (uint32_t)(((int32_t)x[1] + x_offset) * w[1]);
                            a2 += (uint32_t)(((int32_t)x[2] + x_offset) * w[2]);
                            a3 += (uint32_t)(((int32_t)x[3] + x_offset) * w[3]);
                            x += x_step;
                            w += out_c;
                        }
                        xr += row_step;
                        wr += k_w * out_c;
                    }
                    /* written out rather than looped over an array: keeps the four sums in registers */
                    dst[c] = requantize(a0, mult[c], shift[c], out_offset, act_min, act_max);
                    dst[c + 1] = requantize(a1, mult[c + 1], shift[c + 1], out_offset, act_min, act_max);
                    dst[c + 2] = requantize(a2, mult[c + 2], shift[c + 2], out_offset, act_min, act_max);
                    dst[c + 3] = requantize(a3, mult[c + 3], shift[c + 3], out_offset, act_min, act_max);
                }
            }
            for (; c < in_c; ++c) {
                for (int m = 0; m < dm; ++m) {
                    const int oc = c * dm + m;
                    uint32_t acc = (uint32_t)bias[oc];
                    const int8_t *xr = window + c;
                    const int8_t *wr = wwindow + oc;
                    for (int r = 0; r < rows; ++r) {
                        for (int k = 0; k < cols; ++k) {
                            acc += (uint32_t)(((int32_t)xr[k * x_step] + x_offset) * wr[k * out_c]);
                        }
                        xr += row_step;
                        wr += k_w * out_c;
                    }
                    dst[oc] = requantize(acc, mult[oc], shift[oc], out_offset, act_min, act_max);
                }
            }
        }
    }
}
