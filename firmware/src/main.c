/* The MLPerf Tiny (EEMBC) compatible command loop, plus hilbench extensions.
 *
 * Host -> firmware: a command ends with '%', at most BENCH_CMD_MAX characters.
 * Firmware -> host: lines end "\r\n"; messages start "m-", errors "e-", and
 * every reply ends with "m-ready". Extensions are `m-hil-*` lines with
 * key=value fields; MLPerf Tiny tooling ignores them.
 *
 * `hil-load N` is the fast input load (the `db` commands stay for MLPerf Tiny
 * tooling): raw binary in blocks of HIL_LOAD_BLOCK_BYTES, each followed by its
 * CRC-32 (zlib's, 4 bytes little-endian) and acknowledged. Its bytes are read
 * straight from the UART, never through the command-line parser, so '%', CR
 * and LF are data there. `profile` advertises it (`m-hil-fast-load`).
 *
 * A model with several graph inputs or outputs (model.h defines BENCH_N_INPUTS)
 * adds `hil-input K`: the next load (`db load N` and its chunks, or `hil-load N`)
 * writes input K; every load returns the selection to input 0, so MLPerf Tiny
 * tooling, which knows no `hil-input`, loads input 0. `hil-output` then prints
 * one `m-hil-output index=K bytes=N hex=...` line per output; `results` stays
 * the first output's. A build for one input and one output has none of this. */
#include <stdint.h>
#include "bench_clock.h"
#include "bench_io.h"
#include "bench_model.h"
#include "bench_platform.h"
#include "bench_runtime.h"
#include "model.h"

#define BENCH_CMD_MAX 80
#define FIRMWARE_ID "hilbench-fw-1"
#define TIMING_MAX 32u /* timed inferences whose cycles `hil-timing` reports */
#define HIL_LOAD_BLOCK_BYTES 1024 /* bytes per acknowledged `hil-load` block */
#define STR_(x) #x
#define STR(x) STR_(x)


/* 0: performance mode (timestamps print m-lap-us-<t>); 1: energy mode, a GPIO pulse per
 * timestamp; 2: energy mode with a pulse at the end of every layer of the timed inferences
 * (DESIGN §5). Set by the build (BuildOptions.energy_mode). */
#ifndef BENCH_ENERGY_MODE
#define BENCH_ENERGY_MODE 0
#endif

static uint32_t g_db_expected; /* bytes announced by `db load N` */
static uint32_t g_db_received;
static uint64_t g_infer_cycles[TIMING_MAX]; /* bench_cycles() of each timed inference of the last `infer` */
static uint32_t g_infer_count;              /* timed inferences of the last `infer` */

static int streq(const char *a, const char *b) {
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

/* Parses a decimal >= 0 at *s, advancing past it; -1 when there is none or it overflows. */
static int32_t parse_uint(const char **s) {
    const char *p = *s;
    int64_t v = 0;
    if (*p < '0' || *p > '9') {
        return -1;
    }
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > 0x7FFFFFFF) {
            return -1;
        }
        ++p;
    }
    *s = p;
    return (int32_t)v;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void error_line(const char *what, const char *detail) {
    bench_uart_puts("e-[");
    bench_uart_puts(what);
    bench_uart_puts(detail);
    bench_put_line("]");
}

/* th_timestamp: performance mode prints the time; energy mode pulses the timestamp GPIO and prints nothing. */
static void lap(void) {
#if BENCH_ENERGY_MODE
    bench_timestamp_pulse();
#else
    bench_uart_puts("m-lap-us-");
    bench_put_u32(bench_timestamp_us());
    bench_uart_puts("\r\n");
#endif
}

static int8_t *input_tensor(void) { return (int8_t *)(bench_arena() + bench_model.input_offset); }
static int8_t *output_tensor(void) { return (int8_t *)(bench_arena() + bench_model.output_offset); }

