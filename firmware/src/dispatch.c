/* One layer of the generated model: the kernel call for its operator.
 * model.h defines BENCH_HAS_<OP> for the operators the model uses, so only
 * their kernels are linked; the host build defines them all. An op without a
 * kernel here is an error status. */
#include <stdint.h>
#include "bench_kernels.h"
#include "bench_model.h"
#include "model.h"

bench_status_t bench_run_layer(const bench_layer_t *layer, uint8_t *arena) {
    switch (layer->op) {
#ifdef BENCH_HAS_FULLY_CONNECTED
    case BENCH_OP_FULLY_CONNECTED: bench_kernel_fully_connected(layer->p.fc, arena); break;
#endif
#ifdef BENCH_HAS_CONV_2D
    case BENCH_OP_CONV_2D: bench_kernel_conv_2d(layer->p.conv, arena); break;
#endif
#ifdef BENCH_HAS_DEPTHWISE_CONV_2D
    case BENCH_OP_DEPTHWISE_CONV_2D: bench_kernel_depthwise_conv_2d(layer->p.conv, arena); break;
#endif
#ifdef BENCH_HAS_AVERAGE_POOL_2D
    case BENCH_OP_AVERAGE_POOL_2D: bench_kernel_average_pool_2d(layer->p.pool, arena); break;
#endif
#ifdef BENCH_HAS_MAX_POOL_2D
    case BENCH_OP_MAX_POOL_2D: bench_kernel_max_pool_2d(layer->p.pool, arena); break;
#endif
#ifdef BENCH_HAS_ADD
    case BENCH_OP_ADD: bench_kernel_add(layer->p.binary, arena); break;
#endif
#ifdef BENCH_HAS_MUL
    case BENCH_OP_MUL: bench_kernel_mul(layer->p.binary, arena); break;
#endif
#ifdef BENCH_HAS_SOFTMAX
    case BENCH_OP_SOFTMAX: bench_kernel_softmax(layer->p.softmax, arena); break;
#endif
#ifdef BENCH_HAS_RESHAPE
    case BENCH_OP_RESHAPE: bench_kernel_reshape(layer->p.copy, arena); break;
#endif
#ifdef BENCH_HAS_MEAN
    case BENCH_OP_MEAN: bench_kernel_mean(layer->p.mean, arena); break;
#endif
#ifdef BENCH_HAS_PAD
    case BENCH_OP_PAD: bench_kernel_pad(layer->p.pad, arena); break;
#endif
#ifdef BENCH_HAS_CONCATENATION
    case BENCH_OP_CONCATENATION: bench_kernel_concatenation(layer->p.concat, arena); break;
#endif
#ifdef BENCH_HAS_QUANTIZE
    case BENCH_OP_QUANTIZE: bench_kernel_requantize(layer->p.requantize, arena); break;
#endif
#ifdef BENCH_HAS_RELU
    case BENCH_OP_RELU: bench_kernel_requantize(layer->p.requantize, arena); break;
#endif
#ifdef BENCH_HAS_RELU6
    case BENCH_OP_RELU6: bench_kernel_requantize(layer->p.requantize, arena); break;
#endif
#ifdef BENCH_HAS_DEQUANTIZE
    case BENCH_OP_DEQUANTIZE: bench_kernel_dequantize(layer->p.dequantize, arena); break;
#endif
#ifdef BENCH_HAS_LOGISTIC
    case BENCH_OP_LOGISTIC: bench_kernel_logistic(layer->p.sigmoid, arena); break;
#endif
#ifdef BENCH_HAS_TANH
    case BENCH_OP_TANH: bench_kernel_tanh(layer->p.sigmoid, arena); break;
#endif
    default:
        /* the generator emits only the ops above; anything else is corruption or a
         * kernel left out of the build, and must not pass as a layer that did nothing */
        return BENCH_ERR_UNKNOWN_OP;
    }
    return BENCH_OK;
}
