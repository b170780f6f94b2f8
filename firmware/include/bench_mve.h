/* The MVE (Helium) vector operations used by the kernels of kernels/mve/,
 * as inline functions of our own over two small vector types: 16 int8 lanes
 * (bench_v8_t) and 4 int32 lanes (bench_v32_t). Where the compiler says the
 * core has MVE (__ARM_FEATURE_MVE: Cortex-M55) they are GCC's <arm_mve.h>
 * intrinsics, one instruction each; elsewhere (the host build, which runs
 * every kernel variant under the sanitizers) the same arithmetic in plain C,
 * lane by lane. Sums are uint32_t, modulo 2^32, as VMLADAVA's are (see
 * bench_dot.h for why the accumulators are unsigned).
 *
 * "_n" functions touch only the first n lanes (n >= the lane count: all):
 * predicated by VCTP, they neither read nor write memory past them, and
 * loads give 0 in the other lanes. */
#ifndef BENCH_MVE_H
#define BENCH_MVE_H

#include <stdint.h>

#define BENCH_MVE_INLINE static inline __attribute__((always_inline))

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include <arm_mve.h>

typedef int8x16_t bench_v8_t;
typedef int32x4_t bench_v32_t;

/* 16 bytes from any address (VLDRB.8 needs no alignment) */
BENCH_MVE_INLINE bench_v8_t bench_mve_ld8(const int8_t *p) { return vldrbq_s8(p); }

BENCH_MVE_INLINE bench_v8_t bench_mve_ld8_n(const int8_t *p, uint32_t n) { return vldrbq_z_s8(p, vctp8q(n)); }

BENCH_MVE_INLINE void bench_mve_st8(int8_t *p, bench_v8_t v) { vstrbq_s8(p, v); }

BENCH_MVE_INLINE void bench_mve_st8_n(int8_t *p, bench_v8_t v, uint32_t n) { vstrbq_p_s8(p, v, vctp8q(n)); }

BENCH_MVE_INLINE bench_v8_t bench_mve_dup8(int8_t v) { return vdupq_n_s8(v); }

/* acc + the sum of the 16 products x[i] * w[i] (one VMLADAVA.S8) */
BENCH_MVE_INLINE uint32_t bench_mve_dot8(uint32_t acc, bench_v8_t x, bench_v8_t w) {
    return (uint32_t)vmladavaq_s8((int32_t)acc, x, w);
}

BENCH_MVE_INLINE bench_v32_t bench_mve_dup32(int32_t v) { return vdupq_n_s32(v); }

/* the lanes a0..a3, from sums modulo 2^32 */
BENCH_MVE_INLINE bench_v32_t bench_mve_make32(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3) {
    bench_v32_t v = vdupq_n_s32((int32_t)a0);
    v = vsetq_lane_s32((int32_t)a1, v, 1);
    v = vsetq_lane_s32((int32_t)a2, v, 2);
    return vsetq_lane_s32((int32_t)a3, v, 3);
}

/* n int32 from a 4-byte aligned address */
BENCH_MVE_INLINE bench_v32_t bench_mve_ld32_n(const int32_t *p, uint32_t n) { return vldrwq_z_s32(p, vctp32q(n)); }

typedef int16x8_t bench_v16_t;

/* eight int8, sign-extended to int16 lanes (VLDRB.S16) */
BENCH_MVE_INLINE bench_v16_t bench_mve_ld8to16(const int8_t *p) { return vldrbq_s16(p); }

/* the products of the even lanes 0, 2, 4, 6 of a and b, as int32 (VMULLB.S16) */
BENCH_MVE_INLINE bench_v32_t bench_mve_mull_even16(bench_v16_t a, bench_v16_t b) { return vmullbq_int_s16(a, b); }

/* the products of the odd lanes 1, 3, 5, 7 (VMULLT.S16) */
BENCH_MVE_INLINE bench_v32_t bench_mve_mull_odd16(bench_v16_t a, bench_v16_t b) { return vmulltq_int_s16(a, b); }

/* a + b per lane, modulo 2^32 (VADD) */
BENCH_MVE_INLINE bench_v32_t bench_mve_addv32(bench_v32_t a, bench_v32_t b) { return vaddq_s32(a, b); }

