/* STM32H7A3 clock set-up to 280 MHz (NUCLEO-H7A3ZI-Q), and the Cortex-M7 I- and D-caches.
 * Source: RM0455 (STM32H7A3/7B3/7B0 reference manual) §4 (FLASH_ACR), §6 (PWR: supply
 * configuration, PWR_SRDCR.VOS), §7 (RCC); DS13195 (STM32H7A3xI/G datasheet); the Cortex-M7
 * Technical Reference Manual and ARMv7-M ARM §B2.2 (cache maintenance, CCR).
 *
 * Supply: the "-Q" NUCLEO runs the core from the internal SMPS (direct SMPS supply,
 * PWR_CR3.SMPSEN = 1, LDOEN = 0, BYPASS = 0); PWR_CR3 may be written once after reset.
 * HSI 64 MHz / DIVM1 4 = 16 MHz (PLL1RGE = 8-16 MHz) -> x DIVN1 35 = VCO 560 MHz (wide range)
 * -> / DIVP1 2 = 280 MHz SYSCLK. CPU and AHB /1 = 280 MHz; APB1/2/3/4 /2 = 140 MHz (their limit).
 * USART3 from rcc_pclk1 (CDCCIP2R.USART234578SEL reset value 000) = 140 MHz.
 * 280 MHz needs VOS0 (PWR_SRDCR.VOS = 11) and 6 flash wait states (RM0455 Table "FLASH
 * recommended number of wait states", VOS0, 252-280 MHz); WRHIGHFREQ is left at its reset value. */
#include <stdint.h>
#include "bench_clock.h"

#define RCC_CR        (*(volatile uint32_t *)0x58024400u) /* RCC_CR */
#define RCC_CFGR      (*(volatile uint32_t *)0x58024410u) /* RCC_CFGR */
#define RCC_CDCFGR1   (*(volatile uint32_t *)0x58024418u) /* RCC_CDCFGR1: CDCPRE, CDPPRE (APB3), HPRE */
#define RCC_CDCFGR2   (*(volatile uint32_t *)0x5802441Cu) /* RCC_CDCFGR2: CDPPRE1 (APB1), CDPPRE2 (APB2) */
#define RCC_SRDCFGR   (*(volatile uint32_t *)0x58024420u) /* RCC_SRDCFGR: SRDPPRE (APB4) */
#define RCC_PLLCKSELR (*(volatile uint32_t *)0x58024428u) /* RCC_PLLCKSELR */
#define RCC_PLLCFGR   (*(volatile uint32_t *)0x5802442Cu) /* RCC_PLLCFGR */
#define RCC_PLL1DIVR  (*(volatile uint32_t *)0x58024430u) /* RCC_PLL1DIVR */
#define RCC_AHB4ENR   (*(volatile uint32_t *)0x580244E0u) /* RCC_AHB4ENR */
#define RCC_APB1LENR  (*(volatile uint32_t *)0x580244E8u) /* RCC_APB1LENR */
#define PWR_CSR1      (*(volatile uint32_t *)0x58024804u) /* PWR_CSR1 */
#define PWR_CR3       (*(volatile uint32_t *)0x5802480Cu) /* PWR_CR3 */
#define PWR_SRDCR     (*(volatile uint32_t *)0x58024818u) /* PWR_SRDCR */
#define FLASH_ACR     (*(volatile uint32_t *)0x52002000u) /* FLASH_ACR */
#define GPIOD_MODER   (*(volatile uint32_t *)0x58020C00u) /* GPIOD_MODER */
#define GPIOD_AFRH    (*(volatile uint32_t *)0x58020C24u) /* GPIOD_AFRH */
#define SCB_CCR       (*(volatile uint32_t *)0xE000ED14u) /* SCB Configuration and Control Register */
#define SCB_CCSIDR    (*(volatile uint32_t *)0xE000ED80u) /* Cache Size ID Register */
#define SCB_CSSELR    (*(volatile uint32_t *)0xE000ED84u) /* Cache Size Selection Register */
#define SCB_ICIALLU   (*(volatile uint32_t *)0xE000EF50u) /* I-cache invalidate all to PoU */
#define SCB_DCISW     (*(volatile uint32_t *)0xE000EF60u) /* D-cache invalidate by set/way */

