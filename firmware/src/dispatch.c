/* One layer of the generated model: the kernel call for its operator.
 * model.h defines BENCH_HAS_<OP> for the operators the model uses, so only
 * their kernels are linked; the host build defines them all. The cases come
 * from bench_dispatch.inc, which the build generates from the operator registry
 * (harness/ops/) beside model.c. An op without a kernel here is an error status. */
#include <stdint.h>
#include "bench_kernels.h"
#include "bench_model.h"
#include "model.h"

bench_status_t bench_run_layer(const bench_layer_t *layer, uint8_t *arena) {
    switch (layer->op) {
/* case BENCH_OP_<name>: <kernel>(layer->p.<params>, arena); break; for each operator
 * model.h names: generated from the operator registry (harness/ops/) */
#include "bench_dispatch.inc"
    default:
        /* the generator emits only the registry's ops; anything else is corruption or a
         * kernel left out of the build, and must not pass as a layer that did nothing */
        return BENCH_ERR_UNKNOWN_OP;
    }
    return BENCH_OK;
}
