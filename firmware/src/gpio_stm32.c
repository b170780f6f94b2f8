/* Timestamp GPIO on an STM32 F4, L4 or H7: one GPIO register layout in the three families
 * (RM0383 §8.4, RM0432 §8.5, RM0455 §11.4: MODER 0x00, OTYPER 0x04, OSPEEDR 0x08, BSRR 0x18;
 * ports 0x400 apart). What differs per family, the address of GPIOA and the RCC register
 * whose bit n clocks port n, comes from the build (harness.firmware.build.STM32_GPIO, by the
 * board's clock kind): BENCH_TS_GPIO_BASE is the port's base, BENCH_TS_RCC_ENR that RCC
 * register, BENCH_TS_RCC_BIT the port's bit, BENCH_TS_GPIO_PIN the pin (0..15). */
#include <stdint.h>
#include "bench_platform.h"

#if !defined(BENCH_TS_GPIO_BASE) || !defined(BENCH_TS_GPIO_PIN) || !defined(BENCH_TS_RCC_ENR) || \
    !defined(BENCH_TS_RCC_BIT)
#error "the build defines BENCH_TS_GPIO_BASE, BENCH_TS_GPIO_PIN, BENCH_TS_RCC_ENR and BENCH_TS_RCC_BIT"
#endif

#define GPIO_MODER   (*(volatile uint32_t *)(BENCH_TS_GPIO_BASE + 0x00u))
#define GPIO_OTYPER  (*(volatile uint32_t *)(BENCH_TS_GPIO_BASE + 0x04u))
#define GPIO_OSPEEDR (*(volatile uint32_t *)(BENCH_TS_GPIO_BASE + 0x08u))
#define GPIO_BSRR    (*(volatile uint32_t *)(BENCH_TS_GPIO_BASE + 0x18u))
#define RCC_ENR      (*(volatile uint32_t *)(BENCH_TS_RCC_ENR))
#define PIN_BIT      (1u << BENCH_TS_GPIO_PIN)
#define FIELD2_SHIFT (2u * BENCH_TS_GPIO_PIN)

void bench_gpio_init(void) {
    RCC_ENR |= 1u << BENCH_TS_RCC_BIT;
    (void)RCC_ENR; /* read back: the port's clock runs before its registers are written */
    GPIO_BSRR = PIN_BIT;                                                /* output level high first */
    GPIO_OTYPER &= ~PIN_BIT;                                            /* push-pull */
    GPIO_OSPEEDR = (GPIO_OSPEEDR & ~(3u << FIELD2_SHIFT)) | (1u << FIELD2_SHIFT); /* medium speed */
    GPIO_MODER = (GPIO_MODER & ~(3u << FIELD2_SHIFT)) | (1u << FIELD2_SHIFT);     /* 01: output */
}

void bench_timestamp_low(void) {
    GPIO_BSRR = PIN_BIT << 16; /* BRy: reset */
}

void bench_timestamp_high(void) {
    GPIO_BSRR = PIN_BIT; /* BSy: set */
}
