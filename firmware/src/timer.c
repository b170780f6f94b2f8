/* The one timing shim. DWT CYCCNT where it counts (real Cortex-M3/M4/M7/M33/M55),
 * extended to 64 bits (bench_counter64.h); SysTick, extended to 64 bits by its
 * wrap interrupt, where it does not (QEMU, whose DWT reads 0). The SysTick
 * interrupt runs in both cases: with DWT it observes CYCCNT every 2^24 cycles,
 * so a CYCCNT wrap is counted even when nothing reads the time for longer than
 * 2^32 cycles. Under QEMU the host's plugin does not count the SysTick handler,
 * so counts stay deterministic.
 * ARMv6-M (Cortex-M0/M0+) has no DWT cycle counter: there the DWT is left
 * alone at compile time and SysTick (processor clock, 24 bits, its wraps
 * counted by the interrupt into 64 bits) is the only source. QEMU's microbit
 * gives its M0 a SysTick; the real nRF51 has none (a TIMER/RTC driver would
 * be needed on hardware; the host's plugin count does not depend on it). */
#include <stdint.h>
#include "bench_counter64.h"
#include "bench_platform.h"

#ifndef BENCH_CPU_HZ
#error "BENCH_CPU_HZ must be defined by the build (the board's clock)"
#endif

#define DEMCR      (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL   (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
/* DWT Lock Access Register (CoreSight): on the Cortex-M7 the DWT's registers ignore
 * software writes until the key is written here (Cortex-M7 TRM, ARM DDI 0489, §3.5 and
 * Table "DWT register summary": DWT_LAR at 0xE0001FB0; CoreSight Architecture
 * Specification, ARM IHI 0029, LAR key 0xC5ACCE55). Where the register is not
 * implemented it is RAZ/WI (ARMv7-M ARM, ARM DDI 0403, §C1.1: the CoreSight
 * management registers are optional), so the write is harmless there. */
#define DWT_LAR    (*(volatile uint32_t *)0xE0001FB0u)
#define DWT_LAR_KEY 0xC5ACCE55u
#define SYST_CSR   (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR   (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR   (*(volatile uint32_t *)0xE000E018u)

#if defined(__ARM_ARCH_6M__)
#define BENCH_HAS_DWT 0
#else
#define BENCH_HAS_DWT 1
#endif

static volatile uint32_t g_systick_wraps;
#if BENCH_HAS_DWT
static volatile bench_counter64_t g_dwt_count;
static volatile int g_use_dwt; /* read by the SysTick handler */
#endif

void SysTick_Handler(void) {
    g_systick_wraps = g_systick_wraps + 1u;
#if BENCH_HAS_DWT
    if (g_use_dwt) {
        (void)bench_counter64_observe(&g_dwt_count, DWT_CYCCNT);
    }
#endif
}

void bench_timer_init(void) {
#if BENCH_HAS_DWT
    DEMCR |= (1u << 24); /* TRCENA */
    DWT_LAR = DWT_LAR_KEY; /* unlock (Cortex-M7); RAZ/WI elsewhere */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;      /* CYCCNTENA */
    for (volatile int i = 0; i < 16; ++i) {
    }
    g_dwt_count.last = 0u;
    g_dwt_count.high = 0u;
    g_use_dwt = DWT_CYCCNT != 0;
#endif
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* enable, wrap interrupt, processor clock */
}

uint64_t bench_cycles(void) {
#if BENCH_HAS_DWT
    if (g_use_dwt) {
        /* SysTick also observes: mask it so the two updates of the high word cannot interleave */
        uint32_t primask;
        __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
        const uint64_t cycles = bench_counter64_observe(&g_dwt_count, DWT_CYCCNT);
        __asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
        return cycles;
    }
#endif
    uint32_t wraps, current;
    do {
        wraps = g_systick_wraps;
        current = SYST_CVR;
    } while (wraps != g_systick_wraps);
    return ((uint64_t)wraps << 24) + (0x00FFFFFFu - current);
}

int bench_cycles_from_dwt(void) {
#if BENCH_HAS_DWT
    return g_use_dwt != 0;
#else
    return 0;
#endif
}

uint32_t bench_timestamp_us(void) {
    return (uint32_t)(bench_cycles() / (BENCH_CPU_HZ / 1000000u));
}
