/* Executes the layer list of the generated model over one static arena.
 * Each layer is bracketed by a marker call (for the host's instruction
 * counter) and a timer read (for targets where the firmware times itself).
 * bench_invoke_layer runs single layers, unmarked and untimed, for the
 * commands that check intermediate outputs against the host. */
#include <stdint.h>
#include "bench_kernels.h"
#include "bench_model.h"
#include "bench_platform.h"
#include "bench_runtime.h"
#include "model.h"

static uint8_t g_arena[BENCH_ARENA_BYTES] __attribute__((aligned(16)));
static uint64_t g_layer_cycles[BENCH_N_LAYERS];


uint8_t *bench_arena(void) { return g_arena; }
uint32_t bench_arena_size_bytes(void) { return (uint32_t)sizeof g_arena; }

/* The names of this model's operators only: bench_op_names.inc is generated from the operator registry */
const char *bench_op_name(bench_op_t op) {
    switch (op) {
#include "bench_op_names.inc"
    default:
        return "UNKNOWN";
    }
}

uint64_t bench_layer_cycles(uint32_t layer) {
    return layer < BENCH_N_LAYERS ? g_layer_cycles[layer] : 0u;
}

#if BENCH_TEST_HOOK == 1 && defined(__ARM_ARCH_6M__)
/* QEMU's nRF51 ignores writes to unmapped addresses; an unaligned word store (a `str` the compiler
 * cannot split into bytes) is a HardFault on ARMv6-M */
static volatile uint32_t g_test_fault_words[2];
#define TEST_HOOK_IN_INVOKE() \
    __asm__ volatile("str %1, [%0]" : : "l"((uintptr_t)g_test_fault_words + 1u), "l"(1u) : "memory")
#elif BENCH_TEST_HOOK == 1
#define TEST_HOOK_IN_INVOKE() (*(volatile uint32_t *)0xFFFFFFF0u = 1u) /* bus fault */
#elif BENCH_TEST_HOOK == 2
static volatile int g_test_hang = 1; /* volatile: the code after the hang stays linked */
#define TEST_HOOK_IN_INVOKE() while (g_test_hang) { __asm__ volatile("wfi"); } /* hang */
#else
#define TEST_HOOK_IN_INVOKE() ((void)0)
#endif
#if BENCH_TEST_HOOK == 4
#define TEST_HOOK_IN_INSPECT() (*(volatile uint32_t *)0xFFFFFFF0u = 1u) /* bus fault, only in hil-layer-* */
#else
#define TEST_HOOK_IN_INSPECT() ((void)0)
#endif

#ifdef BENCH_TEST_CORRUPT_LAYER
/* test hook: the lowest bit of layer k's first output byte flips after every run of
 * layer k, so the host's search for the first diverging layer has something to find
 * (tests only, set through BuildOptions.defines) */
_Static_assert((BENCH_TEST_CORRUPT_LAYER) < BENCH_N_LAYERS,
               "BENCH_TEST_CORRUPT_LAYER is not a layer of the model");
#define TEST_HOOK_AFTER_LAYER(i, layer) \
    do { \
        if ((i) == (uint32_t)(BENCH_TEST_CORRUPT_LAYER) && (layer)->out_bytes > 0u) { \
            g_arena[(layer)->out_offset] ^= 1u; \
        } \
    } while (0)
#else
#define TEST_HOOK_AFTER_LAYER(i, layer) ((void)0)
#endif

#ifdef BENCH_TEST_BAD_OP_LAYER
/* test hook: layer k has an operator no kernel implements, as a corrupted layer
 * table would, so the fault path has something to report (tests only) */
_Static_assert((BENCH_TEST_BAD_OP_LAYER) < BENCH_N_LAYERS, "BENCH_TEST_BAD_OP_LAYER is not a layer of the model");
static bench_layer_t g_bad_layer;
static const bench_layer_t *layer_at(uint32_t i) {
    if (i == (uint32_t)(BENCH_TEST_BAD_OP_LAYER)) {
        g_bad_layer = bench_model.layers[i];
        g_bad_layer.op = BENCH_OP_NONE;
        return &g_bad_layer;
    }
    return &bench_model.layers[i];
}
#else
#define layer_at(i) (&bench_model.layers[(i)])
#endif

#if defined(BENCH_ENERGY_MODE) && BENCH_ENERGY_MODE == 2
/* Per-layer energy mode: a timestamp pulse at the end of every layer while main's timed
 * block runs (never in warm-up or inspection). Other builds have no such check at all, so
 * their instruction counts do not change. */
static int g_layer_pulses;

void bench_set_layer_pulses(int on) {
    g_layer_pulses = on;
}

#define LAYER_END_PULSE()             \
    do {                              \
        if (g_layer_pulses) {         \
            bench_timestamp_pulse();  \
        }                             \
    } while (0)
#else
#define LAYER_END_PULSE() ((void)0)
#endif

#ifdef BENCH_N_VARIABLES
/* Variable tensors (operator state, such as SVDF's) start each inference as a fresh
 * interpreter's first Invoke sees them: every byte the reset value TFLM's
 * ResetVariableTensors writes (an INT8 tensor's zero point, else 0). Done before the
 * begin marker, so counts cover the layers only; models without variable tensors
 * (model.h defines no BENCH_N_VARIABLES) compile none of this. */
static void reset_variables(void) {
    for (uint32_t k = 0; k < BENCH_N_VARIABLES; ++k) {
        uint8_t *v = g_arena + hil_variable_offsets[k];
        for (uint32_t i = 0; i < hil_variable_bytes[k]; ++i) {
            v[i] = hil_variable_fill[k];
        }
    }
}
#define RESET_VARIABLES() reset_variables()
#else
#define RESET_VARIABLES() ((void)0)
#endif

void bench_invoke(void) {
    const bench_model_t *m = &bench_model;
    RESET_VARIABLES();
    hil_mark_infer_begin();
    TEST_HOOK_IN_INVOKE();
    for (uint32_t i = 0; i < m->n_layers; ++i) {
        const bench_layer_t *layer = layer_at(i);
        uint64_t start = bench_cycles();
        hil_mark_layer();
        const bench_status_t status = bench_run_layer(layer, g_arena);
        g_layer_cycles[i] = bench_cycles() - start;
        if (status != BENCH_OK) {
            bench_fault_layer(i, layer->op, status);
        }
        TEST_HOOK_AFTER_LAYER(i, layer);
        LAYER_END_PULSE();
    }
    hil_mark_infer_end();
}

void bench_invoke_layer(uint32_t index) {
    if (index >= bench_model.n_layers) {
        return;
    }
    if (index == 0u) {
        RESET_VARIABLES(); /* layer 0 starts a pass: state as at the start of an inference */
    }
    const bench_layer_t *layer = layer_at(index);
    TEST_HOOK_IN_INSPECT();
    const bench_status_t status = bench_run_layer(layer, g_arena);
    if (status != BENCH_OK) {
        bench_fault_layer(index, layer->op, status);
    }
    TEST_HOOK_AFTER_LAYER(index, layer);
}
