/* The one status type of the firmware and the host build: what a layer (and
 * anything else that can fail after the generator's checks) reports. */
#ifndef BENCH_STATUS_H
#define BENCH_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BENCH_OK = 0,
    BENCH_ERR_UNKNOWN_OP, /* a layer's operator has no kernel in this build */
    BENCH_STATUS_COUNT
} bench_status_t;

/* A short description of `status`, for e- lines and host error messages.
 * Designated initializers: an entry cannot drift to another enum value. */
static inline const char *bench_status_str(bench_status_t status) {
    static const char *const names[BENCH_STATUS_COUNT] = {
        [BENCH_OK] = "ok",
        [BENCH_ERR_UNKNOWN_OP] = "unknown operator",
    };
    return (unsigned)status < (unsigned)BENCH_STATUS_COUNT ? names[status] : "unknown status";
}

/* Return early with the status of `expr` unless it is BENCH_OK. */
#define BENCH_CHECK(expr)                                     \
    do {                                                      \
        const bench_status_t bench_check_status_ = (expr);    \
        if (bench_check_status_ != BENCH_OK) {                \
            return bench_check_status_;                       \
        }                                                     \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif /* BENCH_STATUS_H */
