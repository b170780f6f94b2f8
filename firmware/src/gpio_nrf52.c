/* Timestamp GPIO on an nRF52840. Source: nRF52840 Product Specification v1.7 §6.9 GPIO
 * (P0 at 0x50000000, P1 at 0x50000300; OUTSET 0x508, OUTCLR 0x50C, DIRSET 0x518,
 * PIN_CNF[n] 0x700 + 4n). BENCH_TS_GPIO_BASE is the port's base (from the build),
 * BENCH_TS_GPIO_PIN the pin (0..31). */
#include <stdint.h>
#include "bench_platform.h"

#if !defined(BENCH_TS_GPIO_BASE) || !defined(BENCH_TS_GPIO_PIN)
#error "the build defines BENCH_TS_GPIO_BASE and BENCH_TS_GPIO_PIN"
#endif

#define GPIO_OUTSET  (*(volatile uint32_t *)(BENCH_TS_GPIO_BASE + 0x508u))
#define GPIO_OUTCLR  (*(volatile uint32_t *)(BENCH_TS_GPIO_BASE + 0x50Cu))
#define GPIO_DIRSET  (*(volatile uint32_t *)(BENCH_TS_GPIO_BASE + 0x518u))
#define GPIO_PIN_CNF (*(volatile uint32_t *)(BENCH_TS_GPIO_BASE + 0x700u + 4u * BENCH_TS_GPIO_PIN))
#define PIN_BIT      (1u << BENCH_TS_GPIO_PIN)
#define PIN_CNF_OUTPUT_NO_INPUT 0x3u /* DIR = output, INPUT = disconnect, no pull, drive S0S1 */

void bench_gpio_init(void) {
    GPIO_OUTSET = PIN_BIT; /* level high before it drives */
    GPIO_PIN_CNF = PIN_CNF_OUTPUT_NO_INPUT;
    GPIO_DIRSET = PIN_BIT;
}

void bench_timestamp_low(void) {
    GPIO_OUTCLR = PIN_BIT;
}

void bench_timestamp_high(void) {
    GPIO_OUTSET = PIN_BIT;
}
