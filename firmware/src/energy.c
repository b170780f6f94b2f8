/* Energy mode (DESIGN §5, MLPerf Tiny's th_timestamp in energy mode): a timestamp is a
 * falling edge on the board's timestamp GPIO, held low for at least 1 us, which the power
 * analyzer integrates between. Linked only in energy-mode builds (BENCH_ENERGY_MODE 1, one
 * pulse at the start and the stop of a timed `infer` block; 2, per layer: the start pulse
 * and one at the end of every layer of the timed inferences). The GPIO driver is
 * gpio_<kind>.c, chosen by the board's [timestamp_gpio] table. */
#include <stdint.h>
#include "bench_platform.h"

#ifndef BENCH_CPU_HZ
#error "BENCH_CPU_HZ must be defined by the build (the board's clock)"
#endif

/* Cycles in 1 us, rounded up; the wait runs until more than this many have passed, so a
 * counter read just before it ticks cannot shorten the pulse below 1 us. */
#define PULSE_CYCLES ((BENCH_CPU_HZ + 999999u) / 1000000u)

void bench_timestamp_pulse(void) {
    hil_mark_timestamp(); /* the emulator's view of the edge: the QEMU plugin logs "timestamp COUNT" */
    bench_timestamp_low();
    const uint64_t start = bench_cycles();
    while (bench_cycles() - start <= PULSE_CYCLES) {
    }
    bench_timestamp_high();
}
