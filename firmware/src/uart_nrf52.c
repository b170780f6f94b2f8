/* nRF52840 UARTE with EasyDMA, polled, 8N1 (Arduino Nano 33 BLE Sense: UARTE0 on the D1/TX
 * pin P1.03 and the D0/RX pin P1.10, as the ArduinoCore-mbed ARDUINO_NANO33BLE variant maps
 * Serial1). Source: nRF52840 Product Specification v1.7, §6.34 UARTE (registers, BAUDRATE
 * table, PSEL format), §6.9 GPIO.
 *
 * The Nano's USB port is the nRF52840's own USB device, not this UART: the host needs a
 * 3.3 V USB-serial adapter on D0/D1. EasyDMA reads and writes RAM only, so both the TX and
 * the RX byte live in static RAM buffers. TX: TXD.PTR/MAXCNT = 1, STARTTX, wait EVENTS_ENDTX.
 * RX: a 1-byte buffer with the ENDRX -> STARTRX short, so reception restarts at once; a byte
 * arriving before the previous one is read overwrites it (the host waits for replies). */
#include <stdint.h>
#include "bench_platform.h"

#define UARTE_REG(off) (*(volatile uint32_t *)(BENCH_UART_BASE + (off)))
#define UARTE_TASKS_STARTRX  UARTE_REG(0x000u) /* TASKS_STARTRX */
#define UARTE_TASKS_STARTTX  UARTE_REG(0x008u) /* TASKS_STARTTX */
#define UARTE_EVENTS_ENDRX   UARTE_REG(0x110u) /* EVENTS_ENDRX */
#define UARTE_EVENTS_ENDTX   UARTE_REG(0x120u) /* EVENTS_ENDTX */
#define UARTE_SHORTS         UARTE_REG(0x200u) /* SHORTS */
#define UARTE_ENABLE         UARTE_REG(0x500u) /* ENABLE */
#define UARTE_PSEL_RTS       UARTE_REG(0x508u) /* PSEL.RTS */
#define UARTE_PSEL_TXD       UARTE_REG(0x50Cu) /* PSEL.TXD */
#define UARTE_PSEL_CTS       UARTE_REG(0x510u) /* PSEL.CTS */
#define UARTE_PSEL_RXD       UARTE_REG(0x514u) /* PSEL.RXD */
#define UARTE_BAUDRATE       UARTE_REG(0x524u) /* BAUDRATE */
#define UARTE_RXD_PTR        UARTE_REG(0x534u) /* RXD.PTR */
#define UARTE_RXD_MAXCNT     UARTE_REG(0x538u) /* RXD.MAXCNT */
#define UARTE_TXD_PTR        UARTE_REG(0x544u) /* TXD.PTR */
#define UARTE_TXD_MAXCNT     UARTE_REG(0x548u) /* TXD.MAXCNT */
#define UARTE_CONFIG         UARTE_REG(0x56Cu) /* CONFIG */
#define UARTE_ENABLE_UARTE   8u
#define SHORTS_ENDRX_STARTRX (1u << 5)
#define PSEL_DISCONNECTED    0xFFFFFFFFu
#define PSEL(port, pin)      (((uint32_t)(port) << 5) | (uint32_t)(pin)) /* CONNECT (bit 31) = 0 */

#define P1_OUTSET     (*(volatile uint32_t *)0x50000808u)                /* GPIO P1 OUTSET */
#define P1_PIN_CNF(n) (*(volatile uint32_t *)(0x50000A00u + 4u * (n)))   /* GPIO P1 PIN_CNF[n] (P1 at 0x50000300) */
#define PIN_CNF_OUTPUT 1u /* DIR = output, input buffer connected */
#define PIN_CNF_INPUT  0u
#define TX_PIN 3u  /* P1.03 */
#define RX_PIN 10u /* P1.10 */

/* BAUDRATE codes from the UARTE table (they differ from the legacy UART's) */
#if BENCH_UART_BAUD == 9600u
#define UARTE_BAUD_CODE 0x00275000u
#elif BENCH_UART_BAUD == 19200u
#define UARTE_BAUD_CODE 0x004EA000u
#elif BENCH_UART_BAUD == 38400u
#define UARTE_BAUD_CODE 0x009D0000u
#elif BENCH_UART_BAUD == 57600u
#define UARTE_BAUD_CODE 0x00EB0000u
#elif BENCH_UART_BAUD == 115200u
#define UARTE_BAUD_CODE 0x01D60000u
#elif BENCH_UART_BAUD == 230400u
#define UARTE_BAUD_CODE 0x03B00000u
#elif BENCH_UART_BAUD == 460800u
#define UARTE_BAUD_CODE 0x07400000u
#elif BENCH_UART_BAUD == 921600u
#define UARTE_BAUD_CODE 0x0F000000u
#elif BENCH_UART_BAUD == 1000000u
#define UARTE_BAUD_CODE 0x10000000u
#else
#error "nRF52 UARTE: baud rate not in the BAUDRATE table"
#endif

static volatile uint8_t g_tx_byte;
static volatile uint8_t g_rx_byte;

void bench_uart_init(void) {
    P1_OUTSET = 1u << TX_PIN; /* TX idles high */
    P1_PIN_CNF(TX_PIN) = PIN_CNF_OUTPUT;
    P1_PIN_CNF(RX_PIN) = PIN_CNF_INPUT;
    UARTE_PSEL_RTS = PSEL_DISCONNECTED;
    UARTE_PSEL_CTS = PSEL_DISCONNECTED;
    UARTE_PSEL_TXD = PSEL(1u, TX_PIN);
    UARTE_PSEL_RXD = PSEL(1u, RX_PIN);
    UARTE_BAUDRATE = UARTE_BAUD_CODE;
    UARTE_CONFIG = 0u; /* no parity, one stop bit, no flow control */
    UARTE_ENABLE = UARTE_ENABLE_UARTE;
    UARTE_RXD_PTR = (uint32_t)(uintptr_t)&g_rx_byte;
    UARTE_RXD_MAXCNT = 1u;
    UARTE_SHORTS = SHORTS_ENDRX_STARTRX;
    UARTE_EVENTS_ENDRX = 0u;
    UARTE_TASKS_STARTRX = 1u;
}

void bench_uart_putc(char c) {
    g_tx_byte = (uint8_t)c;
    UARTE_TXD_PTR = (uint32_t)(uintptr_t)&g_tx_byte;
    UARTE_TXD_MAXCNT = 1u;
    UARTE_EVENTS_ENDTX = 0u;
    UARTE_TASKS_STARTTX = 1u;
    while (UARTE_EVENTS_ENDTX == 0u) {
    }
    UARTE_EVENTS_ENDTX = 0u;
}

int bench_uart_getc(void) {
    while (UARTE_EVENTS_ENDRX == 0u) {
    }
    UARTE_EVENTS_ENDRX = 0u;
    return (int)g_rx_byte;
}
