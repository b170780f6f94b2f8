/* Platform services the benchmark firmware needs from a board: a UART, a
 * timer, a way to stop, and the marker functions the host's QEMU plugin
 * watches. One implementation of each is linked per board (the harness picks
 * the UART driver from the board's `uart.kind`). */
#ifndef BENCH_PLATFORM_H
#define BENCH_PLATFORM_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* UART: blocking, 8N1. bench_uart_init() must run before any other call. */
void bench_uart_init(void);
void bench_uart_putc(char c);
int bench_uart_getc(void); /* blocks until a byte arrives; returns 0..255 */
void bench_uart_puts(const char *s);

/* Timer: bench_cycles() counts CPU cycles (DWT CYCCNT where it counts,
 * SysTick elsewhere); bench_timestamp_us() derives microseconds from
 * BENCH_CPU_HZ. Under QEMU neither is a measurement: the host counts
 * instructions instead (see bench_markers). */
void bench_timer_init(void);
uint64_t bench_cycles(void);
uint32_t bench_timestamp_us(void);
/* 1 when bench_cycles() reads the DWT cycle counter, 0 when it reads SysTick
 * (no DWT, or a DWT whose CYCCNT does not count, as under QEMU). */
int bench_cycles_from_dwt(void);

/* Energy mode (DESIGN §5, built with BENCH_ENERGY_MODE 1 or 2): a timestamp is
 * a falling edge on the board's timestamp GPIO, held low for >= 1 us, which
 * the power analyzer integrates between. One driver per GPIO kind
 * (firmware/src/gpio_<kind>.c), linked only in energy mode; the pin idles
 * high. bench_timestamp_pulse() (energy.c) calls hil_mark_timestamp() for the
 * emulator, drives the pin low, busy-waits >= 1 us on bench_cycles(), and
 * drives it high again. */
void bench_gpio_init(void);
void bench_timestamp_low(void);
void bench_timestamp_high(void);
void bench_timestamp_pulse(void);

/* Stop the program. Under QEMU this is semihosting SYS_EXIT_EXTENDED, whose
 * status becomes QEMU's exit code; on hardware it parks the core. */
void bench_exit(int status) __attribute__((noreturn));

/* Stack high-water mark: bytes of the reserved stack ever written. */
uint32_t bench_stack_used_bytes(void);
uint32_t bench_stack_size_bytes(void);

/* Markers: empty functions whose first instruction the host's QEMU plugin
 * watches; each call costs a few instructions and nothing else. */
void hil_mark_infer_begin(void);
void hil_mark_layer(void);
void hil_mark_infer_end(void);
void hil_mark_timestamp(void); /* energy-mode builds only: each timestamp pulse */

#ifdef __cplusplus
}
#endif
#endif /* BENCH_PLATFORM_H */
