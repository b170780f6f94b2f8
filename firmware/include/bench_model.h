/* The data a generated model.c describes and the runtime executes.
 * Generated code holds only `static const` instances of these structs plus
 * one `const bench_model_t`; all logic lives in the runtime and the kernels.
 * Offsets are byte offsets into the one static arena. Every value here was
 * computed and range-checked by the generator (harness/firmware/codegen.py). */
#ifndef BENCH_MODEL_H
#define BENCH_MODEL_H

#include <stdint.h>
/* bench_op_t, one BENCH_OP_<name> per operator: generated from the operator
 * registry (harness/ops/) into the build folder, beside model.c */
#include "bench_ops.h"
#include "bench_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BENCH_RESULTS_SCORES = 0, /* classifier: one dequantized score per class */
    BENCH_RESULTS_MSE         /* autoencoder: mean squared error output vs input */
} bench_results_kind_t;

/* r = scale * (q - zero_point) throughout. A requantization multiplier is a
 * Q31 value with a power-of-two shift: m = multiplier * 2^(shift - 31). */

typedef struct {
    uint32_t in_offset, out_offset;
    const int8_t *weights;          /* [out_depth][in_depth] */
    const int32_t *bias;            /* [out_depth] or NULL */
    const int32_t *bias_folded;     /* bias + input_offset * row sums of the weights; NULL unless filter_offset is 0 */
    uint32_t batches, in_depth, out_depth;
    int32_t input_offset;           /* -input zero_point */
    int32_t filter_offset;          /* -filter zero_point */
    int32_t output_offset;          /* output zero_point */
    int32_t output_multiplier, output_shift; /* per-tensor weights */
    const int32_t *multiplier;      /* per-channel weights: [out_depth], else NULL */
    const int8_t *shift;            /* [out_depth], else NULL */
    int32_t act_min, act_max;
} bench_fc_params_t;

/* CONV_2D (weights OHWI) and DEPTHWISE_CONV_2D (weights 1HWO, out_c = in_c * depth_multiplier). */
typedef struct {
    uint32_t in_offset, out_offset;
    const int8_t *weights;
    const int32_t *bias;            /* [out_c] or NULL */
    const int32_t *bias_folded;     /* [out_c]: bias + input_offset * sum of the filter; for windows inside the input */
    const int32_t *multiplier;      /* [out_c] */
    const int8_t *shift;            /* [out_c] */
    uint16_t in_h, in_w, in_c, out_h, out_w, out_c;
    uint16_t k_h, k_w, stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w, depth_multiplier;
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
    uint32_t scratch_offset;        /* a kernel variant's scratch bytes in the arena (OpSpec.scratch), else 0 */
} bench_conv_params_t;

/* AVERAGE_POOL_2D and MAX_POOL_2D: input and output share one quantization. */
typedef struct {
    uint32_t in_offset, out_offset;
    uint16_t in_h, in_w, channels, out_h, out_w;
    uint16_t filter_h, filter_w, stride_h, stride_w, pad_h, pad_w;
    int32_t act_min, act_max;
} bench_pool_params_t;

/* ADD and MUL, with NumPy broadcasting over a 4-D output shape. */
typedef struct {
    uint32_t in1_offset, in2_offset, out_offset;
    uint32_t shape[4];              /* output, padded to rank 4 on the left */
    uint32_t stride1[4], stride2[4];/* element strides of the inputs; 0 on a broadcast axis */
    uint8_t broadcast;              /* 0: both inputs have the output's shape */
    int32_t input1_offset, input2_offset, output_offset;
    int32_t left_shift;             /* ADD only */
    int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift; /* ADD only */
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} bench_binary_params_t;

typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t rows, depth;
    int32_t input_multiplier, input_left_shift, diff_min;
} bench_softmax_params_t;

/* RESHAPE, and CONCATENATION / PAD pieces that are plain copies. */
typedef struct {
    uint32_t in_offset, out_offset, bytes;
} bench_copy_params_t;

/* MEAN over the two spatial axes of an NHWC tensor. */
typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t batches, h, w, channels;
    int32_t multiplier, shift;      /* input scale / (output scale * h * w) */
    int32_t input_zero_point, output_zero_point;
} bench_mean_params_t;

typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t in_shape[4], out_shape[4], before[4]; /* rank 4, padded on the left */
    int8_t pad_value;
} bench_pad_params_t;

typedef struct {
    uint32_t out_offset;
    uint32_t n_inputs, outer;
    const uint32_t *in_offsets;     /* [n_inputs] */
    const uint32_t *chunk_bytes;    /* [n_inputs]: bytes each input contributes per outer step */
} bench_concat_params_t;

