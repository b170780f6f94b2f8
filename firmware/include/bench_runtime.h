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
 * Variable tensors (operator state) are reset first, so every inference computes
 * what a fresh interpreter's first Invoke computes.
 * Fills the per-layer cycle table read by bench_layer_cycles(). A layer that
 * reports an error ends the program through bench_fault_layer(). */
void bench_invoke(void);
uint64_t bench_layer_cycles(uint32_t layer);
/* Layer `index` alone, for inspecting intermediate outputs: no markers, no timing.
 * Its inputs are what earlier layers left in the arena, so run 0..index-1 first
 * (the loaded input itself is never overwritten); index 0 resets the variable tensors.
 * An index past the model does nothing. */
void bench_invoke_layer(uint32_t index);
const char *bench_op_name(bench_op_t op);
/* Per-layer energy mode (BENCH_ENERGY_MODE 2) only: while `on`, bench_invoke() pulses the
 * timestamp GPIO at the end of every layer. */
void bench_set_layer_pulses(int on);

/* A layer failed: one `e-hil-fault layer=<index> op=<op> status=<status>
 * reason=<text>` line on the UART (the host turns it into a fault record), then
 * bench_exit(status). Thread mode only (it may use semihosting). */
void bench_fault_layer(uint32_t index, bench_op_t op, bench_status_t status) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif
#endif /* BENCH_RUNTIME_H */
