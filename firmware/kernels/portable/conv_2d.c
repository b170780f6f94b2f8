/* CONV_2D, NHWC int8 activations, OHWI int8 weights quantized per output
 * channel (zero point 0), int32 bias. Points of the receptive field outside
 * the input are skipped (zero padding in real terms).
 *
 * Windows entirely inside the input start from `bias_folded` (the bias plus
 * input_offset times the filter's sum, computed by the generator), so the
 * inner loop is a plain int8 dot product; border windows add input_offset to
 * each input byte. With dilation_w 1 the valid part of a filter row is one
 * contiguous run of bytes in the input and in the weights.
 * Output pixels are written in order, each after the input rows it reads
 * from are final: the memory planner relies on this to overlap buffers.
 * Sums are taken modulo 2^32 in uint32_t (see bench_dot.h). */
#include "bench_kernels.h"
#include "bench_dot.h"
#include "bench_fixedpoint.h"
#include "bench_window.h"

/* Output channel oc from its sum (mod 2^32). */
static inline int8_t requantize(const bench_conv_params_t *p, uint32_t acc, int oc) {
    const int32_t v = bench_multiply_by_quantized_multiplier(bench_i32_from_bits(acc), p->multiplier[oc], p->shift[oc]);
    return (int8_t)bench_clamp(v + p->output_offset, p->act_min, p->act_max);
}

void bench_kernel_conv_2d(const bench_conv_params_t *p, uint8_t *arena) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    const int in_w = p->in_w, in_c = p->in_c, out_c = p->out_c, k_w = p->k_w;
    const uint32_t filter_size = (uint32_t)p->k_h * k_w * in_c;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_h;
        const int ky_lo = bench_first_tap(y0, p->dilation_h);
        const int ky_hi = bench_end_tap(y0, p->dilation_h, p->in_h, p->k_h);
        for (int ox = 0; ox < p->out_w; ++ox) {
            const int x0 = ox * p->stride_w - p->pad_w;
            const int kx_lo = bench_first_tap(x0, p->dilation_w);
            const int kx_hi = bench_end_tap(x0, p->dilation_w, in_w, k_w);
            const int inside = ky_lo == 0 && ky_hi == p->k_h && kx_lo == 0 && kx_hi == k_w;
            const int32_t *bias = inside ? p->bias_folded : p->bias;
            int8_t *dst = out + ((uint32_t)oy * p->out_w + ox) * out_c;
            int oc = 0;
            for (; oc + 4 <= out_c; oc += 4) {
                uint32_t acc[4] = {(uint32_t)bias[oc], (uint32_t)bias[oc + 1], (uint32_t)bias[oc + 2],
                                   (uint32_t)bias[oc + 3]};
                const int8_t *w = p->weights + (uint32_t)oc * filter_size;
                for (int ky = ky_lo; ky < ky_hi; ++ky) {
                    const int8_t *row = in + (uint32_t)(y0 + ky * p->dilation_h) * in_w * in_c;
                    const int8_t *wrow = w + (uint32_t)ky * k_w * in_c;
                    if (p->dilation_w == 1) {
                        const int8_t *x = row + (x0 + kx_lo) * in_c;
                        const uint32_t n = (uint32_t)(kx_hi - kx_lo) * in_c;
                        if (inside) {
                            bench_dot4(x, wrow + kx_lo * in_c, filter_size, n, 0, acc);
                        } else {
                            bench_dot4(x, wrow + kx_lo * in_c, filter_size, n, p->input_offset, acc);
                        }
                    } else {
                        const int32_t x_offset = inside ? 0 : p->input_offset;
                        for (int kx = kx_lo; kx < kx_hi; ++kx) {
                            bench_dot4(row + (x0 + kx * p->dilation_w) * in_c, wrow + kx * in_c, filter_size,
                                       in_c, x_offset, acc);
                        }
                    }
                }
                /* written out rather than looped: the compiler keeps the four sums in registers */
                dst[oc] = requantize(p, acc[0], oc);
                dst[oc + 1] = requantize(p, acc[1], oc + 1);
                dst[oc + 2] = requantize(p, acc[2], oc + 2);
                dst[oc + 3] = requantize(p, acc[3], oc + 3);
            }
            for (; oc < out_c; ++oc) {
                uint32_t acc = (uint32_t)bias[oc]; /* mod 2^32, as in bench_dot.h */
                const int8_t *w = p->weights + (uint32_t)oc * filter_size;
                for (int ky = ky_lo; ky < ky_hi; ++ky) {
                    const int8_t *row = in + (uint32_t)(y0 + ky * p->dilation_h) * in_w * in_c;
                    for (int kx = kx_lo; kx < kx_hi; ++kx) {
                        acc += bench_dot1(row + (x0 + kx * p->dilation_w) * in_c, w + ((uint32_t)ky * k_w + kx) * in_c,
                                          in_c, inside ? 0 : p->input_offset);
                    }
                }
                dst[oc] = requantize(p, acc, oc);
            }
        }
    }
}
