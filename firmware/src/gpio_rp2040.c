/* Timestamp GPIO on the RP2040, driven by the SIO. Source: RP2040 Datasheet §2.14 RESETS
 * (RESET 0x4000C000, its atomic clear alias +0x3000, RESET_DONE +0x8; IO_BANK0 bit 5,
 * PADS_BANK0 bit 8), §2.19.6 IO_BANK0 (GPIOn_CTRL at 0x40014004 + 8n, FUNCSEL 5 = SIO),
 * §2.3.1.7 SIO (GPIO_OUT_SET 0xD0000014, GPIO_OUT_CLR 0xD0000018, GPIO_OE_SET 0xD0000024).
 * BENCH_TS_GPIO_PIN is the GPIO number (0..29) from the build. */
#include <stdint.h>
#include "bench_platform.h"

#ifndef BENCH_TS_GPIO_PIN
#error "the build defines BENCH_TS_GPIO_PIN"
#endif

#define RESETS_RESET_DONE (*(volatile uint32_t *)0x4000C008u)
#define RESETS_RESET_CLR  (*(volatile uint32_t *)0x4000F000u)
#define IO_BANK0_CTRL     (*(volatile uint32_t *)(0x40014004u + 8u * BENCH_TS_GPIO_PIN))
#define SIO_GPIO_OUT_SET  (*(volatile uint32_t *)0xD0000014u)
#define SIO_GPIO_OUT_CLR  (*(volatile uint32_t *)0xD0000018u)
#define SIO_GPIO_OE_SET   (*(volatile uint32_t *)0xD0000024u)
#define RESET_IO_BANK0    (1u << 5)
#define RESET_PADS_BANK0  (1u << 8)
#define FUNCSEL_SIO       5u
#define PIN_BIT           (1u << BENCH_TS_GPIO_PIN)
#define RESET_TRIES       100000u

void bench_gpio_init(void) {
    const uint32_t banks = RESET_IO_BANK0 | RESET_PADS_BANK0;
    RESETS_RESET_CLR = banks; /* already out of reset when the UART pins were set up: harmless */
    for (uint32_t i = 0u; i < RESET_TRIES && (RESETS_RESET_DONE & banks) != banks; ++i) {
    }
    SIO_GPIO_OUT_SET = PIN_BIT; /* level high before it drives */
    IO_BANK0_CTRL = FUNCSEL_SIO;
    SIO_GPIO_OE_SET = PIN_BIT;
}

void bench_timestamp_low(void) {
    SIO_GPIO_OUT_CLR = PIN_BIT;
}

void bench_timestamp_high(void) {
    SIO_GPIO_OUT_SET = PIN_BIT;
}
