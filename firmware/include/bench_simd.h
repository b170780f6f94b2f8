/* The DSP extension's SIMD instructions used by the kernels of kernels/dsp/,
 * as inline functions of our own: the instruction itself where the compiler
 * says the core has it (__ARM_FEATURE_DSP: Cortex-M4, M7, M33, M55), the same
 * arithmetic in plain C elsewhere (the host build, which runs every kernel
 * variant under the sanitizers). Sums are uint32_t, modulo 2^32, as SMLAD's
 * are (see bench_dot.h for why the accumulators are unsigned). */
#ifndef BENCH_SIMD_H
#define BENCH_SIMD_H

#include <stdint.h>

#define BENCH_INLINE static inline __attribute__((always_inline))

/* Four bytes from any address, in one LDR where the core allows unaligned
 * loads (memcpy of a constant 4 is compiled to one load; __builtin_ because
 * -ffreestanding would otherwise call a byte loop). */
BENCH_INLINE uint32_t bench_read_u32(const void *p) {
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

BENCH_INLINE void bench_write_u32(void *p, uint32_t v) {
    __builtin_memcpy(p, &v, sizeof v);
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP

/* bytes 0 and 2 of x, sign-extended into the low and high halfwords */
BENCH_INLINE uint32_t bench_sxtb16(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
}

/* bytes 1 and 3 of x, sign-extended into the low and high halfwords */
BENCH_INLINE uint32_t bench_sxtb16_ror8(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* acc + lo(x) * lo(y) + hi(x) * hi(y), halfwords signed */
BENCH_INLINE uint32_t bench_smlad(uint32_t x, uint32_t y, uint32_t acc) {
    uint32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
    return r;
}

/* Four words from a 4-byte aligned address, advancing it by 16 (one LDM: the
 * words go to r4-r7, which the caller's locals then live in). */
#define BENCH_LOAD4(ptr, w0, w1, w2, w3)                                                              \
    do {                                                                                              \
        register uint32_t r4_ __asm__("r4"), r5_ __asm__("r5"), r6_ __asm__("r6"), r7_ __asm__("r7"); \
        __asm__("ldmia %4!, {r4, r5, r6, r7}" : "=r"(r4_), "=r"(r5_), "=r"(r6_), "=r"(r7_), "+r"(ptr)   \
                : : "memory");                                                                        \
        (w0) = r4_;                                                                                   \
        (w1) = r5_;                                                                                   \
        (w2) = r6_;                                                                                   \
        (w3) = r7_;                                                                                   \
    } while (0)

/* acc + lo(x) * lo(y), halfwords signed */
BENCH_INLINE uint32_t bench_smlabb(uint32_t x, uint32_t y, uint32_t acc) {
    uint32_t r;
    __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
    return r;
}

/* acc + hi(x) * hi(y), halfwords signed */
BENCH_INLINE uint32_t bench_smlatt(uint32_t x, uint32_t y, uint32_t acc) {
    uint32_t r;
    __asm__("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
    return r;
}

/* the halfwords of x and y added, each modulo 2^16 */
BENCH_INLINE uint32_t bench_sadd16(uint32_t x, uint32_t y) {
    uint32_t r;
    __asm__("sadd16 %0, %1, %2" : "=r"(r) : "r"(x), "r"(y));
    return r;
}

/* x saturated to [-128, 127] */
BENCH_INLINE int32_t bench_ssat8(int32_t x) {
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
}

/* per signed byte, the larger of x and y (SSUB8 sets the GE flags that SEL reads: one asm statement) */
BENCH_INLINE uint32_t bench_max_s8x4(uint32_t x, uint32_t y) {
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(x), "r"(y) : "cc");
    return r;
}

/* per signed byte, the smaller of x and y */
BENCH_INLINE uint32_t bench_min_s8x4(uint32_t x, uint32_t y) {
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(x), "r"(y) : "cc");
    return r;
}

#else

BENCH_INLINE uint32_t bench_halves(int32_t lo, int32_t hi) {
    return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}

BENCH_INLINE uint32_t bench_sxtb16(uint32_t x) {
    return bench_halves((int8_t)(x & 0xFFu), (int8_t)((x >> 16) & 0xFFu));
}

BENCH_INLINE uint32_t bench_sxtb16_ror8(uint32_t x) {
    return bench_halves((int8_t)((x >> 8) & 0xFFu), (int8_t)(x >> 24));
}

BENCH_INLINE uint32_t bench_smlad(uint32_t x, uint32_t y, uint32_t acc) {
    const int32_t lo = (int32_t)(int16_t)(x & 0xFFFFu) * (int16_t)(y & 0xFFFFu);
    const int32_t hi = (int32_t)(int16_t)(x >> 16) * (int16_t)(y >> 16);
    return acc + (uint32_t)lo + (uint32_t)hi;
}

#define BENCH_LOAD4(ptr, w0, w1, w2, w3)     \
    do {                                     \
        (w0) = bench_read_u32(ptr);          \
        (w1) = bench_read_u32((ptr) + 4);    \
        (w2) = bench_read_u32((ptr) + 8);    \
        (w3) = bench_read_u32((ptr) + 12);   \
        (ptr) += 16;                         \
    } while (0)

BENCH_INLINE uint32_t bench_smlabb(uint32_t x, uint32_t y, uint32_t acc) {
    return acc + (uint32_t)((int32_t)(int16_t)(x & 0xFFFFu) * (int16_t)(y & 0xFFFFu));
}

BENCH_INLINE uint32_t bench_smlatt(uint32_t x, uint32_t y, uint32_t acc) {
    return acc + (uint32_t)((int32_t)(int16_t)(x >> 16) * (int16_t)(y >> 16));
}

BENCH_INLINE uint32_t bench_sadd16(uint32_t x, uint32_t y) {
    return ((x + y) & 0xFFFFu) | (((x >> 16) + (y >> 16)) << 16);
}

BENCH_INLINE int32_t bench_ssat8(int32_t x) {
    return x < -128 ? -128 : (x > 127 ? 127 : x);
}

BENCH_INLINE uint32_t bench_max_s8x4(uint32_t x, uint32_t y) {
    uint32_t r = 0;
    for (unsigned i = 0; i < 32; i += 8) {
        const int8_t a = (int8_t)((x >> i) & 0xFFu), b = (int8_t)((y >> i) & 0xFFu);
        r |= (uint32_t)(uint8_t)(a > b ? a : b) << i;
    }
    return r;
}

BENCH_INLINE uint32_t bench_min_s8x4(uint32_t x, uint32_t y) {
    uint32_t r = 0;
    for (unsigned i = 0; i < 32; i += 8) {
        const int8_t a = (int8_t)((x >> i) & 0xFFu), b = (int8_t)((y >> i) & 0xFFu);
        r |= (uint32_t)(uint8_t)(a < b ? a : b) << i;
    }
    return r;
}

#endif

#endif /* BENCH_SIMD_H */