/* the low bytes of the four lanes to p[0], p[2], p[4], p[6] (VSTRB.32, scatter) */
BENCH_MVE_INLINE void bench_mve_st32to8_stride2(int8_t *p, bench_v32_t v) {
    vstrbq_scatter_offset_s32(p, vidupq_n_u32(0u, 2), v);
}

/* four int32 from a 4-byte aligned address (VLDRW) */
BENCH_MVE_INLINE bench_v32_t bench_mve_ld32(const int32_t *p) { return vldrwq_s32(p); }

/* the low bytes of the four lanes (VSTRB.32) */
BENCH_MVE_INLINE void bench_mve_st32to8(int8_t *p, bench_v32_t v) { vstrbq_s32(p, v); }

/* four int8, sign-extended to int32 lanes (VLDRB.S32) */
BENCH_MVE_INLINE bench_v32_t bench_mve_ld8to32(const int8_t *p) { return vldrbq_s32(p); }

/* acc + a * b per lane, modulo 2^32 (VMUL, VADD: MVE's VMLA takes a scalar) */
BENCH_MVE_INLINE bench_v32_t bench_mve_mla32(bench_v32_t acc, bench_v32_t a, bench_v32_t b) {
    return vaddq_s32(acc, vmulq_s32(a, b));
}

/* n int8, sign-extended to int32 lanes (VLDRB.S32) */
BENCH_MVE_INLINE bench_v32_t bench_mve_ld8to32_n(const int8_t *p, uint32_t n) {
    return vldrbq_z_s32(p, vctp32q(n));
}

/* the low bytes of the first n lanes (VSTRB.32) */
BENCH_MVE_INLINE void bench_mve_st32to8_n(int8_t *p, bench_v32_t v, uint32_t n) { vstrbq_p_s32(p, v, vctp32q(n)); }

BENCH_MVE_INLINE bench_v32_t bench_mve_max32(bench_v32_t a, bench_v32_t b) { return vmaxq_s32(a, b); }
BENCH_MVE_INLINE bench_v32_t bench_mve_min32(bench_v32_t a, bench_v32_t b) { return vminq_s32(a, b); }
BENCH_MVE_INLINE bench_v32_t bench_mve_add32(bench_v32_t a, int32_t b) { return vaddq_n_s32(a, b); }
/* a shifted left by b (lanes in [0, 31]), modulo 2^32 (VSHL) */
BENCH_MVE_INLINE bench_v32_t bench_mve_shl32(bench_v32_t a, bench_v32_t b) { return vshlq_s32(a, b); }
/* the high word of 2 a b + 2^31, saturated (VQRDMULH) */
BENCH_MVE_INLINE bench_v32_t bench_mve_qrdmulh32(bench_v32_t a, bench_v32_t b) { return vqrdmulhq_s32(a, b); }
/* a + b, saturated (VQADD) */
BENCH_MVE_INLINE bench_v32_t bench_mve_qadd32(bench_v32_t a, bench_v32_t b) { return vqaddq_s32(a, b); }
/* a / 2^-b rounded half up, for lanes b in [-31, 0] (VRSHL by a negative amount) */
BENCH_MVE_INLINE bench_v32_t bench_mve_rshr32(bench_v32_t a, bench_v32_t b) { return vrshlq_s32(a, b); }
/* -1 in the lanes where a and b both have the sign bit set, else 0 (VAND, VSHR #31) */
BENCH_MVE_INLINE bench_v32_t bench_mve_both_negative32(bench_v32_t a, bench_v32_t b) {
    return vshrq_n_s32(vandq_s32(a, b), 31);
}

/* a0..a3 += the dot products of `steps` runs of 16 int8 values at x (advanced 16 bytes a run) with four rows
 * of weights at w, laid out per run as row 0's 16, then row 1's, row 2's and row 3's (w advanced 64 bytes a
 * run). One loop in one asm statement: per run five VLDRB and four VMLADAVA.S8, 64 multiply-accumulates
 * (GCC 12 otherwise copies the accumulators, which VMLADAVA keeps in even registers, on every run). */
