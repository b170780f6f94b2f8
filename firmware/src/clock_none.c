/* No clock set-up: emulated boards run at their reset clock (QEMU ignores
 * clock registers), and the build of those boards stays as it was. */
#include <stdint.h>
#include "bench_clock.h"

volatile uint32_t bench_clock_hz = BENCH_CPU_HZ;
volatile uint32_t bench_uart_clock_hz = BENCH_UART_CLOCK_HZ;
volatile uint32_t bench_clock_state = BENCH_CLOCK_UNTOUCHED;
volatile uint32_t bench_clock_step = 0u;

__attribute__((weak)) void bench_clock_init(void) {
}
