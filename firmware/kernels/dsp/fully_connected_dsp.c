/* FULLY_CONNECTED with the DSP extension: int8 activations, symmetric int8
 * weights (the generator folded the input offset into bias_folded), int32
 * sums modulo 2^32 (see bench_dot.h).
 *
 * Four inputs are loaded as one word and split into halfword pairs by SXTB16
 * (bytes 0,2 and 1,3), as are four weights of a row, so that one SMLAD does
 * two multiply-accumulates. Four output rows share each input word. The
 * weights come in the order this walk reads them (harness/ops/
 * fully_connected_dsp.py): per block of four rows, 16 bytes per step of four
 * inputs, rows padded to a multiple of four (bias_folded with them) and each
 * row to a multiple of four weights; the last, partial, step of a row loads
 * only the input bytes that exist. Outputs of batch b are written after its
 * inputs are read, as the portable kernel does. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"
#include "bench_simd.h"

/* The output of one row from its sum (mod 2^32). */
static inline int8_t requantize(uint32_t acc, int32_t multiplier, int shift, int32_t offset, int32_t lo, int32_t hi) {
    const int32_t v = bench_multiply_by_quantized_multiplier(bench_i32_from_bits(acc), multiplier, shift);
    return (int8_t)bench_clamp(v + offset, lo, hi);
}

/* The four outputs of a block of rows with per-tensor weights. Not inlined: called between the block loops,
 * it keeps the requantization constants in registers of its own instead of spilling the loops'. */
static __attribute__((noinline)) void requantize4(int8_t *y, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                                  const bench_fc_params_t *p) {
    const int32_t mult = p->output_multiplier, shift = p->output_shift, offset = p->output_offset;
    const int32_t lo = p->act_min, hi = p->act_max;
    y[0] = requantize(a0, mult, shift, offset, lo, hi);
    y[1] = requantize(a1, mult, shift, offset, lo, hi);
    y[2] = requantize(a2, mult, shift, offset, lo, hi);
    y[3] = requantize(a3, mult, shift, offset, lo, hi);
}

/* acc + the dot product of the inputs (x02, x13: xv split by SXTB16) with the four weights in wv */
static inline uint32_t mac4(uint32_t x02, uint32_t x13, uint32_t wv, uint32_t acc) {
    return bench_smlad(x13, bench_sxtb16_ror8(wv), bench_smlad(x02, bench_sxtb16(wv), acc));
}

/* a0..a3 += the four inputs in xv times the block's 16 weights at w (4-byte aligned), w advanced past them */
#define STEP4(xv, w)                                                                  \
    do {                                                                              \
        const uint32_t x02_ = bench_sxtb16(xv), x13_ = bench_sxtb16_ror8(xv);         \
        uint32_t w0_, w1_, w2_, w3_;                                                  \
        BENCH_LOAD4(w, w0_, w1_, w2_, w3_);                                           \
        a0 = mac4(x02_, x13_, w0_, a0);                                               \
        a1 = mac4(x02_, x13_, w1_, a1);                                               \
        a2 = mac4(x02_, x13_, w2_, a2);                                               \
        a3 = mac4(x02_, x13_, w3_, a3);                                               \
    } while (0)

void bench_kernel_fully_connected_dsp(const bench_fc_params_t *p, uint8_t *arena) {
    const int8_t *const in = (const int8_t *)(arena + p->in_offset);
    int8_t *const out = (int8_t *)(arena + p->out_offset);
    const uint32_t n = p->in_depth, full = n / 4u, rest = n % 4u, out_depth = p->out_depth, batches = p->batches;
    const int32_t *const bias = p->bias_folded;
    const int32_t *const mults = p->multiplier;
    const int8_t *const shifts = p->shift;
    const int32_t mult = p->output_multiplier, shift = p->output_shift, offset = p->output_offset;
    const int32_t lo = p->act_min, hi = p->act_max;
    for (uint32_t b = 0; b < batches; ++b) {
        const int8_t *const x = in + b * n;
        int8_t *const y = out + b * out_depth;
        const int8_t *w = p->weights;
        for (uint32_t o = 0; o < out_depth; o += 4) {
            uint32_t a0 = (uint32_t)bias[o], a1 = (uint32_t)bias[o + 1];
            uint32_t a2 = (uint32_t)bias[o + 2], a3 = (uint32_t)bias[o + 3];
            const int8_t *xi = x;
            for (uint32_t q = full; q > 0; --q, xi += 4) {
                const uint32_t xv = bench_read_u32(xi);
                STEP4(xv, w);
            }
            if (rest != 0) {
                uint32_t xv = 0;
                for (uint32_t i = 0; i < rest; ++i) {
                    xv |= (uint32_t)(uint8_t)xi[i] << (8u * i);
                }
                STEP4(xv, w);
            }
            if (mults == 0 && o + 4 <= out_depth) { /* per-tensor weights, a whole block: the common case */
                requantize4(y + o, a0, a1, a2, a3, p);
                continue;
            }
            const uint32_t a[4] = {a0, a1, a2, a3};
            for (uint32_t r = 0; r < 4 && o + r < out_depth; ++r) {
                y[o + r] = mults != 0 ? requantize(a[r], mults[o + r], shifts[o + r], offset, lo, hi)
                                      : requantize(a[r], mult, shift, offset, lo, hi);
            }
        }
    }
}
