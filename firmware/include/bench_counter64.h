/* A free-running 32-bit counter (DWT CYCCNT) extended to 64 bits: the high
 * word counts the wraps seen between observations. Every observation updates
 * it; the timer observes from bench_cycles() and from the SysTick interrupt,
 * which fires every 2^24 cycles, so two observations are never 2^32 or more
 * counts apart and no wrap is missed, however long no one reads the time.
 * Kept apart from timer.c so that host tests can check it on wrap sequences. */
#ifndef BENCH_COUNTER64_H
#define BENCH_COUNTER64_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t last; /* the 32-bit counter at the previous observation */
    uint32_t high; /* wraps seen so far: the upper 32 bits of the count */
} bench_counter64_t;

/* The 64-bit count at an observation `now` of the 32-bit counter, which must
 * be less than 2^32 counts after the previous one. Not reentrant: the
 * interrupt that also observes must be masked around a call from thread mode.
 * Always inlined: under QEMU the SysTick handler's own address range is left
 * out of the instruction count, so it must not call out. */
static inline __attribute__((always_inline)) uint64_t bench_counter64_observe(volatile bench_counter64_t *c,
                                                                              uint32_t now) {
    uint32_t high = c->high;
    if (now < c->last) {
        high += 1u; /* wrapped since the last observation (high itself wraps after 2^64 counts) */
        c->high = high;
    }
    c->last = now;
    return ((uint64_t)high << 32) | now;
}

#ifdef __cplusplus
}
#endif
#endif /* BENCH_COUNTER64_H */
