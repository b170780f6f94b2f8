/* RP2040 clock set-up to 133 MHz (Raspberry Pi Pico). Source: RP2040 Datasheet (build
 * 2023-06), §2.14 RESETS, §2.15 CLOCKS, §2.16 XOSC, §2.18 PLL; Raspberry Pi Pico Datasheet
 * (12 MHz crystal, W25Q16JV flash).
 *
 * XOSC 12 MHz / REFDIV 1 -> x FBDIV 133 = VCO 1596 MHz (750-1600) -> / POSTDIV1 6 / POSTDIV2 2
 * = 133 MHz clk_sys, the datasheet's rated maximum (the Pico SDK's default is 125 MHz).
 * clk_ref = XOSC 12 MHz; clk_peri (UART0) = clk_sys = 133 MHz.
 * On a timeout the clocks stay on the ring oscillator (~6 MHz, not accurate: the UART baud
 * will be off) and the fallback is recorded.
 *
 * The image's vector table is at 0x10000100, after the 256-byte boot2 that configures the
 * QSPI flash for XIP; boot2 sets VTOR itself, set again here. hilbench does not provide
 * boot2 yet: see boards/rpi-pico.toml. */
#include <stdint.h>
#include "bench_clock.h"

#define RESETS_RESET      (*(volatile uint32_t *)0x4000C000u) /* RESETS RESET */
#define RESETS_RESET_DONE (*(volatile uint32_t *)0x4000C008u) /* RESETS RESET_DONE */
#define RESETS_RESET_SET  (*(volatile uint32_t *)0x4000E000u) /* RESETS RESET, atomic set alias (+0x2000) */
#define RESETS_RESET_CLR  (*(volatile uint32_t *)0x4000F000u) /* RESETS RESET, atomic clear alias (+0x3000) */
#define CLK_REF_CTRL      (*(volatile uint32_t *)0x40008030u) /* CLOCKS CLK_REF_CTRL */
#define CLK_REF_DIV       (*(volatile uint32_t *)0x40008034u) /* CLOCKS CLK_REF_DIV */
#define CLK_REF_SELECTED  (*(volatile uint32_t *)0x40008038u) /* CLOCKS CLK_REF_SELECTED */
#define CLK_SYS_CTRL      (*(volatile uint32_t *)0x4000803Cu) /* CLOCKS CLK_SYS_CTRL */
#define CLK_SYS_DIV       (*(volatile uint32_t *)0x40008040u) /* CLOCKS CLK_SYS_DIV */
#define CLK_SYS_SELECTED  (*(volatile uint32_t *)0x40008044u) /* CLOCKS CLK_SYS_SELECTED */
#define CLK_PERI_CTRL     (*(volatile uint32_t *)0x40008048u) /* CLOCKS CLK_PERI_CTRL */
#define CLK_SYS_RESUS_CTRL (*(volatile uint32_t *)0x40008078u) /* CLOCKS CLK_SYS_RESUS_CTRL */
#define XOSC_CTRL         (*(volatile uint32_t *)0x40024000u) /* XOSC CTRL */
#define XOSC_STATUS       (*(volatile uint32_t *)0x40024004u) /* XOSC STATUS */
#define XOSC_STARTUP      (*(volatile uint32_t *)0x4002400Cu) /* XOSC STARTUP */
#define PLL_SYS_CS        (*(volatile uint32_t *)0x40028000u) /* PLL_SYS CS */
#define PLL_SYS_PWR       (*(volatile uint32_t *)0x40028004u) /* PLL_SYS PWR */
#define PLL_SYS_FBDIV_INT (*(volatile uint32_t *)0x40028008u) /* PLL_SYS FBDIV_INT */
#define PLL_SYS_PRIM      (*(volatile uint32_t *)0x4002800Cu) /* PLL_SYS PRIM */
#define SCB_VTOR          (*(volatile uint32_t *)0xE000ED08u) /* SCB Vector Table Offset Register */

#define RESET_PLL_SYS (1u << 12)
#define XOSC_CTRL_1_15MHZ 0xAA0u
#define XOSC_CTRL_ENABLE  (0xFABu << 12)
#define XOSC_STATUS_STABLE (1u << 31)
#define XOSC_STARTUP_DELAY 47u /* (12 MHz / 1000 + 128) / 256: ~1 ms, in units of 256 XOSC cycles */
#define CLK_REF_SRC_ROSC 0x0u
#define CLK_REF_SRC_XOSC 0x2u
#define CLK_SYS_SRC_REF  0x0u
#define CLK_SYS_SRC_AUX  0x1u
#define CLK_SYS_AUXSRC_PLL_SYS (0x0u << 5)
#define CLK_PERI_ENABLE  (1u << 11)
#define CLK_PERI_AUXSRC_CLK_SYS (0x0u << 5)
#define CLK_DIV_1 (1u << 8) /* integer part 1, fraction 0 */
#define PLL_CS_LOCK (1u << 31)
#define PLL_PWR_PD  (1u << 0)
#define PLL_PWR_POSTDIVPD (1u << 3)
#define PLL_PWR_VCOPD (1u << 5)
#define PLL_FBDIV 133u
#define PLL_POSTDIV1 6u
#define PLL_POSTDIV2 2u
#define ROSC_NOMINAL_HZ 6500000u
#define APP_VECTORS 0x10000100u

