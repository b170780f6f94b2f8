/* Feeds observations of a 32-bit counter to bench_counter64_observe and prints
 * each 64-bit result, for test_counter64.py:
 *   s LAST HIGH   set the state (as if after earlier observations)
 *   o NOW         observe NOW, print the 64-bit count */
#include <inttypes.h>
#include <stdio.h>
#include "bench_counter64.h"

int main(void) {
    bench_counter64_t state = {0u, 0u};
    char op;
    unsigned long long a, b;
    while (scanf(" %c", &op) == 1) {
        if (op == 's' && scanf("%llu %llu", &a, &b) == 2) {
            state.last = (uint32_t)a;
            state.high = (uint32_t)b;
        } else if (op == 'o' && scanf("%llu", &a) == 1) {
            printf("%" PRIu64 "\n", bench_counter64_observe(&state, (uint32_t)a));
        } else {
            fprintf(stderr, "bad input at op '%c'\n", op);
            return 2;
        }
    }
    return 0;
}
