/* nRF51 legacy UART (micro:bit v1: UART0 at 0x40002000, TX P0.24, RX P0.25),
 * polled, no EasyDMA. QEMU's microbit needs ENABLE=4 and TASKS_STARTTX
 * (TASKS_STARTRX to receive: host bytes sent before that wait, not lost);
 * EVENTS_TXDRDY goes to 1 once per byte written to TXD, EVENTS_RXDRDY while
 * RXD holds a byte. Events are cleared by writing 0.
 *
 * Not for the nRF52 (Arduino Nano 33 BLE): its UARTE moves bytes by EasyDMA
 * (TXD.PTR/MAXCNT, EVENTS_ENDTX) and needs a driver of its own; the legacy
 * UART this file drives exists on nRF52832 only and is deprecated there. */
#include <stdint.h>
#include "bench_platform.h"

#define NRF_UART_REG(off) (*(volatile uint32_t *)(BENCH_UART_BASE + (off)))
#define UART_TASKS_STARTRX NRF_UART_REG(0x000u)
#define UART_TASKS_STARTTX NRF_UART_REG(0x008u)
#define UART_EVENTS_RXDRDY NRF_UART_REG(0x108u)
#define UART_EVENTS_TXDRDY NRF_UART_REG(0x11Cu)
#define UART_ENABLE        NRF_UART_REG(0x500u)
#define UART_PSELRTS       NRF_UART_REG(0x508u)
#define UART_PSELTXD       NRF_UART_REG(0x50Cu)
#define UART_PSELCTS       NRF_UART_REG(0x510u)
#define UART_PSELRXD       NRF_UART_REG(0x514u)
#define UART_RXD           NRF_UART_REG(0x518u)
#define UART_TXD           NRF_UART_REG(0x51Cu)
#define UART_BAUDRATE      NRF_UART_REG(0x524u)
#define UART_CONFIG        NRF_UART_REG(0x56Cu)
#define UART_ENABLE_UART   4u
#define PSEL_DISCONNECTED  0xFFFFFFFFu

#define GPIO_OUTSET     (*(volatile uint32_t *)0x50000508u)
#define GPIO_PIN_CNF(n) (*(volatile uint32_t *)(0x50000700u + 4u * (n)))
#define PIN_CNF_OUTPUT  1u /* DIR=output, INPUT connected, no pull */
#define PIN_CNF_INPUT   0u

#ifndef BENCH_NRF_UART_TX_PIN
#define BENCH_NRF_UART_TX_PIN 24u /* micro:bit v1 interface chip link */
#endif
#ifndef BENCH_NRF_UART_RX_PIN
#define BENCH_NRF_UART_RX_PIN 25u
#endif

/* BAUDRATE is a 32-bit fraction of the 16 MHz UART clock, baud * 2^32 / 16 MHz,
 * rounded to a multiple of 0x1000 as Nordic's table is (115200 -> 0x01D7E000). */
#define NRF_BAUDRATE_CODE \
    ((uint32_t)(((((uint64_t)BENCH_UART_BAUD << 32) / BENCH_UART_CLOCK_HZ) + 0x800u) & 0xFFFFF000u))

#if BENCH_UART_CLOCK_HZ == 16000000u && BENCH_UART_BAUD == 115200u
_Static_assert(NRF_BAUDRATE_CODE == 0x01D7E000u, "nRF BAUDRATE code for 115200 baud");
#endif

void bench_uart_init(void) {
    GPIO_OUTSET = 1u << BENCH_NRF_UART_TX_PIN; /* TX idles high */
    GPIO_PIN_CNF(BENCH_NRF_UART_TX_PIN) = PIN_CNF_OUTPUT;
    GPIO_PIN_CNF(BENCH_NRF_UART_RX_PIN) = PIN_CNF_INPUT;
    UART_PSELRTS = PSEL_DISCONNECTED;
    UART_PSELCTS = PSEL_DISCONNECTED;
    UART_PSELTXD = BENCH_NRF_UART_TX_PIN;
    UART_PSELRXD = BENCH_NRF_UART_RX_PIN;
    UART_BAUDRATE = NRF_BAUDRATE_CODE;
    UART_CONFIG = 0u; /* no parity, no flow control */
    UART_ENABLE = UART_ENABLE_UART;
    UART_EVENTS_TXDRDY = 0u;
    UART_EVENTS_RXDRDY = 0u;
    UART_TASKS_STARTTX = 1u;
    UART_TASKS_STARTRX = 1u;
}

void bench_uart_putc(char c) {
    UART_TXD = (uint8_t)c;
    while (UART_EVENTS_TXDRDY == 0u) {
    }
    UART_EVENTS_TXDRDY = 0u;
}

int bench_uart_getc(void) {
    while (UART_EVENTS_RXDRDY == 0u) {
    }
    /* clear first: reading RXD may raise the event again for the next byte */
    UART_EVENTS_RXDRDY = 0u;
    return (int)(UART_RXD & 0xFFu);
}
