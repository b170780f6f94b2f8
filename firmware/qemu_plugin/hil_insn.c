/* hil_insn: a QEMU TCG plugin that counts guest instructions exactly and logs
 * the running count each time the guest reaches a marker address.
 *
 * Arguments (comma separated, as QEMU passes them):
 *   out=PATH          file the log is written to (required)
 *   mark=NAME:0xADDR  a marker; may repeat (at most 16). Each hit logs "NAME COUNT".
 *   skip=0xLO:0xHI    instructions in [LO, HI) are not counted (the SysTick
 *                     handler, whose runs depend on host time); may repeat.
 * At exit the plugin logs "total COUNT".
 *
 * No package ships qemu-plugin.h for the installed QEMU, so the few types and
 * functions of plugin API version 1 used here are declared below. Counting is
 * an inline add per instruction: exact, deterministic, ~10 % slower. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
extern uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                       void *ptr, uint64_t imm);
extern void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                                   enum qemu_plugin_cb_flags flags, void *userdata);
extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MAX_MARKS 16
#define MAX_SKIPS 8

struct mark {
    char name[32];
    uint64_t vaddr;
};

static uint64_t g_count;
static FILE *g_out;
static struct mark g_marks[MAX_MARKS];
static int g_n_marks;
static uint64_t g_skip_lo[MAX_SKIPS], g_skip_hi[MAX_SKIPS];
static int g_n_skips;

static void on_mark(unsigned int vcpu_index, void *userdata) {
    (void)vcpu_index;
    const struct mark *m = userdata;
    fprintf(g_out, "%s %" PRIu64 "\n", m->name, g_count);
}

static int skipped(uint64_t vaddr) {
    for (int i = 0; i < g_n_skips; ++i) {
        if (vaddr >= g_skip_lo[i] && vaddr < g_skip_hi[i]) {
            return 1;
        }
    }
    return 0;
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        for (int m = 0; m < g_n_marks; ++m) {
            if (g_marks[m].vaddr == vaddr) {
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, &g_marks[m]);
            }
        }
        if (!skipped(vaddr)) {
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &g_count, 1);
        }
    }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    fprintf(g_out, "total %" PRIu64 "\n", g_count);
    fclose(g_out);
}

static int parse_arg(const char *arg) {
    if (strncmp(arg, "out=", 4) == 0) {
        g_out = fopen(arg + 4, "w");
        if (g_out == NULL) {
            fprintf(stderr, "hil_insn: cannot open %s for writing\n", arg + 4);
            return -1;
        }
        setvbuf(g_out, NULL, _IOLBF, 0);
        return 0;
    }
    if (strncmp(arg, "mark=", 5) == 0) {
        const char *colon = strchr(arg + 5, ':');
        size_t len = colon ? (size_t)(colon - (arg + 5)) : 0;
        if (colon == NULL || len == 0 || len >= sizeof g_marks[0].name || g_n_marks == MAX_MARKS) {
            fprintf(stderr, "hil_insn: bad mark argument %s (want mark=NAME:0xADDR, at most %d)\n", arg, MAX_MARKS);
            return -1;
        }
        memcpy(g_marks[g_n_marks].name, arg + 5, len);
        g_marks[g_n_marks].name[len] = '\0';
        g_marks[g_n_marks].vaddr = strtoull(colon + 1, NULL, 0);
        ++g_n_marks;
        return 0;
    }
    if (strncmp(arg, "skip=", 5) == 0) {
        char *end = NULL;
        if (g_n_skips == MAX_SKIPS) {
            fprintf(stderr, "hil_insn: at most %d skip ranges\n", MAX_SKIPS);
            return -1;
        }
        g_skip_lo[g_n_skips] = strtoull(arg + 5, &end, 0);
        if (end == NULL || *end != ':') {
            fprintf(stderr, "hil_insn: bad skip argument %s (want skip=0xLO:0xHI)\n", arg);
            return -1;
        }
        g_skip_hi[g_n_skips] = strtoull(end + 1, NULL, 0);
        ++g_n_skips;
        return 0;
    }
    fprintf(stderr, "hil_insn: unknown argument %s (accepted: out=, mark=, skip=)\n", arg);
    return -1;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; ++i) {
        if (parse_arg(argv[i]) != 0) {
            return -1;
        }
    }
    if (g_out == NULL) {
        fprintf(stderr, "hil_insn: the out=PATH argument is required\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
