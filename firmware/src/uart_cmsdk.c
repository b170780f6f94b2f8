/* ARM CMSDK APB UART (MPS2/MPS3 boards). QEMU needs CTRL.TXEN or the TX-full
 * flag never clears, and CTRL.RXEN to receive. BENCH_UART_BASE and
 * BENCH_UART_CLOCK_HZ come from the board definition. */
#include <stdint.h>
#include "bench_platform.h"

#define UART_DATA     (*(volatile uint32_t *)(BENCH_UART_BASE + 0x00u))
#define UART_STATE    (*(volatile uint32_t *)(BENCH_UART_BASE + 0x04u))
#define UART_CTRL     (*(volatile uint32_t *)(BENCH_UART_BASE + 0x08u))
#define UART_BAUDDIV  (*(volatile uint32_t *)(BENCH_UART_BASE + 0x10u))
#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u

void bench_uart_init(void) {
    UART_BAUDDIV = BENCH_UART_CLOCK_HZ / BENCH_UART_BAUD;
    UART_CTRL = 3u; /* TX enable | RX enable */
}

void bench_uart_putc(char c) {
    while (UART_STATE & STATE_TX_FULL) {
    }
    UART_DATA = (uint8_t)c;
}

int bench_uart_getc(void) {
    while (!(UART_STATE & STATE_RX_FULL)) {
    }
    return (int)(UART_DATA & 0xFFu);
}
