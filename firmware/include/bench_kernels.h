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
void bench_kernel_fully_connected_dsp(const bench_fc_params_t *p, uint8_t *arena);
void bench_kernel_conv_2d_dsp(const bench_conv_params_t *p, uint8_t *arena);  /* dsp/conv_2d_dsp.c */
void bench_kernel_fully_connected_mve(const bench_fc_params_t *p, uint8_t *arena);  /* mve/fully_connected_mve.c */
void bench_kernel_conv_2d_mve(const bench_conv_params_t *p, uint8_t *arena);  /* mve/conv_2d_mve.c */
void bench_kernel_conv_2d(const bench_conv_params_t *p, uint8_t *arena);
void bench_kernel_depthwise_conv_2d(const bench_conv_params_t *p, uint8_t *arena);
void bench_kernel_depthwise_conv_2d_dsp(const bench_conv_params_t *p, uint8_t *arena);
void bench_kernel_depthwise_conv_2d_mve(const bench_conv_params_t *p, uint8_t *arena);  /* mve/depthwise_conv_2d_mve.c */
void bench_kernel_average_pool_2d(const bench_pool_params_t *p, uint8_t *arena);
void bench_kernel_max_pool_2d(const bench_pool_params_t *p, uint8_t *arena);
void bench_kernel_add(const bench_binary_params_t *p, uint8_t *arena);
void bench_kernel_mul(const bench_binary_params_t *p, uint8_t *arena);
void bench_kernel_softmax(const bench_softmax_params_t *p, uint8_t *arena);
void bench_kernel_reshape(const bench_copy_params_t *p, uint8_t *arena);
void bench_kernel_mean(const bench_mean_params_t *p, uint8_t *arena);
void bench_kernel_pad(const bench_pad_params_t *p, uint8_t *arena);
void bench_kernel_concatenation(const bench_concat_params_t *p, uint8_t *arena);
void bench_kernel_concatenation_constant(const bench_concat_const_params_t *p, uint8_t *arena);
void bench_kernel_reduce_sum(const bench_reduce_params_t *p, uint8_t *arena);
void bench_kernel_resize_bilinear(const bench_resize_bilinear_params_t *p, uint8_t *arena);
void bench_kernel_batch_matmul(const bench_batch_matmul_params_t *p, uint8_t *arena);
void bench_kernel_transpose_conv(const bench_transpose_conv_params_t *p, uint8_t *arena);
void bench_kernel_split(const bench_split_params_t *p, uint8_t *arena);
void bench_kernel_requantize(const bench_requantize_params_t *p, uint8_t *arena);
void bench_kernel_dequantize(const bench_dequantize_params_t *p, uint8_t *arena);
void bench_kernel_quantize_from_float(const bench_dequantize_params_t *p, uint8_t *arena);
void bench_kernel_requantize_from_uint8(const bench_requantize_params_t *p, uint8_t *arena);
void bench_kernel_requantize_to_uint8(const bench_requantize_params_t *p, uint8_t *arena);
void bench_kernel_logistic(const bench_sigmoid_params_t *p, uint8_t *arena);
void bench_kernel_tanh(const bench_sigmoid_params_t *p, uint8_t *arena);
void bench_kernel_logistic16(const bench_sigmoid16_params_t *p, uint8_t *arena);
void bench_kernel_tanh16(const bench_sigmoid16_params_t *p, uint8_t *arena);
void bench_kernel_softmax16(const bench_softmax16_params_t *p, uint8_t *arena);
void bench_kernel_sub(const bench_arith_params_t *p, uint8_t *arena);
void bench_kernel_minimum(const bench_arith_params_t *p, uint8_t *arena);
void bench_kernel_maximum(const bench_arith_params_t *p, uint8_t *arena);
void bench_kernel_squared_difference(const bench_arith_params_t *p, uint8_t *arena);
void bench_kernel_prelu(const bench_arith_params_t *p, uint8_t *arena);
void bench_kernel_add_constant(const bench_arith_params_t *p, uint8_t *arena);
void bench_kernel_mul_constant(const bench_arith_params_t *p, uint8_t *arena);
void bench_kernel_leaky_relu(const bench_leaky_relu_params_t *p, uint8_t *arena);
void bench_kernel_hard_swish(const bench_hard_swish_params_t *p, uint8_t *arena);
void bench_kernel_log_softmax(const bench_log_softmax_params_t *p, uint8_t *arena);
void bench_kernel_strided_copy(const bench_strided_copy_params_t *p, uint8_t *arena);
void bench_kernel_gather(const bench_gather_params_t *p, uint8_t *arena);
void bench_kernel_resize_nearest_neighbor(const bench_resize_nn_params_t *p, uint8_t *arena);
void bench_kernel_arg_max(const bench_arg_min_max_params_t *p, uint8_t *arena);  /* arg_min_max.c */
void bench_kernel_arg_min(const bench_arg_min_max_params_t *p, uint8_t *arena);
void bench_kernel_lstm(const bench_lstm_params_t *p, uint8_t *arena);  /* lstm.c */
void bench_kernel_svdf(const bench_svdf_params_t *p, uint8_t *arena);  /* svdf.c */
/* int16 activations (TFLite's 16x8 quantization): int16_edges.c, fully_connected_16x8.c, binary_int16.c,
 * conv_16x8.c */
void bench_kernel_requantize_int8_to_int16(const bench_requantize_params_t *p, uint8_t *arena);
void bench_kernel_requantize_int16_to_int8(const bench_requantize_params_t *p, uint8_t *arena);
void bench_kernel_requantize_int16(const bench_requantize_params_t *p, uint8_t *arena);
void bench_kernel_quantize_from_float_to_int16(const bench_dequantize_params_t *p, uint8_t *arena);
void bench_kernel_dequantize_int16(const bench_dequantize_params_t *p, uint8_t *arena);
void bench_kernel_fully_connected_16x8(const bench_fc16_params_t *p, uint8_t *arena);
void bench_kernel_add_int16(const bench_binary_params_t *p, uint8_t *arena);
void bench_kernel_mul_int16(const bench_binary_params_t *p, uint8_t *arena);
void bench_kernel_conv_2d_16x8(const bench_conv16_params_t *p, uint8_t *arena);
void bench_kernel_depthwise_conv_2d_16x8(const bench_conv16_params_t *p, uint8_t *arena);

#ifdef __cplusplus
}
#endif
#endif /* BENCH_KERNELS_H */