/* CONCATENATION with constant inputs: in_flash[k] != 0 puts input k at in_offsets[k] of consts (flash). */
typedef struct {
    uint32_t out_offset;
    uint32_t n_inputs, outer;
    const uint32_t *in_offsets;     /* [n_inputs]: arena offset, or offset into consts */
    const uint32_t *chunk_bytes;    /* [n_inputs] */
    const uint8_t *in_flash;        /* [n_inputs] */
    const int8_t *consts;
} bench_concat_const_params_t;

/* MEAN (any axes) and SUM: dims 0..kept-1 index the output in order, dims kept..4 are summed;
 * stride[d] is in input elements. y = clamp(MBQM(sum(x - input_zero_point), multiplier, shift) + z_y). */
typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t count[5], stride[5];
    uint32_t kept, outputs, reduced;
    int32_t input_zero_point, output_zero_point, multiplier, shift;
} bench_reduce_params_t;

/* RESIZE_BILINEAR: per output row and column, (lower index, upper index, weight of the upper in 1/1024),
 * computed by the generator as TFLM's int8 kernel does. */
typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t batches, in_h, in_w, channels, out_h, out_w;
    const int32_t *rows;            /* [out_h][3] */
    const int32_t *cols;            /* [out_w][3] */
} bench_resize_bilinear_params_t;

/* BATCH_MATMUL: an operand is in the arena at *_offset, or in flash at *_data when that is not NULL.
 * Batch strides are 0 along a broadcast dim; the steps (in elements) encode adj_x and adj_y. */
typedef struct {
    uint32_t lhs_offset, rhs_offset, out_offset;
    const int8_t *lhs_data, *rhs_data;
    uint32_t batch[3], lhs_batch_stride[3], rhs_batch_stride[3];
    uint32_t rows, cols, depth;
    uint32_t lhs_row_step, lhs_depth_step, rhs_depth_step, rhs_col_step;
    int32_t lhs_zero_point, rhs_zero_point, output_zero_point;
    int32_t output_multiplier, output_shift;
} bench_batch_matmul_params_t;

/* TRANSPOSE_CONV: weights [out_c][k_h][k_w][in_c] in flash, per-channel requantization. */
typedef struct {
    uint32_t in_offset, out_offset;
    const int8_t *weights;
    const int32_t *bias;            /* [out_c] */
    const int32_t *multiplier;      /* [out_c] */
    const int8_t *shift;            /* [out_c] */
    uint32_t batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w;
    uint32_t stride_h, stride_w, pad_h, pad_w;
    int32_t input_zero_point, output_zero_point;
} bench_transpose_conv_params_t;

/* QUANTIZE (int8 -> int8), RELU and RELU6: an affine rescale and a clamp. */
typedef struct {
    uint32_t in_offset, out_offset, count;
    uint8_t rescale;                /* 0: clamp only (output quantization = input's) */
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift;
    int32_t act_min, act_max;
} bench_requantize_params_t;

typedef struct {
    uint32_t in_offset, out_offset, count;
    int32_t zero_point;
    double scale;
} bench_dequantize_params_t;

/* LOGISTIC and TANH: input rescaled into Q4.27 fixed point. */
typedef struct {
    uint32_t in_offset, out_offset, count;
    int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
} bench_sigmoid_params_t;

/* int16 LOGISTIC and TANH (16x8): the shared sigmoid table and the input rescale (bench_lut16.h). */
typedef struct {
    uint32_t in_offset, out_offset, count;
    int32_t multiplier, left_shift;
    const uint16_t *lut;
} bench_sigmoid16_params_t;

/* int16 SOFTMAX (16x8) over rows of the last axis: the difference rescale and
 * the exp and 1 / (1 + x) tables, 513 entries each in Q0.15 (softmax16.c). */
typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t rows, depth;
    int32_t input_multiplier, input_shift;
    const int16_t *exp_lut, *reciprocal_lut;
} bench_softmax16_params_t;

/* SUB, MINIMUM, MAXIMUM, SQUARED_DIFFERENCE and PRELU (input 2 = alpha), and ADD
 * and MUL with a constant operand, with NumPy broadcasting over a 4-D output
 * shape; a constant input is read from flash. */
typedef struct {
    uint32_t in1_offset, in2_offset, out_offset;
    const int8_t *in1_data, *in2_data; /* a constant input's values, else NULL: the arena at in*_offset */
    uint32_t shape[4];              /* output, padded to rank 4 on the left */
    uint32_t stride1[4], stride2[4];/* element strides of the inputs; 0 on a broadcast axis */
    int32_t input1_offset, input2_offset, output_offset;
    int32_t left_shift;             /* SUB and SQUARED_DIFFERENCE */
    int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift; /* PRELU: input1 = x >= 0 */
    int32_t output_multiplier, output_shift; /* PRELU: x * alpha for x < 0 */
    int32_t act_min, act_max;
} bench_arith_params_t;