#define BENCH_MVE_DOT4(x, w, steps, a0, a1, a2, a3)                                                     \
    __asm__ volatile("wls lr, %[n], 2f\n"                                                              \
                     "1:\n\t"                                                                          \
                     "vldrb.u8 q0, [%[xp]], #16\n\t"                                                   \
                     "vldrb.u8 q1, [%[wp]], #64\n\t"                                                   \
                     "vldrb.u8 q2, [%[wp], #-48]\n\t"                                                  \
                     "vldrb.u8 q3, [%[wp], #-32]\n\t"                                                  \
                     "vmladava.s8 %[r0], q0, q1\n\t"                                                   \
                     "vldrb.u8 q1, [%[wp], #-16]\n\t"                                                  \
                     "vmladava.s8 %[r1], q0, q2\n\t"                                                   \
                     "vmladava.s8 %[r2], q0, q3\n\t"                                                   \
                     "vmladava.s8 %[r3], q0, q1\n\t"                                                   \
                     "le lr, 1b\n"                                                                     \
                     "2:"                                                                              \
                     : [r0] "+Te"(a0), [r1] "+Te"(a1), [r2] "+Te"(a2), [r3] "+Te"(a3), [xp] "+r"(x),   \
                       [wp] "+r"(w)                                                                    \
                     : [n] "r"(steps)                                                                  \
                     : "q0", "q1", "q2", "q3", "lr", "memory")

#else /* plain C, lane by lane */

typedef struct { int8_t b[16]; } bench_v8_t;
typedef struct { int32_t w[4]; } bench_v32_t;

BENCH_MVE_INLINE bench_v8_t bench_mve_ld8_n(const int8_t *p, uint32_t n) {
    bench_v8_t v;
    for (uint32_t i = 0; i < 16; ++i) v.b[i] = i < n ? p[i] : 0;
    return v;
}

BENCH_MVE_INLINE bench_v8_t bench_mve_ld8(const int8_t *p) { return bench_mve_ld8_n(p, 16); }

BENCH_MVE_INLINE void bench_mve_st8_n(int8_t *p, bench_v8_t v, uint32_t n) {
    for (uint32_t i = 0; i < 16 && i < n; ++i) p[i] = v.b[i];
}

BENCH_MVE_INLINE void bench_mve_st8(int8_t *p, bench_v8_t v) { bench_mve_st8_n(p, v, 16); }

BENCH_MVE_INLINE bench_v8_t bench_mve_dup8(int8_t x) {
    bench_v8_t v;
    for (uint32_t i = 0; i < 16; ++i) v.b[i] = x;
    return v;
}

BENCH_MVE_INLINE uint32_t bench_mve_dot8(uint32_t acc, bench_v8_t x, bench_v8_t w) {
    for (uint32_t i = 0; i < 16; ++i) acc += (uint32_t)((int32_t)x.b[i] * w.b[i]);
    return acc;
}

/* the int32 with the bits of u (bench_i32_from_bits, repeated here to keep this header on its own) */
BENCH_MVE_INLINE int32_t bench_mve_i32(uint32_t u) {
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}

BENCH_MVE_INLINE bench_v32_t bench_mve_dup32(int32_t x) {
    bench_v32_t v = {{x, x, x, x}};
    return v;
}

BENCH_MVE_INLINE bench_v32_t bench_mve_make32(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3) {
    bench_v32_t v = {{bench_mve_i32(a0), bench_mve_i32(a1), bench_mve_i32(a2), bench_mve_i32(a3)}};
    return v;
}

BENCH_MVE_INLINE bench_v32_t bench_mve_ld32_n(const int32_t *p, uint32_t n) {
    bench_v32_t v;
    for (uint32_t i = 0; i < 4; ++i) v.w[i] = i < n ? p[i] : 0;
    return v;
}

BENCH_MVE_INLINE bench_v32_t bench_mve_ld8to32_n(const int8_t *p, uint32_t n) {
    bench_v32_t v;
    for (uint32_t i = 0; i < 4; ++i) v.w[i] = i < n ? p[i] : 0;
    return v;
}

BENCH_MVE_INLINE bench_v32_t bench_mve_ld8to32(const int8_t *p) { return bench_mve_ld8to32_n(p, 4); }

BENCH_MVE_INLINE bench_v32_t bench_mve_ld32(const int32_t *p) { return bench_mve_ld32_n(p, 4); }

