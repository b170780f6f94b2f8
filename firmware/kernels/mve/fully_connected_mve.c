/* FULLY_CONNECTED with MVE (Helium): int8 activations, symmetric int8
 * weights (the generator folded the input offset into bias_folded), int32
 * sums modulo 2^32 (see bench_dot.h).
 *
 * Four output rows at a time share each 16-byte load of the input; one
 * VMLADAVA.S8 per row and step does 16 multiply-accumulates. The weights
 * come in the order this walk reads them (harness/ops/fully_connected_mve.py):
 * per block of four rows and per step of 16 inputs, each row's 16 weights,
 * 64 bytes from one pointer; rows padded with zeros to a multiple of four
 * (bias_folded with them) and each row to a multiple of 16 weights. The
 * last, partial, step loads only the input bytes that exist (VCTP-
 * predicated). The four sums are requantized together in vector lanes
 * (bench_mve_requantize) and stored with one predicated VSTRB.32. Outputs
 * of batch b are written after its inputs are read, as the portable kernel
 * does, so the planner's overlap rule is the same. */
#include "bench_kernels.h"
#include "bench_mve.h"

/* the requantization of rows [o, o + n) into y + o, n <= 4 */
BENCH_MVE_INLINE void requantize4(const bench_fc_params_t *p, int8_t *y, uint32_t o, uint32_t n, bench_v32_t acc) {
    const bench_v32_t lo = bench_mve_dup32(p->act_min), hi = bench_mve_dup32(p->act_max);
    bench_v32_t mult, shift;
    if (p->multiplier != 0) {  /* per-channel weights */
        mult = bench_mve_ld32_n(p->multiplier + o, n);
        shift = bench_mve_ld8to32_n(p->shift + o, n);
    } else {
        mult = bench_mve_dup32(p->output_multiplier);
        shift = bench_mve_dup32(p->output_shift);
    }
    bench_mve_st32to8_n(y + o, bench_mve_requantize(acc, mult, shift, p->output_offset, lo, hi), n);
}

void bench_kernel_fully_connected_mve(const bench_fc_params_t *p, uint8_t *arena) {
    const int8_t *const in = (const int8_t *)(arena + p->in_offset);
    int8_t *const out = (int8_t *)(arena + p->out_offset);
    const uint32_t n = p->in_depth, full = n / 16u, rest = n % 16u, out_depth = p->out_depth;
    const int32_t *const bias = p->bias_folded;
    for (uint32_t b = 0; b < p->batches; ++b) {
        const int8_t *const x = in + b * n;
        int8_t *const y = out + b * out_depth;
        const int8_t *w = p->weights;
        for (uint32_t o = 0; o < out_depth; o += 4u) {
            uint32_t a0 = (uint32_t)bias[o], a1 = (uint32_t)bias[o + 1u];
            uint32_t a2 = (uint32_t)bias[o + 2u], a3 = (uint32_t)bias[o + 3u];
            const int8_t *xi = x;
            BENCH_MVE_DOT4(xi, w, full, a0, a1, a2, a3);
            if (rest != 0) {
                const bench_v8_t xv = bench_mve_ld8_n(xi, rest);
                BENCH_MVE_DOT4_LAST(xv, w, a0, a1, a2, a3);
            }
            requantize4(p, y, o, out_depth - o < 4u ? out_depth - o : 4u, bench_mve_make32(a0, a1, a2, a3));
        }
    }
}
