/* nRF52840 clock set-up (Arduino Nano 33 BLE Sense). Source: nRF52840 Product Specification
 * v1.7, §5.4 CLOCK (HFCLK), §4.3 NVMC (ICACHECNF); ARMv7-M ARM §B3.2.5 (VTOR).
 *
 * The CPU always runs at 64 MHz (HCLK64M from HFINT or HFXO): there is no PLL to program.
 * Starting the 32 MHz crystal (HFXO) makes the clock accurate (+-40 ppm on the Nano's
 * crystal instead of HFINT's +-1.5 %), which the UART baud and bench_timestamp_us need.
 * On a timeout the core stays on HFINT, still 64 MHz, and the fallback is recorded.
 *
 * The application starts at 0x10000, after the Arduino bootloader (ArduinoCore-mbed
 * ARDUINO_NANO33BLE); VTOR is pointed at this image's vector table in case the bootloader
 * left it at 0. The instruction cache (NVMC ICACHECNF.CACHEEN) is enabled. */
#include <stdint.h>
#include "bench_clock.h"

#define CLOCK_TASKS_HFCLKSTART    (*(volatile uint32_t *)0x40000000u) /* CLOCK TASKS_HFCLKSTART */
#define CLOCK_EVENTS_HFCLKSTARTED (*(volatile uint32_t *)0x40000100u) /* CLOCK EVENTS_HFCLKSTARTED */
#define CLOCK_HFCLKSTAT           (*(volatile uint32_t *)0x4000040Cu) /* CLOCK HFCLKSTAT */
#define NVMC_ICACHECNF            (*(volatile uint32_t *)0x4001E540u) /* NVMC ICACHECNF */
#define SCB_VTOR                  (*(volatile uint32_t *)0xE000ED08u) /* SCB Vector Table Offset Register */

#define HFCLKSTAT_SRC_XTAL (1u << 0)
#define HFCLKSTAT_STATE    (1u << 16)
#define ICACHECNF_CACHEEN  (1u << 0)
#define APP_VECTORS 0x00010000u /* the board's flash origin (boards/nano33-ble-sense.toml) */

volatile uint32_t bench_clock_hz = 64000000u;
volatile uint32_t bench_uart_clock_hz = 16000000u; /* the UARTE's BAUDRATE is a code of a 16 MHz base */
volatile uint32_t bench_clock_state = BENCH_CLOCK_UNTOUCHED;
volatile uint32_t bench_clock_step = 0u;

void bench_clock_init(void) {
    SCB_VTOR = APP_VECTORS;
    __asm__ volatile("dsb\n isb" ::: "memory");
    NVMC_ICACHECNF = ICACHECNF_CACHEEN;
    CLOCK_EVENTS_HFCLKSTARTED = 0u;
    CLOCK_TASKS_HFCLKSTART = 1u;
    if (!bench_clock_wait(&CLOCK_EVENTS_HFCLKSTARTED, 1u, 1u, BENCH_CLOCK_TRIES)
        || !bench_clock_wait(&CLOCK_HFCLKSTAT, HFCLKSTAT_SRC_XTAL | HFCLKSTAT_STATE,
                             HFCLKSTAT_SRC_XTAL | HFCLKSTAT_STATE, BENCH_CLOCK_TRIES)) {
        bench_clock_state = BENCH_CLOCK_FALLBACK; /* HFINT: 64 MHz, +-1.5 % */
        bench_clock_step = 1u;
        return;
    }
    CLOCK_EVENTS_HFCLKSTARTED = 0u;
    bench_clock_state = BENCH_CLOCK_RATED;
}