#ifdef BENCH_N_INPUTS
static uint32_t g_input_next; /* the input the next load writes (hil-input) */
static uint32_t g_input_load; /* the input the current or last load writes */
#define LOAD_BEGIN() (g_input_load = g_input_next, g_input_next = 0u)
#define LOAD_BYTES() hil_input_bytes[g_input_load]
#define LOAD_TENSOR() ((int8_t *)(bench_arena() + hil_input_offsets[g_input_load]))
#else
#define LOAD_BEGIN() ((void)0)
#define LOAD_BYTES() bench_model.input_bytes
#define LOAD_TENSOR() input_tensor()
#endif

/* Output element i as a real number. */
static float output_value(uint32_t i) {
    const bench_model_t *m = &bench_model;
    if (m->output_is_float) {
        /* copied out, never read through a float pointer into the byte arena (aliasing, alignment);
         * __builtin_ so that -ffreestanding still makes it one load */
        float v;
        __builtin_memcpy(&v, (const uint8_t *)output_tensor() + 4u * i, sizeof v);
        return v;
    }
#if defined(BENCH_OUTPUT_INT32) /* indices from ARG_MAX or ARG_MIN: reported as they are */
    int32_t v;
    __builtin_memcpy(&v, (const uint8_t *)output_tensor() + 4u * i, sizeof v);
    return (float)v;
#elif defined(BENCH_OUTPUT_UINT8) /* a final QUANTIZE to uint8 */
    return m->output_scale * (float)((int32_t)((const uint8_t *)output_tensor())[i] - m->output_zero_point);
#else
    return m->output_scale * (float)((int32_t)output_tensor()[i] - m->output_zero_point);
#endif
}

static void print_results(void) {
    const bench_model_t *m = &bench_model;
#ifdef BENCH_OUTPUT_INT32 /* 4 bytes an element, as a float output */
    const uint32_t n = m->output_bytes / 4u;
#else
    const uint32_t n = m->output_is_float ? m->output_bytes / 4u : m->output_bytes;
#endif
    bench_uart_puts("m-results-[");
    if (m->results_kind == BENCH_RESULTS_MSE) {
        const int8_t *in = input_tensor();
        float sum = 0.0f;
        for (uint32_t i = 0; i < n; ++i) {
            float y = output_value(i);
#ifdef BENCH_INPUT_UINT8 /* a QUANTIZE from uint8 first */
            float x = m->input_scale * (float)((int32_t)((const uint8_t *)in)[i] - m->input_zero_point);
#else
            float x = m->input_scale * (float)((int32_t)in[i] - m->input_zero_point);
#endif
            sum += (y - x) * (y - x);
        }
        float mse = sum / (float)n;
        bench_put_milli((int64_t)(mse * 1000.0f + 0.5f));
    } else {
        for (uint32_t i = 0; i < n; ++i) {
            float milli = output_value(i) * 1000.0f;
            if (i > 0u) bench_uart_putc(',');
            bench_put_milli((int64_t)(milli + (milli >= 0.0f ? 0.5f : -0.5f)));
        }
    }
    bench_put_line("]");
}

/* CRC-32 as zlib computes it (IEEE 802.3: reflected polynomial 0xEDB88320,
 * initial value and final xor 0xFFFFFFFF), bit by bit: no table in flash.
 * crc32_update takes and returns the register before the final xor. */
__attribute__((noinline)) static uint32_t crc32_update(uint32_t crc, uint8_t byte) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) {
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc;
}

static uint32_t crc32(const uint8_t *data, uint32_t n_bytes) {
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n_bytes; ++i) {
        crc = crc32_update(crc, data[i]);
    }
    return ~crc;
}

static void put_hex32_bare(uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        bench_put_hex_byte((uint8_t)(v >> shift));
    }
}