#define CR_HSIRDY  (1u << 2)
#define CR_PLL1ON  (1u << 24)
#define CR_PLL1RDY (1u << 25)
#define CFGR_SW_MASK  0x7u
#define CFGR_SW_PLL1  0x3u
#define CFGR_SWS_MASK (0x7u << 3)
#define CFGR_SWS_PLL1 (0x3u << 3)
#define PPRE_DIV2 0x4u
#define PLLCKSELR_SRC_MASK 0x3u /* 00 = HSI */
#define PLLCKSELR_DIVM1(m) ((m) << 4)
#define PLLCFGR_PLL1_MASK 0xFu  /* PLL1FRACEN, PLL1VCOSEL, PLL1RGE */
#define PLLCFGR_PLL1RGE_8_16 (0x3u << 2) /* PLL1VCOSEL = 0: wide VCO, 192-836 MHz */
#define PLLCFGR_DIVP1EN (1u << 16)
#define PLL1DIVR(n, p, q, r) (((n) - 1u) | (((p) - 1u) << 9) | (((q) - 1u) << 16) | (((r) - 1u) << 24))
#define AHB4ENR_GPIOD (1u << 3)
#define APB1LENR_USART3 (1u << 18)
#define CR3_BYPASS (1u << 0)
#define CR3_LDOEN  (1u << 1)
#define CR3_SMPSEN (1u << 2)
#define CR3_SMPSEXTHP (1u << 3)
#define CR3_SMPSLEVEL (0x3u << 4)
#define CSR1_ACTVOSRDY (1u << 13)
#define SRDCR_VOS_MASK (0x3u << 14)
#define SRDCR_VOS0     (0x3u << 14)
#define SRDCR_VOSRDY   (1u << 13)
#define ACR_LATENCY_MASK 0xFu
#define ACR_LATENCY_6WS 6u
#define CCR_DC (1u << 16)
#define CCR_IC (1u << 17)
#define HSI_HZ 64000000u

volatile uint32_t bench_clock_hz = HSI_HZ;
volatile uint32_t bench_uart_clock_hz = HSI_HZ;
volatile uint32_t bench_clock_state = BENCH_CLOCK_UNTOUCHED;
volatile uint32_t bench_clock_step = 0u;

static inline void barriers(void) {
    __asm__ volatile("dsb\n isb" ::: "memory");
}

static void caches_enable(void) {
    barriers();
    SCB_ICIALLU = 0u;
    barriers();
    SCB_CCR |= CCR_IC;
    barriers();
    SCB_CSSELR = 0u; /* level 1 data cache */
    barriers();
    uint32_t ccsidr = SCB_CCSIDR;
    uint32_t sets = (ccsidr >> 13) & 0x7FFFu;
    do {
        uint32_t ways = (ccsidr >> 3) & 0x3FFu;
        do {
            SCB_DCISW = ((sets & 0x1FFu) << 5) | ((ways & 0x3u) << 30);
        } while (ways-- != 0u);
    } while (sets-- != 0u);
    barriers();
    SCB_CCR |= CCR_DC;
    barriers();
}

static void vcp_pins(void) {
    RCC_AHB4ENR |= AHB4ENR_GPIOD;
    RCC_APB1LENR |= APB1LENR_USART3;
    (void)RCC_APB1LENR;
    GPIOD_MODER = (GPIOD_MODER & ~(0xFu << 16)) | (0xAu << 16); /* PD8, PD9: alternate function */
    GPIOD_AFRH = (GPIOD_AFRH & ~0xFFu) | 0x77u;                 /* AF7 = USART3_TX, USART3_RX */
}

