/* Clock set-up: bench_clock_init() runs from Reset_Handler before main(). One
 * clock_<family>.c is linked per board (the harness picks it from the board's
 * `clock` key); clock_none.c, for emulated boards, leaves the reset clock.
 * Every ready-flag wait has a timeout: on a timeout the set-up falls back and
 * records which clock is running, for the firmware to report. */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BENCH_CLOCK_UNTOUCHED = 0, /* reset clock left as is (emulated boards) */
    BENCH_CLOCK_RATED = 1,     /* the board's rated clock (BENCH_CPU_HZ) */
    BENCH_CLOCK_FALLBACK = 2   /* a ready flag timed out; bench_clock_hz holds what runs */
} bench_clock_state_t;

extern volatile uint32_t bench_clock_hz;      /* core clock now running, Hz */
extern volatile uint32_t bench_uart_clock_hz; /* UART kernel clock now running, Hz */
extern volatile uint32_t bench_clock_state;   /* a bench_clock_state_t */
extern volatile uint32_t bench_clock_step;    /* 0, or the number of the wait that timed out */

void bench_clock_init(void);

/* Polls (*reg & mask) == want at most `tries` times; 1 when it matched. */
static inline int bench_clock_wait(volatile const uint32_t *reg, uint32_t mask, uint32_t want, uint32_t tries) {
    while (tries-- != 0u) {
        if ((*reg & mask) == want) {
            return 1;
        }
    }
    return 0;
}

/* Records that wait number `step` timed out and the set-up kept an earlier clock. */
static inline void bench_clock_fell_back(uint32_t step) {
    bench_clock_state = BENCH_CLOCK_FALLBACK;
    bench_clock_step = step;
}

#define BENCH_CLOCK_TRIES 2000000u /* ~0.1 s at 16 MHz, far above any datasheet start-up time */

#ifdef __cplusplus
}
#endif
#endif /* BENCH_CLOCK_H */