typedef struct { int16_t h[8]; } bench_v16_t;

BENCH_MVE_INLINE bench_v16_t bench_mve_ld8to16(const int8_t *p) {
    bench_v16_t v;
    for (uint32_t i = 0; i < 8; ++i) v.h[i] = p[i];
    return v;
}

BENCH_MVE_INLINE bench_v32_t bench_mve_mull_even16(bench_v16_t a, bench_v16_t b) {
    bench_v32_t r;
    for (uint32_t i = 0; i < 4; ++i) r.w[i] = (int32_t)a.h[2 * i] * b.h[2 * i];
    return r;
}

BENCH_MVE_INLINE bench_v32_t bench_mve_mull_odd16(bench_v16_t a, bench_v16_t b) {
    bench_v32_t r;
    for (uint32_t i = 0; i < 4; ++i) r.w[i] = (int32_t)a.h[2 * i + 1] * b.h[2 * i + 1];
    return r;
}

BENCH_MVE_INLINE bench_v32_t bench_mve_addv32(bench_v32_t a, bench_v32_t b) {
    bench_v32_t r;
    for (uint32_t i = 0; i < 4; ++i) r.w[i] = bench_mve_i32((uint32_t)a.w[i] + (uint32_t)b.w[i]);
    return r;
}

BENCH_MVE_INLINE bench_v32_t bench_mve_mla32(bench_v32_t acc, bench_v32_t a, bench_v32_t b) {
    bench_v32_t r;
    for (uint32_t i = 0; i < 4; ++i) r.w[i] = bench_mve_i32((uint32_t)acc.w[i] + (uint32_t)a.w[i] * (uint32_t)b.w[i]);
    return r;
}

BENCH_MVE_INLINE void bench_mve_st32to8_n(int8_t *p, bench_v32_t v, uint32_t n) {
    for (uint32_t i = 0; i < 4 && i < n; ++i) p[i] = (int8_t)(v.w[i] & 0xFF);  /* the low byte, as VSTRB.32 */
}

BENCH_MVE_INLINE void bench_mve_st32to8(int8_t *p, bench_v32_t v) { bench_mve_st32to8_n(p, v, 4); }

BENCH_MVE_INLINE void bench_mve_st32to8_stride2(int8_t *p, bench_v32_t v) {
    for (uint32_t i = 0; i < 4; ++i) p[2 * i] = (int8_t)(v.w[i] & 0xFF);
}

#define BENCH_MVE_LANEWISE32(name, expr)                                      \
    BENCH_MVE_INLINE bench_v32_t name(bench_v32_t a, bench_v32_t b) {         \
        bench_v32_t r;                                                        \
        for (uint32_t i = 0; i < 4; ++i) {                                    \
            const int32_t x = a.w[i], y = b.w[i];                             \
            r.w[i] = (expr);                                                  \
        }                                                                     \
        return r;                                                             \
    }

BENCH_MVE_LANEWISE32(bench_mve_max32, x > y ? x : y)
BENCH_MVE_LANEWISE32(bench_mve_min32, x < y ? x : y)
BENCH_MVE_LANEWISE32(bench_mve_shl32, bench_mve_i32((uint32_t)x << y))
BENCH_MVE_LANEWISE32(bench_mve_qrdmulh32,
                     x == INT32_MIN && y == INT32_MIN ? INT32_MAX
                                                      : (int32_t)(((int64_t)x * y + (1LL << 30)) >> 31))
BENCH_MVE_LANEWISE32(bench_mve_qadd32,
                     (int32_t)((int64_t)x + y > INT32_MAX ? INT32_MAX
                                                          : ((int64_t)x + y < INT32_MIN ? INT32_MIN : x + y)))
BENCH_MVE_LANEWISE32(bench_mve_rshr32, y == 0 ? x : (int32_t)(((int64_t)x + (1LL << (-y - 1))) >> -y))
BENCH_MVE_LANEWISE32(bench_mve_both_negative32, x < 0 && y < 0 ? -1 : 0)

