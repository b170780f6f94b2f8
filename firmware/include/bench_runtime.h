/* Running the generated model: the arena, one inference, per-layer cycles. */
#ifndef BENCH_RUNTIME_H
#define BENCH_RUNTIME_H

#include <stdint.h>
#include "bench_model.h"

#ifdef __cplusplus
extern "C" {
#endif

uint8_t *bench_arena(void);
uint32_t bench_arena_size_bytes(void);
/* One inference on the input already in the arena; the input is left intact.
 * Fills the per-layer cycle table read by bench_layer_cycles(). */
void bench_invoke(void);
uint64_t bench_layer_cycles(uint32_t layer);
const char *bench_op_name(bench_op_t op);

#ifdef __cplusplus
}
#endif
#endif /* BENCH_RUNTIME_H */
