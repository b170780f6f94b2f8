/* The data a generated model.c describes and the runtime executes.
 * Generated code holds only `static const` instances of these structs plus
 * one `const bench_model_t bench_model`; all logic lives in runtime.c and the
 * kernels. Offsets are byte offsets into the one static arena. */
#ifndef BENCH_MODEL_H
#define BENCH_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BENCH_OP_FULLY_CONNECTED = 0,
    BENCH_OP_CONV_2D,
    BENCH_OP_SOFTMAX,
    BENCH_OP_RESHAPE,
    BENCH_OP_COUNT
} bench_op_t;

typedef enum {
    BENCH_RESULTS_SCORES = 0, /* classifier: one dequantized score per class */
    BENCH_RESULTS_MSE         /* autoencoder: mean squared error output vs input */
} bench_results_kind_t;

/* r = scale * (q - zero_point) throughout. */
typedef struct {
    uint32_t in_offset, out_offset;
    const int8_t *weights;   /* [out_depth][in_depth] */
    const int32_t *bias;     /* [out_depth] or NULL */
    uint32_t batches, in_depth, out_depth;
    int32_t input_offset;    /* -input zero_point */
    int32_t filter_offset;   /* -filter zero_point */
    int32_t output_offset;   /* output zero_point */
    int32_t output_multiplier, output_shift;     /* per-tensor weights */
    const int32_t *channel_multiplier;           /* per-channel weights: [out_depth], else NULL */
    const int32_t *channel_shift;                /* [out_depth], else NULL */
    int32_t act_min, act_max;
} bench_fc_params_t;

typedef struct {
    uint32_t in_offset, out_offset;
    const int8_t *weights;            /* OHWI: [out_c][k_h][k_w][in_c] */
    const int32_t *bias;              /* [out_c] or NULL */
    const int32_t *output_multiplier; /* [out_c] */
    const int32_t *output_shift;      /* [out_c] */
    uint16_t in_h, in_w, in_c, out_h, out_w, out_c;
    uint16_t k_h, k_w, stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w;
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
} bench_conv_params_t;

typedef struct {
    uint32_t in_offset, out_offset;
    uint32_t rows, depth;
    int32_t input_multiplier, input_left_shift, diff_min;
} bench_softmax_params_t;

typedef struct {
    uint32_t in_offset, out_offset, bytes;
} bench_reshape_params_t;

typedef struct {
    bench_op_t op;
    uint32_t out_offset, out_bytes; /* where this layer's output lives in the arena */
    uint32_t macs;
    union {
        const bench_fc_params_t *fc;
        const bench_conv_params_t *conv;
        const bench_softmax_params_t *softmax;
        const bench_reshape_params_t *reshape;
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
    bench_results_kind_t results_kind;
    uint32_t n_layers;
    const bench_layer_t *layers;
} bench_model_t;

extern const bench_model_t bench_model;

#ifdef __cplusplus
}
#endif
#endif /* BENCH_MODEL_H */
