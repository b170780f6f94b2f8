/* Dot-product inner loops shared by CONV_2D and FULLY_CONNECTED.
 * Four filters at once: each input byte is loaded once for four
 * multiply-accumulates. Portable C; a core-specific kernel file may use the
 * DSP extension's dual 16-bit MACs instead.
 *
 * Accumulators are uint32_t: a sum of int32 products may pass INT32_MAX on
 * the way (it starts from a folded bias that may sit near either limit), which
 * is undefined for int32_t and defined, modulo 2^32, for uint32_t. The final
 * bits are those of TFLite's int32 accumulator; the kernels read them back with
 * bench_i32_from_bits(). Each product fits int32 (|x + x_offset| <= 255,
 * |w| <= 128), and a 32-bit multiply-accumulate (MLA, SMLABB) is the same
 * instruction whatever the signedness of its sum. */
#ifndef BENCH_DOT_H
#define BENCH_DOT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* acc[j] += sum_{i<n} (x[i] + x_offset) * w[j * w_stride + i] (mod 2^32) for j = 0..3 */
static inline __attribute__((always_inline)) void bench_dot4(const int8_t *x, const int8_t *w, uint32_t w_stride,
                                                             uint32_t n, int32_t x_offset, uint32_t acc[4]) {
    const int8_t *w0 = w, *w1 = w + w_stride, *w2 = w1 + w_stride, *w3 = w2 + w_stride;
    uint32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (uint32_t i = 0; i < n; ++i) {
        const int32_t v = (int32_t)*x++ + x_offset;
        a0 += (uint32_t)(v * *w0++);
        a1 += (uint32_t)(v * *w1++);
        a2 += (uint32_t)(v * *w2++);
        a3 += (uint32_t)(v * *w3++);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* sum_{i<n} (x[i] + x_offset) * w[i] (mod 2^32) */
static inline __attribute__((always_inline)) uint32_t bench_dot1(const int8_t *x, const int8_t *w, uint32_t n,
                                                                 int32_t x_offset) {
    uint32_t a = 0;
    for (uint32_t i = 0; i < n; ++i) {
        a += (uint32_t)(((int32_t)x[i] + x_offset) * w[i]);
    }
    return a;
}

#ifdef __cplusplus
}
#endif
#endif /* BENCH_DOT_H */