static void cmd_db(const char *args) {
    if (args[0] == 'l' && args[1] == 'o' && args[2] == 'a' && args[3] == 'd' && args[4] == ' ') {
        const char *p = args + 5;
        int32_t n = parse_uint(&p);
        LOAD_BEGIN();
        if (n <= 0 || *p != '\0') {
            error_line("db load: byte count must be a number > 0: ", args + 5);
        } else if ((uint32_t)n > LOAD_BYTES()) {
            bench_uart_puts("e-[db load: ");
            bench_put_u32((uint32_t)n);
            bench_uart_puts(" bytes exceed the input tensor of ");
            bench_put_u32(LOAD_BYTES());
            bench_put_line(" bytes]");
        } else {
            g_db_expected = (uint32_t)n;
            g_db_received = 0;
            bench_uart_puts("m-[Expecting ");
            bench_put_u32((uint32_t)n);
            bench_put_line(" bytes]");
        }
        return;
    }
    if (streq(args, "print")) {
        const int8_t *in = LOAD_TENSOR();
        for (uint32_t i = 0; i < g_db_received; i += 8u) {
            bench_uart_puts("m-buffer");
            for (uint32_t j = i; j < i + 8u && j < g_db_received; ++j) {
                bench_uart_putc('-');
                bench_put_hex_byte((uint8_t)in[j]);
            }
            bench_uart_puts("\r\n");
        }
        return;
    }
    /* db <hex>: validate the whole chunk before storing any of it */
    uint32_t len = 0;
    while (args[len] != '\0') {
        if (hex_value(args[len]) < 0) {
            error_line("db: not a hex digit in: ", args);
            return;
        }
        ++len;
    }
    if (len == 0u || (len & 1u) != 0u) {
        error_line("db: hex data needs an even number of digits: ", args);
        return;
    }
    if (g_db_expected == 0u || g_db_received + len / 2u > g_db_expected) {
        error_line("db: more data than announced by db load", "");
        return;
    }
    int8_t *in = LOAD_TENSOR();
    for (uint32_t i = 0; i < len; i += 2u) {
        in[g_db_received++] = (int8_t)((hex_value(args[i]) << 4) | hex_value(args[i + 1u]));
    }
    if (g_db_received == g_db_expected) {
        bench_put_line("m-load-done");
    }
}

/* `hil-load N`: N raw bytes into the input tensor, in blocks of HIL_LOAD_BLOCK_BYTES (the last one
 * shorter), each followed by the CRC-32 of its bytes, 4 bytes little-endian. The reply to the command
 * is `m-hil-load bytes=N`; each block whose CRC-32 matches is answered `m-hil-ack offset=<o>`, and
 * the host waits for it before it sends the next (flow control on a UART without a FIFO). A block
 * whose CRC-32 does not match ends the load with an `e-` line and no input loaded; the host may start
 * again. Then `m-load-done`, and the input is the loaded one, as after `db`. Bytes come from
 * bench_uart_getc() directly: none is taken for a command's '%' or a line end. */
static void cmd_hil_load(const char *args) {
    const char *p = args;
    const int32_t n = parse_uint(&p);
    LOAD_BEGIN();
    if (n <= 0 || *p != '\0' || (uint32_t)n > LOAD_BYTES()) {
        error_line("hil-load: bad byte count: ", args);
        return;
    }
    g_db_expected = 0; /* no input is loaded until every block has arrived */
    g_db_received = 0;
    bench_uart_puts("m-hil-load bytes=");
    bench_put_u32((uint32_t)n);
    bench_uart_puts("\r\n");
    uint8_t *in = (uint8_t *)LOAD_TENSOR();
    uint32_t len;
    for (uint32_t off = 0; off < (uint32_t)n; off += len) {
        const uint32_t left = (uint32_t)n - off;
        len = left < (uint32_t)HIL_LOAD_BLOCK_BYTES ? left : (uint32_t)HIL_LOAD_BLOCK_BYTES;
        uint32_t crc = 0xFFFFFFFFu;
        for (uint32_t i = 0; i < len; ++i) {
            in[off + i] = (uint8_t)bench_uart_getc();
            crc = crc32_update(crc, in[off + i]);
        }
        for (uint32_t shift = 0; shift < 32u; shift += 8u) {
            crc ^= (uint32_t)(uint8_t)bench_uart_getc() << shift;
        }
        /* crc is now ~(CRC-32 of the block) ^ (the CRC-32 sent): all ones when they match */
        if (crc != 0xFFFFFFFFu) {
            error_line("hil-load: CRC-32 mismatch", "");
            return;
        }
        bench_uart_puts("m-hil-ack offset=");
        bench_put_u32(off);
        bench_uart_puts("\r\n");
    }
    g_db_expected = (uint32_t)n;
    g_db_received = (uint32_t)n;
    bench_put_line("m-load-done");
}

