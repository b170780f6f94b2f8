/* RP2040 UART0 (ARM PL011), polled, 8N1 (Raspberry Pi Pico: TX GP0, RX GP1).
 * Source: RP2040 Datasheet §4.2 UART (PL011 registers, baud divisor), §2.14 RESETS,
 * §2.19 GPIO (IO_BANK0 GPIOn_CTRL FUNCSEL, PADS_BANK0). The UART clock is clk_peri, set in
 * clock_rp2040.c (bench_uart_clock_hz: the clock now running).
 *
 * Divisor: BAUDDIV = clk_peri / (16 * baud), IBRD its integer part, FBRD its fraction in
 * 64ths, rounded (the Pico SDK's uart_set_baudrate arithmetic); LCR_H is written after
 * IBRD/FBRD, which latches them. */
#include <stdint.h>
#include "bench_clock.h"
#include "bench_platform.h"

#define UART_DR    (*(volatile uint32_t *)(BENCH_UART_BASE + 0x000u)) /* UARTDR */
#define UART_FR    (*(volatile uint32_t *)(BENCH_UART_BASE + 0x018u)) /* UARTFR */
#define UART_IBRD  (*(volatile uint32_t *)(BENCH_UART_BASE + 0x024u)) /* UARTIBRD */
#define UART_FBRD  (*(volatile uint32_t *)(BENCH_UART_BASE + 0x028u)) /* UARTFBRD */
#define UART_LCR_H (*(volatile uint32_t *)(BENCH_UART_BASE + 0x02Cu)) /* UARTLCR_H */
#define UART_CR    (*(volatile uint32_t *)(BENCH_UART_BASE + 0x030u)) /* UARTCR */
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define LCR_H_FEN   (1u << 4)
#define LCR_H_WLEN8 (0x3u << 5)
#define CR_UARTEN (1u << 0)
#define CR_TXE    (1u << 8)
#define CR_RXE    (1u << 9)

#define RESETS_RESET_DONE (*(volatile uint32_t *)0x4000C008u) /* RESETS RESET_DONE */
#define RESETS_RESET_CLR  (*(volatile uint32_t *)0x4000F000u) /* RESETS RESET, atomic clear alias */
#define IO_BANK0_GPIO0_CTRL (*(volatile uint32_t *)0x40014004u) /* IO_BANK0 GPIO0_CTRL */
#define IO_BANK0_GPIO1_CTRL (*(volatile uint32_t *)0x4001400Cu) /* IO_BANK0 GPIO1_CTRL */
#define PADS_BANK0_GPIO0 (*(volatile uint32_t *)0x4001C004u) /* PADS_BANK0 GPIO0 */
#define PADS_BANK0_GPIO1 (*(volatile uint32_t *)0x4001C008u) /* PADS_BANK0 GPIO1 */
#define RESET_IO_BANK0   (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_UART0      (1u << 22)
#define FUNCSEL_UART 2u
#define PAD_IE (1u << 6)
#define PAD_OD (1u << 7)
#define RESET_TRIES 1000000u

void bench_uart_init(void) {
    const uint32_t blocks = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
    RESETS_RESET_CLR = blocks;
    for (uint32_t n = RESET_TRIES; n != 0u && (RESETS_RESET_DONE & blocks) != blocks; --n) {
    }
    PADS_BANK0_GPIO0 = (PADS_BANK0_GPIO0 & ~PAD_OD) | PAD_IE;
    PADS_BANK0_GPIO1 = (PADS_BANK0_GPIO1 & ~PAD_OD) | PAD_IE;
    IO_BANK0_GPIO0_CTRL = FUNCSEL_UART; /* GP0 = UART0 TX */
    IO_BANK0_GPIO1_CTRL = FUNCSEL_UART; /* GP1 = UART0 RX */
    uint32_t div = 8u * bench_uart_clock_hz / BENCH_UART_BAUD; /* 128ths of 16x-baud periods */
    uint32_t ibrd = div >> 7;
    uint32_t fbrd = ((div & 0x7Fu) + 1u) / 2u;
    if (ibrd == 0u) {
        ibrd = 1u;
        fbrd = 0u;
    } else if (ibrd >= 0xFFFFu) {
        ibrd = 0xFFFFu;
        fbrd = 0u;
    }
    UART_IBRD = ibrd;
    UART_FBRD = fbrd;
    UART_LCR_H = LCR_H_WLEN8 | LCR_H_FEN;
    UART_CR = CR_UARTEN | CR_TXE | CR_RXE;
}

void bench_uart_putc(char c) {
    while (UART_FR & FR_TXFF) {
    }
    UART_DR = (uint8_t)c;
}

int bench_uart_getc(void) {
    while (UART_FR & FR_RXFE) {
    }
    return (int)(UART_DR & 0xFFu);
}
