/* STM32L4R5 clock set-up to 120 MHz (NUCLEO-L4R5ZI). Source: RM0432 (STM32L4+ reference
 * manual) §3.3.3 (flash wait states), §5.1.8 and §5.4 (PWR_CR1 VOS, PWR_CR5 R1MODE: range 1
 * boost mode above 80 MHz), §6.4 (RCC); DS12023 (STM32L4R5xx datasheet).
 *
 * HSI16 / PLLM 2 = 8 MHz -> x PLLN 30 = VCO 240 MHz -> / PLLR 2 = 120 MHz SYSCLK.
 * AHB, APB1, APB2 /1 = 120 MHz; LPUART1 clocked from PCLK1 (CCIPR.LPUART1SEL = 00).
 * 120 MHz needs range 1 boost (PWR_CR5.R1MODE = 0) and 5 flash wait states. Per RM0432, the
 * switch to above 80 MHz goes through AHB /2 for at least 1 us before AHB /1.
 *
 * The VCP pins PG7/PG8 are in the VDDIO2 domain: PWR_CR2.IOSV must be set first. */
#include <stdint.h>
#include "bench_clock.h"

#define RCC_CR       (*(volatile uint32_t *)0x40021000u) /* RCC_CR */
#define RCC_CFGR     (*(volatile uint32_t *)0x40021008u) /* RCC_CFGR */
#define RCC_PLLCFGR  (*(volatile uint32_t *)0x4002100Cu) /* RCC_PLLCFGR */
#define RCC_AHB2ENR  (*(volatile uint32_t *)0x4002104Cu) /* RCC_AHB2ENR */
#define RCC_APB1ENR1 (*(volatile uint32_t *)0x40021058u) /* RCC_APB1ENR1 */
#define RCC_APB1ENR2 (*(volatile uint32_t *)0x4002105Cu) /* RCC_APB1ENR2 */
#define RCC_CCIPR    (*(volatile uint32_t *)0x40021088u) /* RCC_CCIPR */
#define PWR_CR1      (*(volatile uint32_t *)0x40007000u) /* PWR_CR1 */
#define PWR_CR2      (*(volatile uint32_t *)0x40007004u) /* PWR_CR2 */
#define PWR_SR2      (*(volatile uint32_t *)0x40007014u) /* PWR_SR2 */
#define PWR_CR5      (*(volatile uint32_t *)0x40007080u) /* PWR_CR5 */
#define FLASH_ACR    (*(volatile uint32_t *)0x40022000u) /* FLASH_ACR */
#define GPIOG_MODER  (*(volatile uint32_t *)0x48001800u) /* GPIOG_MODER */
#define GPIOG_AFRL   (*(volatile uint32_t *)0x48001820u) /* GPIOG_AFRL */
#define GPIOG_AFRH   (*(volatile uint32_t *)0x48001824u) /* GPIOG_AFRH */

#define CR_HSION   (1u << 8)
#define CR_HSIRDY  (1u << 10)
#define CR_PLLON   (1u << 24)
#define CR_PLLRDY  (1u << 25)
#define CFGR_SW_MASK  0x3u
#define CFGR_SW_HSI   0x1u
#define CFGR_SW_PLL   0x3u
#define CFGR_SWS_MASK (0x3u << 2)
#define CFGR_SWS_HSI  (0x1u << 2)
#define CFGR_SWS_PLL  (0x3u << 2)
#define CFGR_HPRE_MASK (0xFu << 4)
#define CFGR_HPRE_DIV2 (0x8u << 4)
#define CFGR_PPRE_MASK ((0x7u << 8) | (0x7u << 11))
#define PLLCFGR_SRC_HSI16 0x2u
#define PLLCFGR_M(m)  (((m) - 1u) << 4)
#define PLLCFGR_N(n)  ((n) << 8)
#define PLLCFGR_R_DIV2 (0x0u << 25)
#define PLLCFGR_REN   (1u << 24)
#define AHB2ENR_GPIOG (1u << 6)
#define APB1ENR1_PWR  (1u << 28)
#define APB1ENR2_LPUART1 (1u << 0)
#define CCIPR_LPUART1SEL_MASK (0x3u << 10) /* 00 = PCLK1 */
#define PWR_CR1_VOS_MASK   (0x3u << 9)
#define PWR_CR1_VOS_RANGE1 (0x1u << 9)
#define PWR_CR2_IOSV  (1u << 9)
#define PWR_SR2_VOSF  (1u << 10)
#define PWR_CR5_R1MODE (1u << 8)
#define ACR_LATENCY_MASK 0xFu
#define ACR_LATENCY_5WS 5u
#define ACR_PRFTEN (1u << 8)
#define ACR_ICEN   (1u << 9)
#define ACR_DCEN   (1u << 10)
#define MSI_RESET_HZ 4000000u
#define HSI_HZ 16000000u

