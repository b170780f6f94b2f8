/* Marker functions for the host's instruction-counting QEMU plugin, which
 * logs its running count when the first instruction of each one executes.
 * Distinct bodies and noipa keep GCC from folding them into one address or
 * inlining them away. */
#include <stdint.h>
#include "bench_platform.h"

volatile uint32_t hil_marker_sink;

__attribute__((noipa, noinline, used)) void hil_mark_infer_begin(void) { hil_marker_sink = 1u; }
__attribute__((noipa, noinline, used)) void hil_mark_layer(void) { hil_marker_sink = 2u; }
__attribute__((noipa, noinline, used)) void hil_mark_infer_end(void) { hil_marker_sink = 3u; }
#if defined(BENCH_ENERGY_MODE) && BENCH_ENERGY_MODE != 0
__attribute__((noipa, noinline, used)) void hil_mark_timestamp(void) { hil_marker_sink = 4u; }
#endif
