/* int16 sigmoid and tanh by linear interpolation in a 256-entry table of
 * sigmoid(i / 24) in 0.16 fixed point (the table is measured from the host
 * interpreter at compile time: harness/ops/lut16.py). Input x is int16 with
 * zero point 0; (multiplier, left_shift) rescale it to steps of 1/(3*4096),
 * multiplier 0 meaning x * (3 << left_shift). Outputs are Q0.15. */
#ifndef BENCH_LUT16_H
#define BENCH_LUT16_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int16_t bench_logistic16(int16_t x, int32_t multiplier, int32_t left_shift, const uint16_t *lut);
int16_t bench_tanh16(int16_t x, int32_t multiplier, int32_t left_shift, const uint16_t *lut);

#ifdef __cplusplus
}
#endif

#endif
