/* BATCH_MATMUL (harness/ops/batch_matmul.py): int8, TFLite's formula; the
 * generator turned adj_x, adj_y and broadcasting into strides. */
#include "bench_kernels.h"
#include "bench_fixedpoint.h"

void bench_kernel_batch_matmul(const bench_batch_matmul_params_t *p, uint8_t *arena) {
    const int8_t *lhs = p->lhs_data ? p->lhs_data : (const int8_t *)(arena + p->lhs_offset);
    const int8_t *rhs = p->rhs_data ? p->rhs_data : (const int8_t *)(arena + p->rhs_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t b0 = 0; b0 < p->batch[0]; ++b0) {
        for (uint32_t b1 = 0; b1 < p->batch[1]; ++b1) {
            for (uint32_t b2 = 0; b2 < p->batch[2]; ++b2) {
                const int8_t *l = lhs + b0 * p->lhs_batch_stride[0] + b1 * p->lhs_batch_stride[1]
                                  + b2 * p->lhs_batch_stride[2];
                const int8_t *r = rhs + b0 * p->rhs_batch_stride[0] + b1 * p->rhs_batch_stride[1]
                                  + b2 * p->rhs_batch_stride[2];
                for (uint32_t i = 0; i < p->rows; ++i) {
                    for (uint32_t j = 0; j < p->cols; ++j) {
                        const int8_t *li = l + i * p->lhs_row_step, *rj = r + j * p->rhs_col_step;
                        uint32_t acc = 0; /* mod 2^32, as TFLite's int32 sum ends up (see bench_dot.h) */
                        for (uint32_t k = 0; k < p->depth; ++k) {
                            const int32_t a = (int32_t)li[k * p->lhs_depth_step] - p->lhs_zero_point;
                            const int32_t c = (int32_t)rj[k * p->rhs_depth_step] - p->rhs_zero_point;
                            acc += (uint32_t)(a * c);
                        }
                        const int32_t v = bench_multiply_by_quantized_multiplier(
                            bench_i32_from_bits(acc), p->output_multiplier, p->output_shift);
                        *y++ = (int8_t)bench_clamp(v + p->output_zero_point, -128, 127);
                    }
                }
            }
        }
    }
}

/* TRANSPOSE_CONV (harness/ops/transpose_conv.py): output pixel (oy, ox) takes
 * filter tap (fy, fx) from input (iy, ix) where iy * stride_h + fy = oy + pad_h
 * (and the same across), when iy is whole and inside the input. */
void bench_kernel_transpose_conv(const bench_transpose_conv_params_t *p, uint8_t *arena) {
    const int8_t *x = (const int8_t *)(arena + p->in_offset);
    int8_t *y = (int8_t *)(arena + p->out_offset);
    for (uint32_t b = 0; b < p->batches; ++b) {
        const int8_t *xb = x + b * p->in_h * p->in_w * p->in_c;
        for (uint32_t oy = 0; oy < p->out_h; ++oy) {
            for (uint32_t ox = 0; ox < p->out_w; ++ox) {
                for (uint32_t oc = 0; oc < p->out_c; ++oc) {
                    uint32_t acc = (uint32_t)p->bias[oc]; /* mod 2^32 (see bench_dot.h) */
                    for (uint32_t fy = 0; fy < p->k_h; ++fy) {
                        const uint32_t ty = oy + p->pad_h; /* >= fy when a tap lands */
                        if (ty < fy || (ty - fy) % p->stride_h != 0) continue;
                        const uint32_t iy = (ty - fy) / p->stride_h;
                        if (iy >= p->in_h) continue;
                        for (uint32_t fx = 0; fx < p->k_w; ++fx) {
                            const uint32_t tx = ox + p->pad_w;
                            if (tx < fx || (tx - fx) % p->stride_w != 0) continue;
                            const uint32_t ix = (tx - fx) / p->stride_w;
                            if (ix >= p->in_w) continue;
                            const int8_t *xi = xb + (iy * p->in_w + ix) * p->in_c;
                            const int8_t *wi = p->weights + ((oc * p->k_h + fy) * p->k_w + fx) * p->in_c;
                            for (uint32_t c = 0; c < p->in_c; ++c) {
                                acc += (uint32_t)(((int32_t)xi[c] - p->input_zero_point) * (int32_t)wi[c]);
                            }
                        }
                    }
                    const int32_t v = bench_multiply_by_quantized_multiplier(bench_i32_from_bits(acc),
                                                                             p->multiplier[oc], p->shift[oc]);
                    *y++ = (int8_t)bench_clamp(v + p->output_zero_point, -128, 127);
                }
            }
        }
    }
}
