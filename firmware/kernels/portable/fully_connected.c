/* FULLY_CONNECTED, int8 activations, int8 weights per tensor or per output
 * channel (then with zero point 0), int32 bias.
 * out[b][o] = clamp(zp_out + M * sum_i (in[b][i] - zp_in) * (w[o][i] - zp_w) + bias[o]) */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

void bench_kernel_fully_connected(const bench_fc_params_t *p, uint8_t *arena) {
    const int8_t *in = (const int8_t *)(arena + p->in_offset);
    int8_t *out = (int8_t *)(arena + p->out_offset);
    for (uint32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_depth;
        for (uint32_t o = 0; o < p->out_depth; ++o) {
            const int8_t *w = p->weights + o * p->in_depth;
            int32_t acc = 0;
            for (uint32_t i = 0; i < p->in_depth; ++i) {
                acc += ((int32_t)x[i] + p->input_offset) * ((int32_t)w[i] + p->filter_offset);
            }
            if (p->bias != 0) {
                acc += p->bias[o];
            }
            if (p->channel_multiplier != 0) {
                acc = bench_multiply_by_quantized_multiplier(acc, p->channel_multiplier[o], p->channel_shift[o]);
            } else {
                acc = bench_multiply_by_quantized_multiplier(acc, p->output_multiplier, p->output_shift);
            }
            acc += p->output_offset;
            if (acc < p->act_min) acc = p->act_min;
            if (acc > p->act_max) acc = p->act_max;
            out[b * p->out_depth + o] = (int8_t)acc;
        }
    }
}
