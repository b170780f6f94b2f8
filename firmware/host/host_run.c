/* Host build of the generated model: the same model.c, dispatch and kernels
 * as the firmware, as a program the harness runs once per input
 * (harness/firmware/host.py). A separate process rather than a library in the
 * harness's Python, so that it can be built with AddressSanitizer and
 * UndefinedBehaviorSanitizer, whose runtime must start with the program.
 *
 *   host_run N [each]
 *
 * reads the whole arena (bench_model.arena_bytes, inputs in place) on stdin,
 * runs layers [0, N) of the model (N past the model means all), and writes the
 * arena to stdout: once at the end, or after every layer with `each`.
 * Exit status: 0; 2 for bad arguments or I/O; 3 when a layer reports an error
 * status, named on stderr as `hil-host: layer <i> op <op>: <status>`. */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_model.h"
#include "bench_status.h"

enum { EXIT_USAGE = 2, EXIT_LAYER = 3 };

static int write_all(const uint8_t *data, size_t n) {
    return fwrite(data, 1, n, stdout) == n ? 0 : -1;
}

int main(int argc, char **argv) {
    const bench_model_t *m = &bench_model;
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "each") != 0)) {
        fprintf(stderr, "usage: %s N [each]\n", argv[0]);
        return EXIT_USAGE;
    }
    char *end = NULL;
    const unsigned long requested = strtoul(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0') {
        fprintf(stderr, "hil-host: layer count %s is not a number\n", argv[1]);
        return EXIT_USAGE;
    }
    const uint32_t n_layers = requested < m->n_layers ? (uint32_t)requested : m->n_layers;
    const int each = argc == 3;
    /* exactly the planned size, 16-aligned like the firmware's arena: AddressSanitizer
     * catches any access past its end */
    void *memory = NULL;
    if (posix_memalign(&memory, 16, m->arena_bytes > 0u ? m->arena_bytes : 1u) != 0) {
        fprintf(stderr, "hil-host: no memory for an arena of %u bytes\n", (unsigned)m->arena_bytes);
        return EXIT_USAGE;
    }
    uint8_t *arena = memory;
    if (fread(arena, 1, m->arena_bytes, stdin) != m->arena_bytes) {
        fprintf(stderr, "hil-host: stdin held fewer than the arena's %u bytes\n", (unsigned)m->arena_bytes);
        free(memory);
        return EXIT_USAGE;
    }
    int status = 0;
    for (uint32_t i = 0; i < n_layers && status == 0; ++i) {
        const bench_status_t s = bench_run_layer(&m->layers[i], arena);
        if (s != BENCH_OK) {
            fprintf(stderr, "hil-host: layer %u op %u: %s\n", (unsigned)i, (unsigned)m->layers[i].op,
                    bench_status_str(s));
            status = EXIT_LAYER;
        } else if (each && write_all(arena, m->arena_bytes) != 0) {
            status = EXIT_USAGE;
        }
    }
    if (status == 0 && !each && write_all(arena, m->arena_bytes) != 0) {
        status = EXIT_USAGE;
    }
    free(memory);
    if (fflush(stdout) != 0 && status == 0) {
        status = EXIT_USAGE;
    }
    return status;
}
