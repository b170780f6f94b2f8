/* Formatting on the UART without printf: decimal, hex and fixed 3-decimal
 * numbers, the only formats the protocol needs. */
#ifndef BENCH_IO_H
#define BENCH_IO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void bench_put_u32(uint32_t v);
void bench_put_u64(uint64_t v);         /* decimal, every digit */
void bench_put_i32(int32_t v);
void bench_put_hex32(uint32_t v);         /* 0x%08x */
void bench_put_hex_byte(uint8_t v);       /* %02x */
void bench_put_milli(int64_t milli);      /* milli/1000 with 3 decimals */
void bench_put_line(const char *s);       /* s then CR LF */

#ifdef __cplusplus
}
#endif
#endif /* BENCH_IO_H */
