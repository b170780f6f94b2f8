/* Reads one operation per line on stdin and prints its result, for
 * test_fixedpoint_rounding.py to compare with a Python model of the spec:
 *   h A B      bench_sat_rounding_doubling_high_mul(A, B)
 *   d X E      bench_rounding_divide_by_pot(X, E)
 *   q X M S    bench_multiply_by_quantized_multiplier(X, M, S) */
#include <inttypes.h>
#include <stdio.h>
#include "bench_fixedpoint.h"

int main(void) {
    char op;
    long long a, b, c;
    while (scanf(" %c", &op) == 1) {
        if (op == 'h' && scanf("%lld %lld", &a, &b) == 2) {
            printf("%" PRId32 "\n", bench_sat_rounding_doubling_high_mul((int32_t)a, (int32_t)b));
        } else if (op == 'd' && scanf("%lld %lld", &a, &b) == 2) {
            printf("%" PRId32 "\n", bench_rounding_divide_by_pot((int32_t)a, (int)b));
        } else if (op == 'q' && scanf("%lld %lld %lld", &a, &b, &c) == 3) {
            printf("%" PRId32 "\n", bench_multiply_by_quantized_multiplier((int32_t)a, (int32_t)b, (int)c));
        } else {
            fprintf(stderr, "bad input at op '%c'\n", op);
            return 2;
        }
    }
    return 0;
}