#define BENCH_MVE_DOT4(x, w, steps, a0, a1, a2, a3)                     \
    do {                                                                \
        for (uint32_t s_ = (steps); s_ > 0; --s_, (x) += 16, (w) += 64) { \
            const bench_v8_t x_ = bench_mve_ld8(x);                     \
            (a0) = bench_mve_dot8((a0), x_, bench_mve_ld8(w));          \
            (a1) = bench_mve_dot8((a1), x_, bench_mve_ld8((w) + 16));   \
            (a2) = bench_mve_dot8((a2), x_, bench_mve_ld8((w) + 32));   \
            (a3) = bench_mve_dot8((a3), x_, bench_mve_ld8((w) + 48));   \
        }                                                               \
    } while (0)

BENCH_MVE_INLINE bench_v32_t bench_mve_add32(bench_v32_t a, int32_t b) {
    bench_v32_t r;
    for (uint32_t i = 0; i < 4; ++i) r.w[i] = bench_mve_i32((uint32_t)a.w[i] + (uint32_t)b);
    return r;
}

#endif

/* the last, partial, step of BENCH_MVE_DOT4: input vector xv (its missing lanes zero) against the block's
 * 64 weight bytes at w, which it then passes */
#define BENCH_MVE_DOT4_LAST(xv, w, a0, a1, a2, a3)                      \
    do {                                                                \
        (a0) = bench_mve_dot8((a0), (xv), bench_mve_ld8(w));            \
        (a1) = bench_mve_dot8((a1), (xv), bench_mve_ld8((w) + 16));     \
        (a2) = bench_mve_dot8((a2), (xv), bench_mve_ld8((w) + 32));     \
        (a3) = bench_mve_dot8((a3), (xv), bench_mve_ld8((w) + 48));     \
        (w) += 64;                                                      \
    } while (0)

/* n bytes of v at dst (im2col's padding; plain inline: GCC may keep one copy) */
static inline void bench_mve_fill(int8_t *dst, int8_t v, uint32_t n) {
    const bench_v8_t d = bench_mve_dup8(v);
    for (; n >= 16u; n -= 16u, dst += 16) bench_mve_st8(dst, d);
    if (n != 0) bench_mve_st8_n(dst, d, n);
}

/* n bytes from src to dst, which do not overlap (im2col's copies) */
static inline void bench_mve_copy(int8_t *dst, const int8_t *src, uint32_t n) {
    for (; n >= 16u; n -= 16u, dst += 16, src += 16) bench_mve_st8(dst, bench_mve_ld8(src));
    if (n != 0) bench_mve_st8_n(dst, bench_mve_ld8_n(src, n), n);
}

/* TFLite's requantization of four sums (MultiplyByQuantizedMultiplier: a left shift, a rounding doubling
 * high multiply, a rounding right shift with halves away from zero), plus the output offset, clamped to
 * [lo, hi]; per lane multiplier in [0, 2^31) and shift in [-31, 30] (the generator checks both), given as
 * left = max(shift, 0) and right = min(shift, 0). VRSHL rounds halves up, so a negative product first loses 1
 * where a right shift follows: the two agree then. */
BENCH_MVE_INLINE bench_v32_t bench_mve_requantize_lr(bench_v32_t acc, bench_v32_t multiplier, bench_v32_t left,
                                                     bench_v32_t right, int32_t offset, bench_v32_t lo, bench_v32_t hi) {
    bench_v32_t v = bench_mve_qrdmulh32(bench_mve_shl32(acc, left), multiplier);
    v = bench_mve_rshr32(bench_mve_qadd32(v, bench_mve_both_negative32(v, right)), right);
    return bench_mve_min32(bench_mve_max32(bench_mve_add32(v, offset), lo), hi);
}

/* the same with shift split at run time: left = max(shift, 0), right = min(shift, 0) */
BENCH_MVE_INLINE bench_v32_t bench_mve_requantize(bench_v32_t acc, bench_v32_t multiplier, bench_v32_t shift,
                                                  int32_t offset, bench_v32_t lo, bench_v32_t hi) {
    const bench_v32_t zero = bench_mve_dup32(0);
    return bench_mve_requantize_lr(acc, multiplier, bench_mve_max32(shift, zero), bench_mve_min32(shift, zero),
                                   offset, lo, hi);
}

#ifdef __cplusplus
}
#endif

#endif /* BENCH_MVE_H */