static int pll_280mhz(void) {
    PWR_CR3 = (PWR_CR3 & ~(CR3_SMPSLEVEL | CR3_SMPSEXTHP | CR3_SMPSEN | CR3_LDOEN | CR3_BYPASS)) | CR3_SMPSEN;
    if (!bench_clock_wait(&PWR_CSR1, CSR1_ACTVOSRDY, CSR1_ACTVOSRDY, BENCH_CLOCK_TRIES)) {
        return 1;
    }
    PWR_SRDCR = (PWR_SRDCR & ~SRDCR_VOS_MASK) | SRDCR_VOS0;
    if (!bench_clock_wait(&PWR_SRDCR, SRDCR_VOSRDY, SRDCR_VOSRDY, BENCH_CLOCK_TRIES)) {
        return 2;
    }
    if (!bench_clock_wait(&RCC_CR, CR_HSIRDY, CR_HSIRDY, BENCH_CLOCK_TRIES)) {
        return 3;
    }
    FLASH_ACR = (FLASH_ACR & ~ACR_LATENCY_MASK) | ACR_LATENCY_6WS; /* before the clock rises */
    if ((FLASH_ACR & ACR_LATENCY_MASK) != ACR_LATENCY_6WS) {
        return 4;
    }
    RCC_CR &= ~CR_PLL1ON;
    if (!bench_clock_wait(&RCC_CR, CR_PLL1RDY, 0u, BENCH_CLOCK_TRIES)) {
        return 5;
    }
    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~(PLLCKSELR_SRC_MASK | (0x3Fu << 4))) | PLLCKSELR_DIVM1(4u);
    RCC_PLLCFGR = (RCC_PLLCFGR & ~(PLLCFGR_PLL1_MASK | (0x7u << 16))) | PLLCFGR_PLL1RGE_8_16 | PLLCFGR_DIVP1EN;
    RCC_PLL1DIVR = PLL1DIVR(35u, 2u, 2u, 2u);
    RCC_CR |= CR_PLL1ON;
    if (!bench_clock_wait(&RCC_CR, CR_PLL1RDY, CR_PLL1RDY, BENCH_CLOCK_TRIES)) {
        return 6;
    }
    /* CPU /1, AHB /1, APB3 /2; APB1, APB2 /2; APB4 /2 */
    RCC_CDCFGR1 = (RCC_CDCFGR1 & ~((0xFu << 8) | (0x7u << 4) | 0xFu)) | (PPRE_DIV2 << 4);
    RCC_CDCFGR2 = (RCC_CDCFGR2 & ~((0x7u << 8) | (0x7u << 4))) | (PPRE_DIV2 << 8) | (PPRE_DIV2 << 4);
    RCC_SRDCFGR = (RCC_SRDCFGR & ~(0x7u << 4)) | (PPRE_DIV2 << 4);
    RCC_CFGR = (RCC_CFGR & ~CFGR_SW_MASK) | CFGR_SW_PLL1;
    if (!bench_clock_wait(&RCC_CFGR, CFGR_SWS_MASK, CFGR_SWS_PLL1, BENCH_CLOCK_TRIES)) {
        return 7;
    }
    return 0;
}

void bench_clock_init(void) {
    vcp_pins();
    uint32_t step = (uint32_t)pll_280mhz();
    if (step != 0u) {
        /* still on HSI 64 MHz; the APB dividers may already be /2 (step 7) */
        bench_uart_clock_hz = step == 7u ? HSI_HZ / 2u : HSI_HZ;
        bench_clock_fell_back(step);
    } else {
        bench_clock_hz = BENCH_CPU_HZ;
        bench_uart_clock_hz = BENCH_UART_CLOCK_HZ;
        bench_clock_state = BENCH_CLOCK_RATED;
    }
    caches_enable();
}
