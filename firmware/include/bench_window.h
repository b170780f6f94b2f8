/* The part of a filter window that lies inside the input, shared by the
 * convolution and pooling kernels. A window starts at `origin` (negative
 * inside the leading padding) and has `taps` taps `dilation` apart. */
#ifndef BENCH_WINDOW_H
#define BENCH_WINDOW_H

/* The first tap that falls inside the input. */
static inline int bench_first_tap(int origin, int dilation) {
    return origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
}

/* One past the last tap that falls inside an input of `size`. */
static inline int bench_end_tap(int origin, int dilation, int size, int taps) {
    if (size - origin <= 0) return 0;
    const int n = (size - origin + dilation - 1) / dilation;
    return n < taps ? n : taps;
}

#endif /* BENCH_WINDOW_H */
