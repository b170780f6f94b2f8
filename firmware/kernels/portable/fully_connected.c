/* FULLY_CONNECTED, int8 activations, int8 weights per tensor or per output
 * channel, int32 bias.
 * out[b][o] = clamp(zp_out + M_o * (sum_i (in[b][i] - zp_in) * (w[o][i] - zp_w) + bias[o]))
 * With symmetric weights (zp_w 0, as TFLite emits) the input offset is folded
 * into `bias_folded` by the generator and four outputs share each input load.
 * Sums are taken modulo 2^32 in uint32_t (see bench_dot.h). */
#include "bench_kernels.h"
#include "bench_dot.h"
#include "bench_fixedpoint.h"

static inline int8_t requantize(const bench_fc_params_t *p, int32_t acc, uint32_t o) {
    int32_t v = p->multiplier != 0 ? bench_multiply_by_quantized_multiplier(acc, p->multiplier[o], p->shift[o])
                                   : bench_multiply_by_quantized_multiplier(acc, p->output_multiplier, p->output_shift);
    return (int8_t)bench_clamp(v + p->output_offset, p->act_min, p->act_max);
}

void bench_kernel_fully_connected(const bench_fc_params_t *p, uint8_t *arena) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    const uint32_t depth = p->in_depth;
    for (uint32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * depth;
        int8_t *y = out + b * p->out_depth;
        uint32_t o = 0;
        if (p->bias_folded != 0) {
            for (; o + 4 <= p->out_depth; o += 4) {
                uint32_t acc[4] = {(uint32_t)p->bias_folded[o], (uint32_t)p->bias_folded[o + 1],
                                   (uint32_t)p->bias_folded[o + 2], (uint32_t)p->bias_folded[o + 3]};
                bench_dot4(x, p->weights + o * depth, depth, depth, 0, acc);
                for (uint32_t j = 0; j < 4; ++j) {
                    y[o + j] = requantize(p, bench_i32_from_bits(acc[j]), o + j);
                }
            }
            for (; o < p->out_depth; ++o) {
                const uint32_t acc = (uint32_t)p->bias_folded[o] + bench_dot1(x, p->weights + o * depth, depth, 0);
                y[o] = requantize(p, bench_i32_from_bits(acc), o);
            }
        } else {
            for (; o < p->out_depth; ++o) {
                const int8_t *w = p->weights + o * depth;
                uint32_t acc = p->bias != 0 ? (uint32_t)p->bias[o] : 0u;
                for (uint32_t i = 0; i < depth; ++i) {
                    acc += (uint32_t)(((int32_t)x[i] + p->input_offset) * ((int32_t)w[i] + p->filter_offset));
                }
                y[o] = requantize(p, bench_i32_from_bits(acc), o);
            }
        }
    }
}
