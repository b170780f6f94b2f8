/* SPLIT, SPLIT_V and UNPACK: the inverse of CONCATENATION. Per outer step,
 * output k takes the next chunk_bytes[k] bytes of the input. Every output has
 * its own buffer (harness/firmware/planner.py); the generator computed the
 * offsets and chunk sizes from validated shapes (harness/ops/split.py). */
#include "bench_kernels.h"

void bench_kernel_split(const bench_split_params_t *p, uint8_t *arena) {
    const uint8_t *x = arena + p->in_offset;
    for (uint32_t o = 0; o < p->outer; ++o) {
        for (uint32_t k = 0; k < p->n_outputs; ++k) {
            const uint32_t n = p->chunk_bytes[k];
            uint8_t *y = arena + p->out_offsets[k] + o * n;
            for (uint32_t i = 0; i < n; ++i) y[i] = x[i];
            x += n;
        }
    }
}
