/* UART text output helpers and the few libc functions GCC may call
 * (the firmware links no C library). */
#include <stddef.h>
#include <stdint.h>
#include "bench_io.h"
#include "bench_platform.h"

static const char k_hex[] = "0123456789abcdef";

void bench_uart_puts(const char *s) {
    while (*s != '\0') {
        bench_uart_putc(*s++);
    }
}

void bench_put_line(const char *s) {
    bench_uart_puts(s);
    bench_uart_puts("\r\n");
}

void bench_put_u32(uint32_t v) {
    char buf[11];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        bench_uart_putc(buf[--n]);
    }
}

void bench_put_u64(uint64_t v) {
    char buf[20]; /* 2^64 - 1 has 20 digits */
    int n = 0;
    do {
        buf[n++] = (char)('0' + (uint32_t)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        bench_uart_putc(buf[--n]);
    }
}

void bench_put_i32(int32_t v) {
    if (v < 0) {
        bench_uart_putc('-');
        bench_put_u32(0u - (uint32_t)v);
    } else {
        bench_put_u32((uint32_t)v);
    }
}

void bench_put_hex_byte(uint8_t v) {
    bench_uart_putc(k_hex[v >> 4]);
    bench_uart_putc(k_hex[v & 0xFu]);
}

void bench_put_hex32(uint32_t v) {
    bench_uart_puts("0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
        bench_uart_putc(k_hex[(v >> shift) & 0xFu]);
    }
}

void bench_put_milli(int64_t milli) {
    if (milli < 0) {
        bench_uart_putc('-');
        milli = -milli;
    }
    bench_put_u32((uint32_t)(milli / 1000));
    bench_uart_putc('.');
    uint32_t frac = (uint32_t)(milli % 1000);
    bench_uart_putc((char)('0' + frac / 100u));
    bench_uart_putc((char)('0' + (frac / 10u) % 10u));
    bench_uart_putc((char)('0' + frac % 10u));
}

void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n-- > 0u) {
        *d++ = *s++;
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    while (n-- > 0u) {
        *d++ = (uint8_t)c;
    }
    return dst;
}
