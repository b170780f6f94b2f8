/* CONV_2D, NHWC int8 activations, OHWI int8 weights quantized per output
 * channel (zero point 0, as TFLite requires), int32 bias. Points of the
 * receptive field outside the input are skipped (zero padding in real terms). */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

void bench_kernel_conv_2d(const bench_conv_params_t *p, uint8_t *arena) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    const int in_h = p->in_h, in_w = p->in_w, in_c = p->in_c;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_h;
        for (int ox = 0; ox < p->out_w; ++ox) {
            const int x0 = ox * p->stride_w - p->pad_w;
            for (int oc = 0; oc < p->out_c; ++oc) {
                const int8_t *w = p->weights + (uint32_t)oc * p->k_h * p->k_w * in_c;
                int32_t acc = 0;
                for (int ky = 0; ky < p->k_h; ++ky) {
                    const int y = y0 + ky * p->dilation_h;
                    if (y < 0 || y >= in_h) continue;
                    for (int kx = 0; kx < p->k_w; ++kx) {
                        const int x = x0 + kx * p->dilation_w;
                        if (x < 0 || x >= in_w) continue;
                        const int8_t *px = in + ((uint32_t)y * in_w + x) * in_c;
                        const int8_t *wk = w + ((uint32_t)ky * p->k_w + kx) * in_c;
                        for (int c = 0; c < in_c; ++c) {
                            acc += ((int32_t)px[c] + p->input_offset) * (int32_t)wk[c];
                        }
                    }
                }
                if (p->bias != 0) {
                    acc += p->bias[oc];
                }
                acc = bench_multiply_by_quantized_multiplier(acc, p->output_multiplier[oc], p->output_shift[oc]);
                acc += p->output_offset;
                if (acc < p->act_min) acc = p->act_min;
                if (acc > p->act_max) acc = p->act_max;
                out[((uint32_t)oy * p->out_w + ox) * p->out_c + oc] = (int8_t)acc;
            }
        }
    }
}
