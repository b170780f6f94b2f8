/* UNIDIRECTIONAL_SEQUENCE_LSTM, TFLM's integer step: per time step and unit,
 * each gate's pre-activation is an int8 x int8 dot product of the input and
 * one of the hidden state, each rescaled to Q3.12 int16 and added with int16
 * saturation; sigmoid (input, forget, output gates) or tanh (cell gate) gives
 * Q0.15; cell = f * cell + i * g (each rescaled, then a saturating add,
 * clipped if asked); hidden = o * tanh(cell), rescaled to int8.
 *
 * A unit's new cell value depends on its old one only, so the cell state is
 * updated in place; the new hidden values go to the output row first, and
 * become the hidden state once every unit of the step is done (the recurrent
 * products of the step read the old one). The generator
 * (harness/ops/lstm.py) checked shapes, types and every multiplier and shift;
 * the planner keeps the output apart from the inputs and the state. */
#include "bench_fixedpoint.h"
#include "bench_kernels.h"
#include "bench_lut16.h"
#include "bench_mem.h"

enum { GATE_INPUT, GATE_FORGET, GATE_CELL, GATE_OUTPUT, GATES };

static int32_t sat16(int32_t v) { return bench_clamp(v, INT16_MIN, INT16_MAX); }

/* sum_k w[k] * (x[k] + offset) + bias, in uint32_t (TFLite's int32 sum, which may wrap) */
static int32_t dot(const int8_t *w, const int8_t *x, uint32_t n, int32_t offset, int32_t bias) {
    uint32_t acc = (uint32_t)bias;
    for (uint32_t k = 0; k < n; ++k) {
        acc += (uint32_t)((int32_t)w[k] * ((int32_t)x[k] + offset));
    }
    return bench_i32_from_bits(acc);
}

/* gate g of unit j in Q3.12: the input and the recurrent products, each rescaled and saturated, summed */
static int16_t gate(const bench_lstm_params_t *p, uint32_t g, uint32_t j, const int8_t *x, const int8_t *h) {
    const int8_t *w_in = p->weights + (g * p->units + j) * p->in_depth;
    const int8_t *w_rec = p->weights + GATES * p->units * p->in_depth + (g * p->units + j) * p->units;
    const int32_t from_input = sat16(bench_multiply_by_quantized_multiplier(
        dot(w_in, x, p->in_depth, p->input_offset, p->bias[g * p->units + j]), p->in_multiplier[g], p->in_shift[g]));
    const int32_t from_hidden = sat16(bench_multiply_by_quantized_multiplier(
        dot(w_rec, h, p->units, p->recurrent_offset, 0), p->rec_multiplier[g], p->rec_shift[g]));
    return (int16_t)sat16(from_input + from_hidden);
}

static void step(const bench_lstm_params_t *p, const int8_t *x, int8_t *h, uint8_t *c, int8_t *y) {
    for (uint32_t j = 0; j < p->units; ++j) {
        int16_t pre[GATES], act[GATES];
        for (uint32_t g = 0; g < GATES; ++g) {
            pre[g] = gate(p, g, j, x, h);
        }
        act[GATE_INPUT] = bench_logistic16(pre[GATE_INPUT], 0, 0, p->lut);
        act[GATE_FORGET] = bench_logistic16(pre[GATE_FORGET], 0, 0, p->lut);
        act[GATE_CELL] = bench_tanh16(pre[GATE_CELL], 0, 0, p->lut);
        act[GATE_OUTPUT] = bench_logistic16(pre[GATE_OUTPUT], 0, 0, p->lut);
        /* products of two int16 values fit int32 */
        const int32_t kept = sat16(bench_multiply_by_quantized_multiplier(
            (int32_t)act[GATE_FORGET] * bench_get_i16(c, j), p->forget_multiplier, p->forget_shift));
        const int32_t added = sat16(bench_multiply_by_quantized_multiplier(
            (int32_t)act[GATE_INPUT] * act[GATE_CELL], p->input_multiplier, p->input_shift));
        int32_t cell = sat16(kept + added);
        if (p->cell_clip > 0) {
            cell = bench_clamp(cell, -p->cell_clip, p->cell_clip);
        }
        bench_put_i16(c, j, (int16_t)cell);
        const int16_t squashed = bench_tanh16((int16_t)cell, p->tanh_multiplier, p->tanh_left_shift, p->lut);
        const int32_t hidden = bench_multiply_by_quantized_multiplier(
            (int32_t)squashed * act[GATE_OUTPUT], p->hidden_multiplier, p->hidden_shift) + p->hidden_zero_point;
        y[j] = (int8_t)bench_clamp(hidden, INT8_MIN, INT8_MAX);
    }
    __builtin_memcpy(h, y, p->units);
}

void bench_kernel_lstm(const bench_lstm_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    int8_t *hidden = (int8_t *)(arena + p->hidden_offset);
    uint8_t *cell = arena + p->cell_offset; /* int16 elements (bench_mem.h) */
    for (uint32_t b = 0; b < p->batches; ++b) {
        for (uint32_t t = 0; t < p->steps; ++t) {
            /* time major: [steps][batches][depth]; else [batches][steps][depth] */
            const uint32_t row = p->time_major ? t * p->batches + b : b * p->steps + t;
            step(p, x + row * p->in_depth, hidden + b * p->units, cell + 2u * b * p->units, y + row * p->units);
        }
    }
}
