/* Stopping the program. With BENCH_SEMIHOSTING (emulators) the status goes to
 * the host through SYS_EXIT_EXTENDED; without it (hardware, no debugger
 * attached) a bkpt would fault, so the core just parks. */
#include <stdint.h>
#include "bench_platform.h"

#ifndef BENCH_SEMIHOSTING
#define BENCH_SEMIHOSTING 0
#endif

void bench_exit(int status) {
#if BENCH_SEMIHOSTING
    /* ADP_Stopped_ApplicationExit = 0x20026, then the status */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)status};
    register uint32_t r0 __asm__("r0") = 0x20u; /* SYS_EXIT_EXTENDED */
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
#else
    (void)status;
#endif
    for (;;) {
        __asm__ volatile("wfi");
    }
}
