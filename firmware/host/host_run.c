/* Host build of the generated model (a shared library loaded by the
 * harness's tests): the same model.c, dispatch and kernels as the firmware,
 * run over an arena the caller owns. */
#include <stdint.h>
#include "bench_model.h"

/* Runs layers [0, n_layers) of the model over `arena`, whose input tensor the
 * caller has filled; returns the number of layers run. */
uint32_t hil_host_invoke(uint8_t *arena, uint32_t n_layers) {
    const bench_model_t *m = &bench_model;
    if (n_layers > m->n_layers) n_layers = m->n_layers;
    for (uint32_t i = 0; i < n_layers; ++i) {
        bench_run_layer(&m->layers[i], arena);
    }
    return n_layers;
}
