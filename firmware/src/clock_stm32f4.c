/* STM32F411 clock set-up to 100 MHz (NUCLEO-F411RE). Source: RM0383 (STM32F411xC/E
 * reference manual) §3 (flash ACR), §5 (PWR_CR VOS), §6 (RCC); DS10314 (datasheet).
 *
 * HSI 16 MHz / PLLM 8 = 2 MHz -> x PLLN 100 = VCO 200 MHz -> / PLLP 2 = 100 MHz SYSCLK.
 * AHB /1 = 100 MHz, APB1 /2 = 50 MHz (its limit; USART2), APB2 /1 = 100 MHz.
 * 100 MHz needs voltage scale 1 (PWR_CR.VOS = 0b11) and 3 flash wait states (2.7-3.6 V).
 * HSI, not HSE: the NUCLEO's HSE comes from the ST-LINK MCO only when solder bridges are set.
 *
 * Also the board's VCP pins: uart_stm32.c enables USART1 on PA9/PA10 (netduinoplus2); the
 * NUCLEO-F411RE's ST-LINK VCP is USART2 on PA2 (TX) / PA3 (RX), AF7, set up here. */
#include <stdint.h>
#include "bench_clock.h"

#define RCC_CR      (*(volatile uint32_t *)0x40023800u) /* RCC_CR */
#define RCC_PLLCFGR (*(volatile uint32_t *)0x40023804u) /* RCC_PLLCFGR */
#define RCC_CFGR    (*(volatile uint32_t *)0x40023808u) /* RCC_CFGR */
#define RCC_AHB1ENR (*(volatile uint32_t *)0x40023830u) /* RCC_AHB1ENR */
#define RCC_APB1ENR (*(volatile uint32_t *)0x40023840u) /* RCC_APB1ENR */
#define PWR_CR      (*(volatile uint32_t *)0x40007000u) /* PWR_CR */
#define PWR_CSR     (*(volatile uint32_t *)0x40007004u) /* PWR_CSR */
#define FLASH_ACR   (*(volatile uint32_t *)0x40023C00u) /* FLASH_ACR */
#define GPIOA_MODER (*(volatile uint32_t *)0x40020000u) /* GPIOA_MODER */
#define GPIOA_AFRL  (*(volatile uint32_t *)0x40020020u) /* GPIOA_AFRL */

#define CR_HSION   (1u << 0)
#define CR_HSIRDY  (1u << 1)
#define CR_PLLON   (1u << 24)
#define CR_PLLRDY  (1u << 25)
#define CFGR_SW_MASK   0x3u
#define CFGR_SW_PLL    0x2u
#define CFGR_SWS_MASK  (0x3u << 2)
#define CFGR_SWS_PLL   (0x2u << 2)
#define CFGR_PPRE1_DIV2 (0x4u << 10)
#define APB1ENR_USART2 (1u << 17)
#define APB1ENR_PWR    (1u << 28)
#define AHB1ENR_GPIOA  (1u << 0)
#define PWR_CR_VOS_SCALE1 (0x3u << 14)
#define PWR_CSR_VOSRDY (1u << 14)
#define ACR_LATENCY_3WS 3u
#define ACR_PRFTEN (1u << 8)
#define ACR_ICEN   (1u << 9)
#define ACR_DCEN   (1u << 10)

#define PLL_M 8u
#define PLL_N 100u
#define PLL_P_DIV2 0u /* PLLP field 00 = /2 */
#define PLL_Q 4u
#define PLLCFGR_SRC_HSI 0u /* bit 22 = 0 */
#define HSI_HZ 16000000u

volatile uint32_t bench_clock_hz = HSI_HZ;
volatile uint32_t bench_uart_clock_hz = HSI_HZ;
volatile uint32_t bench_clock_state = BENCH_CLOCK_UNTOUCHED;
volatile uint32_t bench_clock_step = 0u;

static void vcp_pins(void) {
    RCC_AHB1ENR |= AHB1ENR_GPIOA;
    RCC_APB1ENR |= APB1ENR_USART2;
    (void)RCC_APB1ENR; /* read back: the clock is on before the next access */
    GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 4)) | (0xAu << 4);    /* PA2, PA3: alternate function */
    GPIOA_AFRL = (GPIOA_AFRL & ~(0xFFu << 8)) | (0x77u << 8);    /* AF7 = USART2 */
}

void bench_clock_init(void) {
    vcp_pins();
    if (!bench_clock_wait(&RCC_CR, CR_HSIRDY, CR_HSIRDY, BENCH_CLOCK_TRIES)) {
        bench_clock_fell_back(1u); /* HSI is the reset clock; not ready would be odd: stay */
        return;
    }
    RCC_APB1ENR |= APB1ENR_PWR;
    (void)RCC_APB1ENR;
    PWR_CR |= PWR_CR_VOS_SCALE1; /* takes effect when the PLL is on; VOSRDY checked after */
    FLASH_ACR = ACR_LATENCY_3WS | ACR_PRFTEN | ACR_ICEN | ACR_DCEN;
    if ((FLASH_ACR & 0xFu) != ACR_LATENCY_3WS) {
        bench_clock_fell_back(2u);
        return;
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x7u << 10) | (0x7u << 13))) | CFGR_PPRE1_DIV2; /* AHB/1 APB1/2 APB2/1 */
    RCC_CR &= ~CR_PLLON;
    RCC_PLLCFGR = PLL_M | (PLL_N << 6) | (PLL_P_DIV2 << 16) | PLLCFGR_SRC_HSI | (PLL_Q << 24);
    RCC_CR |= CR_HSION | CR_PLLON;
    if (!bench_clock_wait(&RCC_CR, CR_PLLRDY, CR_PLLRDY, BENCH_CLOCK_TRIES)) {
        bench_uart_clock_hz = HSI_HZ / 2u; /* APB1 /2 of HSI; the UART driver's BRR assumes 50 MHz */
        bench_clock_fell_back(3u);
        return;
    }
    if (!bench_clock_wait(&PWR_CSR, PWR_CSR_VOSRDY, PWR_CSR_VOSRDY, BENCH_CLOCK_TRIES)) {
        bench_uart_clock_hz = HSI_HZ / 2u;
        bench_clock_fell_back(4u); /* not at scale 1: 100 MHz is out of spec, stay on HSI */
        return;
    }
    RCC_CFGR = (RCC_CFGR & ~CFGR_SW_MASK) | CFGR_SW_PLL;
    if (!bench_clock_wait(&RCC_CFGR, CFGR_SWS_MASK, CFGR_SWS_PLL, BENCH_CLOCK_TRIES)) {
        bench_uart_clock_hz = HSI_HZ / 2u;
        bench_clock_fell_back(5u);
        return;
    }
    bench_clock_hz = BENCH_CPU_HZ;
    bench_uart_clock_hz = BENCH_UART_CLOCK_HZ;
    bench_clock_state = BENCH_CLOCK_RATED;
}
