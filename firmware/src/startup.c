/* Start-up for ARMv6-M / ARMv7-M / ARMv8-M cores: the vector table, copying .data,
 * zeroing .bss, painting the stack for the high-water mark, enabling the FPU
 * where the build has one, the board's clock set-up (bench_clock_init, compiled in
 * only for boards with a `clock` set-up: BENCH_CLOCK_SETUP), then main(). Symbols come
 * from the generated linker script (harness.firmware.linker). */
#include <stdint.h>
#include "bench_clock.h"
#include "bench_platform.h"

#ifndef BENCH_CLOCK_SETUP
#define BENCH_CLOCK_SETUP 0
#endif

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;
extern int main(void);
void Reset_Handler(void);
void bench_fault_entry(void);
void SysTick_Handler(void);

#define STACK_PAINT 0xA5A5A5A5u

static void default_handler(void) {
    bench_fault_entry();
}

__attribute__((section(".vectors"), used)) static void (*const vector_table[16])(void) = {
    (void (*)(void))(&_estack),
    Reset_Handler,
    default_handler, /* NMI */
    bench_fault_entry, /* HardFault */
    bench_fault_entry, /* MemManage */
    bench_fault_entry, /* BusFault */
    bench_fault_entry, /* UsageFault */
    0, 0, 0, 0,
    default_handler, /* SVCall */
    default_handler, /* DebugMonitor */
    0,
    default_handler, /* PendSV */
    SysTick_Handler,
};

__attribute__((noreturn, used)) void Reset_Handler(void) {
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    /* Paint the stack below the current frame; 64 bytes of margin. */
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = &_sstack; (uint32_t)p < sp - 64u; ++p) {
        *p = STACK_PAINT;
    }
#if defined(__ARM_FP)
    /* CPACR: full access to CP10 and CP11 */
    *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20);
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
#if BENCH_CLOCK_SETUP
    bench_clock_init(); /* boards with a `clock` set-up only: emulated boards' code stays byte for byte */
#endif
    main();
    bench_exit(0);
}

uint32_t bench_stack_size_bytes(void) {
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_sstack);
}

uint32_t bench_stack_used_bytes(void) {
    const uint32_t *p = &_sstack;
    while (p < &_estack && *p == STACK_PAINT) {
        ++p;
    }
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}