static void cmd_infer(const char *args) {
    int32_t n = 1, w = 10;
    const char *p = args;
    if (*p != '\0') {
        n = parse_uint(&p);
        if (*p == ' ') {
            ++p;
            w = parse_uint(&p);
        }
        if (n < 1 || w < 0 || *p != '\0') {
            error_line("infer: expected 'infer N W' with N >= 1, W >= 0, got: ", args);
            return;
        }
    }
    bench_uart_puts("m-warmup-start-");
    bench_put_u32((uint32_t)w);
    bench_uart_puts("\r\n");
    for (int32_t i = 0; i < w; ++i) {
        bench_invoke();
    }
    bench_put_line("m-warmup-done");
    bench_uart_puts("m-infer-start-");
    bench_put_u32((uint32_t)n);
    bench_uart_puts("\r\n");
    lap();
#if BENCH_ENERGY_MODE == 2
    bench_set_layer_pulses(1);
#endif
    g_infer_count = (uint32_t)n;
    for (int32_t i = 0; i < n; ++i) {
        /* read outside bench_invoke's markers: the plugin's counts do not include them */
        const uint64_t start = bench_cycles();
        bench_invoke();
        const uint64_t cycles = bench_cycles() - start;
        if ((uint32_t)i < TIMING_MAX) {
            g_infer_cycles[i] = cycles;
        }
    }
#if BENCH_ENERGY_MODE == 2
    /* the end of the last layer pulsed already: that edge is the block's stop (N*L + 1 edges) */
    bench_set_layer_pulses(0);
#else
    lap();
#endif
    bench_put_line("m-infer-done");
    print_results();
}

static void cmd_hil_info(void) {
    bench_uart_puts("m-hil-info model=");
    bench_uart_puts(bench_model.name);
    bench_uart_puts(" sha256=");
    bench_uart_puts(bench_model.sha256);
    bench_uart_puts(" arena_bytes=");
    bench_put_u32(bench_arena_size_bytes());
    bench_uart_puts(" input_bytes=");
    bench_put_u32(bench_model.input_bytes);
    bench_uart_puts(" output_bytes=");
    bench_put_u32(bench_model.output_bytes);
    bench_uart_puts(" layers=");
    bench_put_u32(bench_model.n_layers);
    bench_uart_puts(" stack_size_bytes=");
    bench_put_u32(bench_stack_size_bytes());
    bench_uart_puts(" stack_used_bytes=");
    bench_put_u32(bench_stack_used_bytes());
    bench_uart_puts(" cpu_hz=");
    bench_put_u32(BENCH_CPU_HZ);
    bench_uart_puts(" clock_source=");
    bench_uart_puts(bench_cycles_from_dwt() ? "dwt" : "systick");
    bench_uart_puts("\r\n");
}

/* `m-hil-timing clock_source=<dwt|systick> cpu_hz=<N> inferences=<n> cycles=<c1>,<c2>,...`:
 * bench_cycles() of each timed inference of the last `infer` (the first min(n, TIMING_MAX)). */
static void cmd_hil_timing(void) {
    bench_uart_puts("m-hil-timing clock_source=");
    bench_uart_puts(bench_cycles_from_dwt() ? "dwt" : "systick");
    bench_uart_puts(" cpu_hz=");
    bench_put_u32(bench_clock_hz); /* the clock it runs at: the rated one, or what the set-up fell back to */
    bench_uart_puts(" inferences=");
    bench_put_u32(g_infer_count);
    bench_uart_puts(" cycles=");
    for (uint32_t i = 0; i < g_infer_count && i < TIMING_MAX; ++i) {
        if (i > 0u) bench_uart_putc(',');
        bench_put_u64(g_infer_cycles[i]);
    }
    bench_uart_puts("\r\n");
}