typedef struct {
    uint32_t in_offset, out_offset, count;
    int32_t input_zero_point, output_zero_point;
    int32_t identity_multiplier, identity_shift, alpha_multiplier, alpha_shift;
} bench_leaky_relu_params_t;

/* HARD_SWISH: Q15 multipliers (int16 arithmetic, as TFLite's int8 kernel). */
typedef struct {
    uint32_t in_offset, out_offset, count;
    int32_t input_zero_point, output_zero_point;
    int32_t output_multiplier, output_shift;   /* shift <= 0 */
    int32_t reluish_multiplier, reluish_shift;
} bench_hard_swish_params_t;

/* LOG_SOFTMAX: as SOFTMAX, plus the inverse of the input rescale (a Q31 multiplier below one). */
typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t rows, depth;
    int32_t input_multiplier, input_left_shift, diff_min;
    int32_t reverse_multiplier, reverse_shift;
} bench_log_softmax_params_t;

/* TRANSPOSE, SLICE and STRIDED_SLICE: output element (i0..i5), in order, is the
 * input byte base + sum(i_k * step[k]); a step may be negative. */
typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t base;                  /* input byte of output element 0 */
    uint32_t count[6];              /* output shape, padded to rank 6 on the left */
    int32_t step[6];                /* input bytes between neighbours along each output axis */
} bench_strided_copy_params_t;

/* GATHER with constant indices, in TFLM's order: batch, outer, index. */
typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t batches, outer, axis_size, inner; /* inner: bytes of one gathered slice */
    uint32_t n_coords;              /* indices per batch */
    const int32_t *coords;          /* [batches * n_coords], each in 0..axis_size-1 */
} bench_gather_params_t;

/* RESIZE_NEAREST_NEIGHBOR (NHWC): the source row and column of each output row
 * and column, computed by the generator with TFLM's float32 arithmetic. */
typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t batches, in_h, in_w, channels, out_h, out_w;
    const uint32_t *rows;           /* [out_h] */
    const uint32_t *cols;           /* [out_w] */
} bench_resize_nn_params_t;

/* SPLIT, SPLIT_V and UNPACK: per outer step, output k takes the next chunk_bytes[k] input bytes. */
typedef struct {
    uint32_t in_offset;
    uint32_t n_outputs, outer;
    const uint32_t *out_offsets;    /* [n_outputs] */
    const uint32_t *chunk_bytes;    /* [n_outputs] */
} bench_split_params_t;

/* ARG_MAX and ARG_MIN: for each (outer, inner), the int32 index along the axis
 * of the greatest (smallest) int8 value, the first on ties (TFLM). */
typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t outer, axis_size, inner;
} bench_arg_min_max_params_t;

/* SVDF, TFLM's integer SVDF: int8 input and weights_feature, int16
 * weights_time and state (a variable tensor [batches][n_filter][n_memory],
 * oldest step first), int32 bias, int8 output; units = n_filter / rank. */
typedef struct {
    uint32_t in_offset, out_offset, state_offset;
    const int8_t *weights_feature;  /* [n_filter][n_input] */
    const int16_t *weights_time;    /* [n_filter][n_memory] */
    const int32_t *bias;            /* [n_filter / rank] or NULL */
    uint32_t batches, n_input, n_filter, n_memory, rank;
    int32_t input_offset;           /* -input zero_point */
    int32_t output_offset;          /* output zero_point */
    int32_t feature_multiplier, feature_shift; /* input x weights_feature -> state */
    int32_t output_multiplier, output_shift;   /* state x weights_time -> output */
} bench_svdf_params_t;

/* UNIDIRECTIONAL_SEQUENCE_LSTM, TFLM's integer LSTM: int8 input, output and
 * hidden state (a variable tensor [batches][units]), int16 cell state (a
 * variable tensor, scale 2^cell_power), int8 weights with zero point 0, int32
 * biases; gates are int16 in Q3.12 before and Q0.15 after their sigmoid or tanh. */
