/* STM32F2/F4 USART (netduinoplus2: USART1 on PA9/PA10). On hardware the
 * peripheral and GPIO clocks and the pin alternate function must be set; QEMU
 * ignores those writes. RX needs CR1.UE|RE before bytes arrive. */
#include <stdint.h>
#include "bench_platform.h"

#define USART_SR  (*(volatile uint32_t *)(BENCH_UART_BASE + 0x00u))
#define USART_DR  (*(volatile uint32_t *)(BENCH_UART_BASE + 0x04u))
#define USART_BRR (*(volatile uint32_t *)(BENCH_UART_BASE + 0x08u))
#define USART_CR1 (*(volatile uint32_t *)(BENCH_UART_BASE + 0x0Cu))
#define SR_RXNE (1u << 5)
#define SR_TXE  (1u << 7)
#define CR1_UE  (1u << 13)
#define CR1_TE  (1u << 3)
#define CR1_RE  (1u << 2)

#define RCC_AHB1ENR (*(volatile uint32_t *)0x40023830u)
#define RCC_APB2ENR (*(volatile uint32_t *)0x40023844u)
#define GPIOA_MODER (*(volatile uint32_t *)0x40020000u)
#define GPIOA_AFRH  (*(volatile uint32_t *)0x40020024u)

void bench_uart_init(void) {
    RCC_AHB1ENR |= 1u;       /* GPIOA */
    RCC_APB2ENR |= 1u << 4;  /* USART1 */
    GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 18)) | (0xAu << 18); /* PA9, PA10: alternate */
    GPIOA_AFRH = (GPIOA_AFRH & ~(0xFFu << 4)) | (0x77u << 4);    /* AF7 = USART1 */
    USART_BRR = BENCH_UART_CLOCK_HZ / BENCH_UART_BAUD;
    USART_CR1 = CR1_UE | CR1_TE | CR1_RE;
}

void bench_uart_putc(char c) {
    while (!(USART_SR & SR_TXE)) {
    }
    USART_DR = (uint8_t)c;
}

int bench_uart_getc(void) {
    while (!(USART_SR & SR_RXNE)) {
    }
    return (int)(USART_DR & 0xFFu);
}
