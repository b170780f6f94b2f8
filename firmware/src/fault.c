/* HardFault and the configurable faults: report the stacked registers and
 * the fault status registers on the UART as one `e-hil-fault` line, then park
 * the core. No semihosting here: a semihosting call from a fault handler
 * locks up QEMU. The host sees the line and stops the target.
 * A layer that returns an error status is reported on the same kind of line,
 * from thread mode, where exiting through semihosting is safe.
 * ARMv6-M (Cortex-M0/M0+) has no CFSR, HFSR, MMFAR or BFAR (every fault is a
 * HardFault) and only Thumb-1: its line leaves those fields out, and its entry
 * has no IT block and no `tst` with an immediate. */
#include <stdint.h>
#include "bench_platform.h"
#include "bench_io.h"
#include "bench_runtime.h"

#define SCB_CFSR  (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR  (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR  (*(volatile uint32_t *)0xE000ED38u)

__attribute__((used, noreturn)) void bench_fault_report(const uint32_t *frame, uint32_t exc_return) {
    static const char *const names[8] = {"r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr"};
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    bench_uart_puts("\r\ne-hil-fault exception=");
    bench_put_u32(ipsr & 0x1FFu);
#if !defined(__ARM_ARCH_6M__)
    bench_uart_puts(" cfsr=");
    bench_put_hex32(SCB_CFSR);
    bench_uart_puts(" hfsr=");
    bench_put_hex32(SCB_HFSR);
    bench_uart_puts(" mmfar=");
    bench_put_hex32(SCB_MMFAR);
    bench_uart_puts(" bfar=");
    bench_put_hex32(SCB_BFAR);
#endif
    bench_uart_puts(" exc_return=");
    bench_put_hex32(exc_return);
    for (int i = 0; i < 8; ++i) {
        bench_uart_putc(' ');
        bench_uart_puts(names[i]);
        bench_uart_putc('=');
        bench_put_hex32(frame[i]);
    }
    bench_uart_puts("\r\n");
    for (;;) {
        __asm__ volatile("wfi");
    }
}

__attribute__((naked)) void bench_fault_entry(void) {
#if defined(__ARM_ARCH_6M__)
    /* EXC_RETURN bit 2: the frame is on the process stack (set) or the main stack */
    __asm__ volatile(
        "movs r0, #4\n"
        "mov r1, lr\n"
        "tst r0, r1\n"
        "beq 1f\n"
        "mrs r0, psp\n"
        "b 2f\n"
        "1:\n"
        "mrs r0, msp\n"
        "2:\n"
        "ldr r2, =bench_fault_report\n"
        "bx r2\n"
        ".ltorg\n");
#else
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b bench_fault_report\n");
#endif
}

void bench_fault_layer(uint32_t index, bench_op_t op, bench_status_t status) {
    /* the whole line is written before the exit, so the host reads it before QEMU closes the UART */
    bench_uart_puts("\r\ne-hil-fault layer=");
    bench_put_u32(index);
    bench_uart_puts(" op=");
    bench_put_u32((uint32_t)op);
    bench_uart_puts(" status=");
    bench_put_u32((uint32_t)status);
    bench_uart_puts(" reason=");
    for (const char *s = bench_status_str(status); *s != '\0'; ++s) {
        bench_uart_putc(*s == ' ' ? '-' : *s); /* one token: the line is space-separated key=value fields */
    }
    bench_uart_puts("\r\n");
    bench_exit((int)status);
}