typedef struct {
    uint32_t in_offset, out_offset, hidden_offset, cell_offset;
    const int8_t *weights;          /* [4 gates][units][in_depth], then [4 gates][units][units] */
    const int32_t *bias;            /* [4 gates][units]; gates in the order input, forget, cell, output */
    const uint16_t *lut;            /* the int16 sigmoid table (bench_lut16.h) */
    uint32_t batches, steps, in_depth, units, time_major;
    int32_t input_offset, recurrent_offset;             /* -input and -hidden zero point */
    int32_t hidden_zero_point;
    int32_t in_multiplier[4], in_shift[4];              /* input x weights -> Q3.12 */
    int32_t rec_multiplier[4], rec_shift[4];            /* hidden x recurrent weights -> Q3.12 */
    int32_t forget_multiplier, forget_shift;            /* Q0.15 x cell -> cell */
    int32_t input_multiplier, input_shift;              /* Q0.15 x Q0.15 -> cell */
    int32_t hidden_multiplier, hidden_shift;            /* Q0.15 x Q0.15 -> hidden int8 */
    int32_t cell_clip;                                  /* 0: none, else |cell| <= cell_clip */
    int32_t tanh_multiplier, tanh_left_shift;           /* tanh of the cell state (bench_lut16.h) */
} bench_lstm_params_t;

/* FULLY_CONNECTED 16x8: int16 input and output (zero point 0), int8 symmetric
 * weights per tensor, int64 bias; the sum is taken in int64 (TFLite's 16x8). */
typedef struct {
    uint32_t in_offset, out_offset;
    const int8_t *weights;          /* [out_depth][in_depth] */
    const int64_t *bias;            /* [out_depth] or NULL */
    uint32_t batches, in_depth, out_depth;
    int32_t output_multiplier, output_shift; /* shift in [-31, 7] */
    int32_t act_min, act_max;
} bench_fc16_params_t;

/* CONV_2D and DEPTHWISE_CONV_2D 16x8: int16 activations (zero point 0), int8
 * symmetric weights per channel, int64 bias, int64 sums; geometry as in
 * bench_conv_params_t. */
typedef struct {
    uint32_t in_offset, out_offset;
    const int8_t *weights;
    const int64_t *bias;            /* [out_c] or NULL */
    const int32_t *multiplier;      /* [out_c] */
    const int8_t *shift;            /* [out_c], each in [-31, 7] */
    uint16_t in_h, in_w, in_c, out_h, out_w, out_c;
    uint16_t k_h, k_w, stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w, depth_multiplier;
    int32_t act_min, act_max;
} bench_conv16_params_t;

typedef struct {
    bench_op_t op;
    uint32_t out_offset, out_bytes; /* where this layer's output lives in the arena */
    uint32_t macs;
    union {
        const bench_fc_params_t *fc;
        const bench_conv_params_t *conv;
        const bench_pool_params_t *pool;
        const bench_binary_params_t *binary;
        const bench_softmax_params_t *softmax;
        const bench_copy_params_t *copy;
        const bench_mean_params_t *mean;
        const bench_pad_params_t *pad;
        const bench_concat_params_t *concat;
        const bench_concat_const_params_t *concat_const;
        const bench_reduce_params_t *reduce;
        const bench_resize_bilinear_params_t *resize_bilinear;
        const bench_batch_matmul_params_t *batch_matmul;
        const bench_transpose_conv_params_t *transpose_conv;
        const bench_requantize_params_t *requantize;
        const bench_dequantize_params_t *dequantize;
        const bench_sigmoid_params_t *sigmoid;
        const bench_sigmoid16_params_t *sigmoid16;
        const bench_softmax16_params_t *softmax16;
        const bench_arith_params_t *arith;
        const bench_leaky_relu_params_t *leaky_relu;
        const bench_hard_swish_params_t *hard_swish;
        const bench_log_softmax_params_t *log_softmax;
        const bench_strided_copy_params_t *strided_copy;
        const bench_gather_params_t *gather;
        const bench_resize_nn_params_t *resize_nn;
        const bench_fc16_params_t *fc16;
        const bench_conv16_params_t *conv16;
        const bench_split_params_t *split;
        const bench_arg_min_max_params_t *arg_min_max;
        const bench_lstm_params_t *lstm;
        const bench_svdf_params_t *svdf;
    } p;
} bench_layer_t;

typedef struct {
    const char *name;   /* validated identifier-like string */
    const char *sha256; /* of the .tflite file */
    uint32_t arena_bytes;
    uint32_t input_offset, input_bytes;
    uint32_t output_offset, output_bytes;
    float input_scale, output_scale;
    int32_t input_zero_point, output_zero_point;
    uint8_t output_is_float;        /* the graph ends in DEQUANTIZE: float32 scores */
    bench_results_kind_t results_kind;
    uint32_t n_layers;
    const bench_layer_t *layers;
} bench_model_t;

extern const bench_model_t bench_model;

/* Runs one layer over `arena` (kernels for every op the build includes).
 * BENCH_ERR_UNKNOWN_OP when the layer's op has no kernel in this build: the
 * generator emits only ops it has kernels for, so that is corruption or a
 * build that left a kernel out, never something to skip silently. */
bench_status_t bench_run_layer(const bench_layer_t *layer, uint8_t *arena);

#ifdef __cplusplus
}
#endif
#endif /* BENCH_MODEL_H */
