/* Runs the DEQUANTIZE kernel with its float output at every byte offset
 * (1, 2, 3 are misaligned for float) and in place, and prints the output's
 * bytes in hex, for test_arena_access.py. Under UBSan a float stored through a
 * misaligned pointer into the byte arena stops the program. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_kernels.h"

#define COUNT 9u

static void run(uint32_t in_offset, uint32_t out_offset) {
    /* exactly the bytes used: AddressSanitizer sees any access past them */
    const uint32_t end = (in_offset + COUNT > out_offset + 4u * COUNT) ? in_offset + COUNT : out_offset + 4u * COUNT;
    uint8_t *arena = malloc(end);
    if (arena == NULL) exit(2);
    memset(arena, 0, end);
    for (uint32_t i = 0; i < COUNT; ++i) {
        arena[in_offset + i] = (uint8_t)(int8_t)(-128 + 31 * (int)i);
    }
    const bench_dequantize_params_t p = {.in_offset = in_offset, .out_offset = out_offset, .count = COUNT,
                                         .zero_point = -3, .scale = 0.0123456789};
    bench_kernel_dequantize(&p, arena);
    for (uint32_t i = 0; i < 4u * COUNT; ++i) printf("%02x", arena[out_offset + i]);
    printf("\n");
    free(arena);
}

int main(void) {
    for (uint32_t out = 0; out < 4u; ++out) run(64u, out); /* apart, output at offsets 0..3 */
    for (uint32_t at = 0; at < 4u; ++at) run(at, at);      /* in place, at offsets 0..3 */
    return 0;
}