#ifdef BENCH_N_INPUTS
/* `hil-input K`: the next load writes input K (0..BENCH_N_INPUTS-1). */
static void cmd_hil_input(const char *args) {
    const char *p = args;
    const int32_t k = parse_uint(&p);
    if (k < 0 || *p != '\0' || (uint32_t)k >= BENCH_N_INPUTS) {
        bench_uart_puts("e-[hil-input: expected an input index 0..");
        bench_put_u32(BENCH_N_INPUTS - 1u);
        bench_uart_puts(", got: ");
        bench_uart_puts(args);
        bench_put_line("]");
        return;
    }
    g_input_next = (uint32_t)k;
    bench_uart_puts("m-hil-input index=");
    bench_put_u32((uint32_t)k);
    bench_uart_puts(" bytes=");
    bench_put_u32(hil_input_bytes[k]);
    bench_uart_puts("\r\n");
}

/* one `m-hil-output index=K bytes=N hex=...` line per graph output */
static void cmd_hil_output(void) {
    for (uint32_t k = 0; k < BENCH_N_OUTPUTS; ++k) {
        const uint8_t *out = bench_arena() + hil_output_offsets[k];
        bench_uart_puts("m-hil-output index=");
        bench_put_u32(k);
        bench_uart_puts(" bytes=");
        bench_put_u32(hil_output_bytes[k]);
        bench_uart_puts(" hex=");
        for (uint32_t i = 0; i < hil_output_bytes[k]; ++i) {
            bench_put_hex_byte(out[i]);
        }
        bench_uart_puts("\r\n");
    }
}
#else
static void cmd_hil_output(void) {
    const int8_t *out = output_tensor();
    bench_uart_puts("m-hil-output bytes=");
    bench_put_u32(bench_model.output_bytes);
    bench_uart_puts(" hex=");
    for (uint32_t i = 0; i < bench_model.output_bytes; ++i) {
        bench_put_hex_byte((uint8_t)out[i]);
    }
    bench_uart_puts("\r\n");
}
#endif

/* "<tag> index=<i> op=<OP>": the head of each per-layer line. */
static void put_layer_head(const char *tag, uint32_t i) {
    bench_uart_puts(tag);
    bench_uart_puts(" index=");
    bench_put_u32(i);
    bench_uart_puts(" op=");
    bench_uart_puts(bench_op_name(bench_model.layers[i].op));
}

static void cmd_hil_layers(void) {
    for (uint32_t i = 0; i < bench_model.n_layers; ++i) {
        const bench_layer_t *layer = &bench_model.layers[i];
        uint64_t cycles = bench_layer_cycles(i);
        put_layer_head("m-hil-layer", i);
        bench_uart_puts(" macs=");
        bench_put_u32(layer->macs);
        bench_uart_puts(" timer_ticks=");
        bench_put_u32((uint32_t)(cycles > 0xFFFFFFFFu ? 0xFFFFFFFFu : cycles));
        bench_uart_puts("\r\n");
    }
}


/* One inference on the loaded input, layer by layer, with the CRC-32 of each
 * layer's output taken right after it runs (later layers may reuse its memory). */
static void cmd_hil_layer_crc(void) {
    for (uint32_t i = 0; i < bench_model.n_layers; ++i) {
        const bench_layer_t *layer = &bench_model.layers[i];
        bench_invoke_layer(i);
        put_layer_head("m-hil-layer-crc", i);
        bench_uart_puts(" bytes=");
        bench_put_u32(layer->out_bytes);
        bench_uart_puts(" crc32=");
        put_hex32_bare(crc32(bench_arena() + layer->out_offset, layer->out_bytes));
        bench_uart_puts("\r\n");
    }
}

#define LAYER_OUT_BYTES_PER_LINE 32u

/* `hil-layer-out I`: layers 0..I on the loaded input, then layer I's output in
 * hex lines; the remaining layers run afterwards, so the output tensor again
 * holds the loaded input's result (as after `infer`) for later commands. */
