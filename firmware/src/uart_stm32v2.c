/* STM32 USART "v2" and LPUART (STM32L4/L4+, STM32H7: ISR/ICR/RDR/TDR), polled, 8N1, no FIFO.
 * Source: RM0432 (STM32L4+) §52 USART and §53 LPUART register maps; RM0455 (STM32H7A3) §56
 * USART/LPUART. NUCLEO-L4R5ZI: LPUART1 at 0x40008000 (VCP on PG7/PG8); NUCLEO-H7A3ZI-Q:
 * USART3 at 0x40004800 (VCP on PD8/PD9). The peripheral clock, kernel clock selection and
 * the pins' alternate functions are set in the board's clock_<family>.c, which runs first.
 *
 * BRR: USART with 16x oversampling, fck / baud; LPUART (BENCH_UART_LPUART), 256 * fck / baud
 * (20 bits, at least 0x300). fck is the kernel clock now running (bench_uart_clock_hz), so the
 * baud stays right when the clock set-up fell back. */
#include <stdint.h>
#include "bench_clock.h"
#include "bench_platform.h"

#define USART_CR1 (*(volatile uint32_t *)(BENCH_UART_BASE + 0x00u)) /* USART_CR1 / LPUART_CR1 */
#define USART_CR2 (*(volatile uint32_t *)(BENCH_UART_BASE + 0x04u)) /* USART_CR2 / LPUART_CR2 */
#define USART_CR3 (*(volatile uint32_t *)(BENCH_UART_BASE + 0x08u)) /* USART_CR3 / LPUART_CR3 */
#define USART_BRR (*(volatile uint32_t *)(BENCH_UART_BASE + 0x0Cu)) /* USART_BRR / LPUART_BRR */
#define USART_ISR (*(volatile uint32_t *)(BENCH_UART_BASE + 0x1Cu)) /* USART_ISR / LPUART_ISR */
#define USART_ICR (*(volatile uint32_t *)(BENCH_UART_BASE + 0x20u)) /* USART_ICR / LPUART_ICR */
#define USART_RDR (*(volatile uint32_t *)(BENCH_UART_BASE + 0x24u)) /* USART_RDR / LPUART_RDR */
#define USART_TDR (*(volatile uint32_t *)(BENCH_UART_BASE + 0x28u)) /* USART_TDR / LPUART_TDR */
#define CR1_UE   (1u << 0)
#define CR1_RE   (1u << 2)
#define CR1_TE   (1u << 3)
#define ISR_ORE  (1u << 3)
#define ISR_RXNE (1u << 5) /* RXFNE on the H7 with the FIFO off: the same bit */
#define ISR_TXE  (1u << 7) /* TXFNF on the H7 with the FIFO off: the same bit */
#define ICR_ORECF (1u << 3)
#define LPUART_BRR_MIN 0x300u
#define LPUART_BRR_MAX 0xFFFFFu

#ifndef BENCH_UART_LPUART
#define BENCH_UART_LPUART 0
#endif

static uint32_t brr_value(uint32_t fck, uint32_t baud) {
#if BENCH_UART_LPUART
    uint64_t brr = ((uint64_t)fck * 256u + baud / 2u) / baud;
    if (brr < LPUART_BRR_MIN) {
        brr = LPUART_BRR_MIN;
    } else if (brr > LPUART_BRR_MAX) {
        brr = LPUART_BRR_MAX;
    }
    return (uint32_t)brr;
#else
    uint32_t brr = (fck + baud / 2u) / baud;
    return brr < 16u ? 16u : brr & 0xFFFFu;
#endif
}

void bench_uart_init(void) {
    USART_CR1 = 0u; /* UE = 0: BRR and the frame format are written while disabled */
    USART_CR2 = 0u; /* 1 stop bit */
    USART_CR3 = 0u; /* no flow control, no DMA */
    USART_BRR = brr_value(bench_uart_clock_hz, BENCH_UART_BAUD);
    USART_CR1 = CR1_UE | CR1_TE | CR1_RE; /* 8 data bits, no parity */
}

void bench_uart_putc(char c) {
    while (!(USART_ISR & ISR_TXE)) {
    }
    USART_TDR = (uint8_t)c;
}

int bench_uart_getc(void) {
    while (!(USART_ISR & ISR_RXNE)) {
        if (USART_ISR & ISR_ORE) {
            USART_ICR = ICR_ORECF; /* a byte was lost; the protocol's checks report it */
        }
    }
    return (int)(USART_RDR & 0xFFu);
}
