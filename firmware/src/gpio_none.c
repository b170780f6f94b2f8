/* Timestamp GPIO of kind "none": no pin. An energy-mode pulse then only calls the marker
 * hil_mark_timestamp (energy.c), which the QEMU plugin logs: for emulated boards. */
#include "bench_platform.h"

void bench_gpio_init(void) {
}

void bench_timestamp_low(void) {
}

void bench_timestamp_high(void) {
}
