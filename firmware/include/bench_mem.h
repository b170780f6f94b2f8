/* int16 elements of the byte arena, read and written through __builtin_memcpy:
 * never through a wider pointer cast into the uint8_t arena (an aliasing
 * violation; tests/firmware/test_arena_access.py checks for it). GCC compiles
 * each to one halfword load or store. */
#ifndef BENCH_MEM_H
#define BENCH_MEM_H

#include <stdint.h>

static inline int16_t bench_get_i16(const uint8_t *base, uint32_t i) {
    int16_t v;
    __builtin_memcpy(&v, base + 2u * i, sizeof v);
    return v;
}

static inline void bench_put_i16(uint8_t *base, uint32_t i, int16_t v) {
    __builtin_memcpy(base + 2u * i, &v, sizeof v);
}

#endif /* BENCH_MEM_H */
