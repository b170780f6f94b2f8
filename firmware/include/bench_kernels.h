/* Kernel entry points. The portable C versions live in kernels/portable/;
 * a core-specific file in kernels/<core>/ with the same name replaces one
 * (the harness picks per operator and core). Kernels trust their parameters:
 * the generator validated shapes and quantization before emitting them. */
#ifndef BENCH_KERNELS_H
#define BENCH_KERNELS_H

#include <stdint.h>
#include "bench_model.h"

#ifdef __cplusplus
extern "C" {
#endif

void bench_kernel_fully_connected(const bench_fc_params_t *p, uint8_t *arena);
void bench_kernel_conv_2d(const bench_conv_params_t *p, uint8_t *arena);
void bench_kernel_softmax(const bench_softmax_params_t *p, uint8_t *arena);
void bench_kernel_reshape(const bench_reshape_params_t *p, uint8_t *arena);

#ifdef __cplusplus
}
#endif
#endif /* BENCH_KERNELS_H */