volatile uint32_t bench_clock_hz = ROSC_NOMINAL_HZ;
volatile uint32_t bench_uart_clock_hz = ROSC_NOMINAL_HZ;
volatile uint32_t bench_clock_state = BENCH_CLOCK_UNTOUCHED;
volatile uint32_t bench_clock_step = 0u;

static void fallback(uint32_t step) {
    bench_clock_fell_back(step);
    CLK_PERI_CTRL = CLK_PERI_ENABLE | CLK_PERI_AUXSRC_CLK_SYS; /* UART0 still gets a clock */
}

static uint32_t clocks_133mhz(void) {
    CLK_SYS_RESUS_CTRL = 0u;
    XOSC_CTRL = XOSC_CTRL_1_15MHZ;
    XOSC_STARTUP = XOSC_STARTUP_DELAY;
    XOSC_CTRL = XOSC_CTRL_1_15MHZ | XOSC_CTRL_ENABLE;
    if (!bench_clock_wait(&XOSC_STATUS, XOSC_STATUS_STABLE, XOSC_STATUS_STABLE, BENCH_CLOCK_TRIES)) {
        return 1u;
    }
    /* clk_sys and clk_ref off their aux sources (glitchless muxes) before the PLL changes */
    CLK_SYS_CTRL &= ~CLK_SYS_SRC_AUX;
    if (!bench_clock_wait(&CLK_SYS_SELECTED, 0x3u, 1u << CLK_SYS_SRC_REF, BENCH_CLOCK_TRIES)) {
        return 2u;
    }
    CLK_REF_CTRL = (CLK_REF_CTRL & ~0x3u) | CLK_REF_SRC_ROSC;
    if (!bench_clock_wait(&CLK_REF_SELECTED, 0x7u, 1u << CLK_REF_SRC_ROSC, BENCH_CLOCK_TRIES)) {
        return 3u;
    }
    RESETS_RESET_SET = RESET_PLL_SYS;
    RESETS_RESET_CLR = RESET_PLL_SYS;
    if (!bench_clock_wait(&RESETS_RESET_DONE, RESET_PLL_SYS, RESET_PLL_SYS, BENCH_CLOCK_TRIES)) {
        return 4u;
    }
    PLL_SYS_CS = 1u; /* REFDIV 1: 12 MHz reference */
    PLL_SYS_FBDIV_INT = PLL_FBDIV;
    PLL_SYS_PWR &= ~(PLL_PWR_PD | PLL_PWR_VCOPD);
    if (!bench_clock_wait(&PLL_SYS_CS, PLL_CS_LOCK, PLL_CS_LOCK, BENCH_CLOCK_TRIES)) {
        return 5u;
    }
    PLL_SYS_PRIM = (PLL_POSTDIV1 << 16) | (PLL_POSTDIV2 << 12);
    PLL_SYS_PWR &= ~PLL_PWR_POSTDIVPD;
    CLK_REF_DIV = CLK_DIV_1;
    CLK_REF_CTRL = (CLK_REF_CTRL & ~0x3u) | CLK_REF_SRC_XOSC;
    if (!bench_clock_wait(&CLK_REF_SELECTED, 0x7u, 1u << CLK_REF_SRC_XOSC, BENCH_CLOCK_TRIES)) {
        return 6u;
    }
    CLK_SYS_DIV = CLK_DIV_1;
    CLK_SYS_CTRL = CLK_SYS_AUXSRC_PLL_SYS | CLK_SYS_SRC_REF; /* aux selected while the glitchless mux is on ref */
    CLK_SYS_CTRL = CLK_SYS_AUXSRC_PLL_SYS | CLK_SYS_SRC_AUX;
    if (!bench_clock_wait(&CLK_SYS_SELECTED, 0x3u, 1u << CLK_SYS_SRC_AUX, BENCH_CLOCK_TRIES)) {
        return 7u;
    }
    CLK_PERI_CTRL = CLK_PERI_ENABLE | CLK_PERI_AUXSRC_CLK_SYS;
    return 0u;
}

void bench_clock_init(void) {
    SCB_VTOR = APP_VECTORS;
    __asm__ volatile("dsb\n isb" ::: "memory");
    uint32_t step = clocks_133mhz();
    if (step != 0u) {
        if (step >= 6u) { /* clk_sys on clk_ref: XOSC 12 MHz from step 7, ROSC before */
            bench_clock_hz = step == 7u ? 12000000u : ROSC_NOMINAL_HZ;
            bench_uart_clock_hz = bench_clock_hz;
        }
        fallback(step);
        return;
    }
    bench_clock_hz = BENCH_CPU_HZ;
    bench_uart_clock_hz = BENCH_UART_CLOCK_HZ;
    bench_clock_state = BENCH_CLOCK_RATED;
}