static void cmd_hil_layer_out(const char *args) {
    const char *p = args;
    int32_t index = parse_uint(&p);
    if (index < 0 || *p != '\0' || (uint32_t)index >= bench_model.n_layers) {
        bench_uart_puts("e-[hil-layer-out: expected a layer index 0..");
        bench_put_u32(bench_model.n_layers - 1u);
        bench_uart_puts(", got: ");
        bench_uart_puts(args);
        bench_put_line("]");
        return;
    }
    for (uint32_t i = 0; i <= (uint32_t)index; ++i) {
        bench_invoke_layer(i);
    }
    const bench_layer_t *layer = &bench_model.layers[index];
    const uint8_t *out = bench_arena() + layer->out_offset;
    for (uint32_t off = 0; off < layer->out_bytes; off += LAYER_OUT_BYTES_PER_LINE) {
        bench_uart_puts("m-hil-layer-out index=");
        bench_put_u32((uint32_t)index);
        bench_uart_puts(" offset=");
        bench_put_u32(off);
        bench_uart_puts(" hex=");
        for (uint32_t j = off; j < off + LAYER_OUT_BYTES_PER_LINE && j < layer->out_bytes; ++j) {
            bench_put_hex_byte(out[j]);
        }
        bench_uart_puts("\r\n");
    }
    for (uint32_t i = (uint32_t)index + 1u; i < bench_model.n_layers; ++i) {
        bench_invoke_layer(i);
    }
}

static void dispatch(char *line) {
    char *args = line;
    while (*args != '\0' && *args != ' ') {
        ++args;
    }
    if (*args == ' ') {
        *args++ = '\0';
    }
    if (streq(line, "name")) {
        bench_put_line("m-name-dut-[hilbench]");
    } else if (streq(line, "profile")) {
        bench_put_line("m-profile-[" FIRMWARE_ID "]");
        bench_uart_puts("m-model-[");
        bench_uart_puts(bench_model.name);
        bench_put_line("]");
        bench_put_line("m-hil-fast-load block_bytes=" STR(HIL_LOAD_BLOCK_BYTES));
    } else if (streq(line, "db")) {
        cmd_db(args);
    } else if (streq(line, "hil-load")) {
        cmd_hil_load(args);
    } else if (streq(line, "infer")) {
        cmd_infer(args);
    } else if (streq(line, "results")) {
        print_results();
    } else if (streq(line, "timestamp")) {
        lap();
    } else if (streq(line, "hil-info")) {
        cmd_hil_info();
    } else if (streq(line, "hil-timing")) {
        cmd_hil_timing();
    } else if (streq(line, "hil-output")) {
        cmd_hil_output();
#ifdef BENCH_N_INPUTS
    } else if (streq(line, "hil-input")) {
        cmd_hil_input(args);
#endif
    } else if (streq(line, "hil-layers")) {
        cmd_hil_layers();
    } else if (streq(line, "hil-layer-crc")) {
        cmd_hil_layer_crc();
    } else if (streq(line, "hil-layer-out")) {
        cmd_hil_layer_out(args);
    } else if (streq(line, "hil-exit")) {
        const char *p = args;
        int32_t status = *p != '\0' ? parse_uint(&p) : 0;
        bench_put_line("m-hil-exit");
        bench_exit(status < 0 ? 1 : (int)status);
    } else {
        error_line("Unknown command: ", line);
    }
}

int main(void) {
    static char line[BENCH_CMD_MAX + 1];
    bench_uart_init();
    bench_timer_init();
#if BENCH_ENERGY_MODE
    bench_gpio_init(); /* idles high: the first falling edge is the boot timestamp below */
    bench_put_line("m-timestamp-mode-energy");
#else
    bench_put_line("m-timestamp-mode-performance");
#endif
    lap();
    bench_put_line("m-init-done");
#if BENCH_TEST_HOOK == 3
    /* test hook: bytes that are not protocol text */
    bench_put_line("m-\x01\x02\xff\xfe garbage \x80\x81");
#endif
    bench_put_line("m-ready");
    uint32_t len = 0;
    int too_long = 0;
    for (;;) {
        int c = bench_uart_getc();
        if (c == '%') {
            line[len] = '\0';
            if (too_long) {
                bench_uart_puts("e-[command longer than ");
                bench_put_u32(BENCH_CMD_MAX);
                bench_put_line(" characters]");
            } else {
                dispatch(line);
            }
            bench_put_line("m-ready");
            len = 0;
            too_long = 0;
        } else if (c == '\r' || c == '\n') {
            /* tolerated between commands; the protocol does not use them */
        } else if (len < BENCH_CMD_MAX) {
            line[len++] = (char)c;
        } else {
            too_long = 1;
        }
    }
}
