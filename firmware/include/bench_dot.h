/* Dot-product inner loops shared by CONV_2D and FULLY_CONNECTED.
 * Four filters at once: each input byte is loaded once for four
 * multiply-accumulates. Portable C; a core-specific kernel file may use the
 * DSP extension's dual 16-bit MACs instead. */
#ifndef BENCH_DOT_H
#define BENCH_DOT_H

#include <stdint.h>

/* acc[j] += sum_{i<n} (x[i] + x_offset) * w[j * w_stride + i] for j = 0..3 */
static inline __attribute__((always_inline)) void bench_dot4(const int8_t *x, const int8_t *w, uint32_t w_stride,
                                                             uint32_t n, int32_t x_offset, int32_t acc[4]) {
    const int8_t *w0 = w, *w1 = w + w_stride, *w2 = w1 + w_stride, *w3 = w2 + w_stride;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (uint32_t i = 0; i < n; ++i) {
        const int32_t v = (int32_t)*x++ + x_offset;
        a0 += v * *w0++;
        a1 += v * *w1++;
        a2 += v * *w2++;
        a3 += v * *w3++;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* sum_{i<n} (x[i] + x_offset) * w[i] */
static inline __attribute__((always_inline)) int32_t bench_dot1(const int8_t *x, const int8_t *w, uint32_t n,
                                                                int32_t x_offset) {
    int32_t a = 0;
    for (uint32_t i = 0; i < n; ++i) {
        a += ((int32_t)x[i] + x_offset) * w[i];
    }
    return a;
}

#endif /* BENCH_DOT_H */