volatile uint32_t bench_clock_hz = MSI_RESET_HZ;
volatile uint32_t bench_uart_clock_hz = MSI_RESET_HZ;
volatile uint32_t bench_clock_state = BENCH_CLOCK_UNTOUCHED;
volatile uint32_t bench_clock_step = 0u;

static void vcp_pins(void) {
    RCC_APB1ENR1 |= APB1ENR1_PWR;
    (void)RCC_APB1ENR1;
    PWR_CR2 |= PWR_CR2_IOSV; /* VDDIO2 valid: port G usable */
    RCC_AHB2ENR |= AHB2ENR_GPIOG;
    RCC_APB1ENR2 |= APB1ENR2_LPUART1;
    (void)RCC_APB1ENR2;
    RCC_CCIPR &= ~CCIPR_LPUART1SEL_MASK; /* LPUART1 from PCLK1 */
    GPIOG_MODER = (GPIOG_MODER & ~(0xFu << 14)) | (0xAu << 14);   /* PG7, PG8: alternate function */
    GPIOG_AFRL = (GPIOG_AFRL & ~(0xFu << 28)) | (0x8u << 28);     /* PG7 AF8 = LPUART1_TX */
    GPIOG_AFRH = (GPIOG_AFRH & ~0xFu) | 0x8u;                     /* PG8 AF8 = LPUART1_RX */
}

void bench_clock_init(void) {
    vcp_pins();
    RCC_CR |= CR_HSION;
    if (!bench_clock_wait(&RCC_CR, CR_HSIRDY, CR_HSIRDY, BENCH_CLOCK_TRIES)) {
        bench_clock_fell_back(1u); /* stay on MSI 4 MHz */
        return;
    }
    RCC_CFGR = (RCC_CFGR & ~CFGR_SW_MASK) | CFGR_SW_HSI;
    if (!bench_clock_wait(&RCC_CFGR, CFGR_SWS_MASK, CFGR_SWS_HSI, BENCH_CLOCK_TRIES)) {
        bench_clock_fell_back(2u);
        return;
    }
    bench_clock_hz = HSI_HZ;
    bench_uart_clock_hz = HSI_HZ;
    /* range 1 (the reset value), then boost: R1MODE = 0 */
    PWR_CR1 = (PWR_CR1 & ~PWR_CR1_VOS_MASK) | PWR_CR1_VOS_RANGE1;
    if (!bench_clock_wait(&PWR_SR2, PWR_SR2_VOSF, 0u, BENCH_CLOCK_TRIES)) {
        bench_clock_fell_back(3u);
        return;
    }
    PWR_CR5 &= ~PWR_CR5_R1MODE;
    FLASH_ACR = (FLASH_ACR & ~ACR_LATENCY_MASK) | ACR_LATENCY_5WS | ACR_PRFTEN | ACR_ICEN | ACR_DCEN;
    if ((FLASH_ACR & ACR_LATENCY_MASK) != ACR_LATENCY_5WS) {
        bench_clock_fell_back(4u);
        return;
    }
    RCC_CR &= ~CR_PLLON;
    if (!bench_clock_wait(&RCC_CR, CR_PLLRDY, 0u, BENCH_CLOCK_TRIES)) {
        bench_clock_fell_back(5u);
        return;
    }
    RCC_PLLCFGR = PLLCFGR_SRC_HSI16 | PLLCFGR_M(2u) | PLLCFGR_N(30u) | PLLCFGR_R_DIV2 | PLLCFGR_REN;
    RCC_CR |= CR_PLLON;
    if (!bench_clock_wait(&RCC_CR, CR_PLLRDY, CR_PLLRDY, BENCH_CLOCK_TRIES)) {
        bench_clock_fell_back(6u);
        return;
    }
    /* AHB /2 through the switch (RM0432: above 80 MHz), APB1 and APB2 /1 */
    RCC_CFGR = (RCC_CFGR & ~(CFGR_HPRE_MASK | CFGR_PPRE_MASK)) | CFGR_HPRE_DIV2;
    RCC_CFGR = (RCC_CFGR & ~CFGR_SW_MASK) | CFGR_SW_PLL;
    if (!bench_clock_wait(&RCC_CFGR, CFGR_SWS_MASK, CFGR_SWS_PLL, BENCH_CLOCK_TRIES)) {
        RCC_CFGR &= ~CFGR_HPRE_MASK;
        bench_clock_fell_back(7u);
        return;
    }
    for (volatile uint32_t i = 0u; i < 200u; ++i) { /* >= 1 us at 60 MHz */
    }
    RCC_CFGR &= ~CFGR_HPRE_MASK; /* AHB /1: 120 MHz */
    bench_clock_hz = BENCH_CPU_HZ;
    bench_uart_clock_hz = BENCH_UART_CLOCK_HZ;
    bench_clock_state = BENCH_CLOCK_RATED;
}
