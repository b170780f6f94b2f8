"""`hilbench bench`: rows and targets from hand-made records, and one real run of ad01 in QEMU that must
meet every target (tests/test_readme.py runs all four models and gates on them)."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from harness.cli import main
from harness.errors import ModelError
from harness.report.baselines import TARGETS, TFLM
from harness.report.bench import (
    SKIPPED,
    bench_json,
    check,
    layer_rows,
    layer_table,
    main_table,
    markdown_table,
    model_row,
    provenance_lines,
    shortfalls,
    skipped_row,
)
from harness.store import RunRecord
from tests.conftest import model_path, requires_cc, requires_qemu

AD01_LAYERS = [{"index": 0, "op": "FULLY_CONNECTED", "macs": 81_920, "instructions": 100_000},
               {"index": 1, "op": "RESHAPE", "macs": 0, "instructions": 1_000},
               {"index": 2, "op": "FULLY_CONNECTED", "macs": 182_272, "instructions": 295_000}]


def record(model: str, **fields: Any) -> RunRecord:
    base = RunRecord(model=model, board="qemu-m4", runtime="hilbench-aot", target="qemu", status="ok",
                     inferences=2, warmup=1, latency_source="qemu-insn",
                     provenance={"counter": "qemu-insn", "emulator": "QEMU 7.2.22",
                                 "compiler": "arm-none-eabi-gcc 12.2.1", "git_commit": "abc"})
    return dataclasses.replace(base, **fields)


PASSING = record("ad01", macs=264_192, instructions_per_inference=400_000, instructions_timed=[400_000, 400_000],
                 arena_bytes=1_408, code_bytes=10_692, weights_bytes=270_880, stack_bytes=188,
                 matches_reference=True, layers=AD01_LAYERS)
SLOW = record("kws01", macs=2_656_768, instructions_per_inference=30_000_000, instructions_timed=[30_000_000] * 2,
              arena_bytes=18_000, code_bytes=20_000, weights_bytes=24_000, stack_bytes=400, matches_reference=True)
FAILED = record("vww01", status="build", error="arm-none-eabi-gcc failed: region FLASH overflowed",
                latency_source=None, provenance={})


def rows() -> list[Any]:
    return [model_row(PASSING, TFLM["ad01"]), model_row(SLOW, TFLM["kws01"]), model_row(FAILED, TFLM["vww01"]),
            skipped_row("ic01", "../shared/models/pretrainedResnet_quant.tflite not found", TFLM["ic01"])]


def test_a_passing_model_meets_every_target() -> None:
    row = model_row(PASSING, TFLM["ad01"])
    assert [c.passed for c in row.checks] == [True, True, True, True]
    assert row.instructions.ratio == 400_000 / 1_954_189 and row.instructions.bound == 0.5
    assert row.cmsis.ratio == 400_000 / 583_144 and row.cmsis.bound == 0.8
    assert row.arena.tflm == 2_580 and row.code.tflm == 49_804
    assert row.instructions_per_mac == 400_000 / 264_192 and row.vs_tflm_cmsis == 400_000 / 583_144
    assert row.counts_identical is True and row.matches_reference is True
    assert shortfalls([row]) == []


def test_a_model_missing_a_target_names_the_target_and_its_ratio() -> None:
    row = model_row(SLOW, TFLM["kws01"])
    assert [c.passed for c in row.checks] == [False, False, True, True]  # 30e6 / 43,112,391 = 0.696
    assert shortfalls([row]) == ["kws01 instructions 0.696 x TFLM reference kernels > 0.5",
                                 "kws01 instructions 3.898 x TFLM + CMSIS-NN > 0.8"]


def test_a_failed_run_and_a_skipped_model_are_shortfalls_without_made_up_ratios() -> None:
    failed, skipped = model_row(FAILED, TFLM["vww01"]), rows()[3]
    assert failed.status == "build" and [c.ratio for c in failed.checks] == [None] * 4
    assert skipped.status == SKIPPED and "not found" in (skipped.error or "")
    assert [c.passed for c in skipped.checks] == [None] * 4
    assert shortfalls([failed, skipped]) == ["vww01 run failed (build)", "ic01 not run (skipped)"]


def test_a_mismatching_run_fails_even_when_fast() -> None:
    mismatch = record("ad01", status="mismatch", error="output differs", macs=264_192,
                      instructions_per_inference=400_000, arena_bytes=1_408, code_bytes=10_692,
                      matches_reference=False)
    assert shortfalls([model_row(mismatch, TFLM["ad01"])]) == ["ad01 run failed (mismatch)"]
    not_compared = record("ad01", macs=264_192, instructions_per_inference=400_000, arena_bytes=1_408,
                          code_bytes=10_692, matches_reference=None)
    assert shortfalls([model_row(not_compared, TFLM["ad01"])]) == ["ad01 not bit-exact"]


def test_a_target_is_met_exactly_at_its_bound() -> None:
    arena_bound = 2_064  # 0.8 x 2,580, where a float product could land a hair above
    assert check("arena_bytes", arena_bound, 2_580, TARGETS.arena_vs_tflm).passed is True
    assert check("arena_bytes", arena_bound + 1, 2_580, TARGETS.arena_vs_tflm).passed is False
    assert check("code_bytes", 12_451, 49_804, TARGETS.code_vs_tflm_cmsis).passed is True
    assert check("code_bytes", 12_452, 49_804, TARGETS.code_vs_tflm_cmsis).passed is False


def test_layer_rows_leave_insn_per_mac_blank_without_macs() -> None:
    got = layer_rows(PASSING)
    assert [(x.index, x.op, x.macs, x.instructions) for x in got] == [
        (0, "FULLY_CONNECTED", 81_920, 100_000), (1, "RESHAPE", 0, 1_000), (2, "FULLY_CONNECTED", 182_272, 295_000)]
    assert got[1].instructions_per_mac is None and got[0].instructions_per_mac == 100_000 / 81_920
    assert got[2].share_pct == 100 * 295_000 / 400_000
    assert layer_rows(FAILED) == []


def test_json_holds_main_and_layer_rows() -> None:
    data = json.loads(json.dumps(bench_json("qemu-m4", rows(), {"ad01": layer_rows(PASSING)})))
    assert data["ok"] is False and len(data["missed"]) == 4
    assert [m["model"] for m in data["models"]] == ["ad01", "kws01", "vww01", "ic01"]
    assert data["models"][0]["instructions"]["passed"] is True and data["models"][0]["instructions"]["tflm"] == 1_954_189
    assert data["layers"]["ad01"][1] == {"index": 1, "op": "RESHAPE", "macs": 0, "instructions": 1_000,
                                        "instructions_per_mac": None, "share_pct": 0.25, "kernel": ""}
    assert data["targets"] == {"instructions_vs_tflm_ref": 0.5, "instructions_vs_tflm_cmsis": 0.8, "arena_vs_tflm": 0.8,
                               "code_vs_tflm_cmsis": 0.25}
    assert "90b983c" in data["tflm_source"]


def _text(*renderables: Any) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=300, force_terminal=False, color_system=None)
    for r in renderables:
        console.print(r)
    return buf.getvalue()


def test_tables_show_our_figures_tflm_figures_and_marks() -> None:
    all_rows = rows()
    text = _text(main_table(all_rows, "qemu-m4"), layer_table(all_rows[0], layer_rows(PASSING)))
    ad01 = next(line for line in text.splitlines() if line.startswith("│ ad01"))
    for figure in ("264,192", "400,000", "1,954,189", "0.205 pass", "0.686 pass", "1,408", "2,580", "10,692", "49,804", "188"):
        assert figure in ad01
    kws01 = next(line for line in text.splitlines() if line.startswith("│ kws01"))
    assert "0.696 FAIL" in kws01 and "3.898 FAIL" in kws01 and "43,112,391" in kws01
    assert "ic01 skipped" in text and "vww01 build" in text
    assert "all layers" in text and "RESHAPE" in text and "73.8" in text  # 295,000 of 400,000


def test_provenance_names_the_counter_and_flags_unfair_comparisons() -> None:
    lines = provenance_lines([PASSING, SLOW, FAILED], "qemu-m4", "mps2-an386", "cortex-m4")
    assert any("ad01, kws01" in x and "TCG plugin" in x and "counter qemu-insn" in x for x in lines)
    assert any("identical counts" in x for x in lines)
    assert any(x.startswith("TFLM: DESIGN §7") for x in lines)
    assert not any(x.startswith("note:") for x in lines)
    odd = record("ad01", macs=1, instructions_per_inference=5, instructions_timed=[5, 6])
    lines = provenance_lines([odd], "qemu-m7", "mps2-an500", "cortex-m7")
    assert any("counts differ" in x for x in lines)
    assert any("DESIGN §6 says 264,192" in x for x in lines)
    assert any("board qemu-m7 is cortex-m7 on mps2-an500" in x for x in lines)


def test_one_timed_inference_makes_no_claim_of_identical_counts() -> None:
    """Under the -icount fallback as under the plugin, one value cannot show that counts repeat."""
    single = record("ad01", macs=264_192, instructions_per_inference=800_040, instructions_timed=[800_040],
                    latency_source="qemu-icount", provenance={"counter": "qemu-icount"})
    lines = provenance_lines([single], "qemu-m4", "mps2-an386", "cortex-m4")
    assert not any("identical counts" in x for x in lines if not x.startswith("TFLM:"))
    assert any("fewer than 2 timed inferences for ad01: repeatability not checked" in x for x in lines)
    assert model_row(single, TFLM["ad01"]).counts_identical is None
    two = dataclasses.replace(single, instructions_timed=[800_040, 800_040])
    assert model_row(two, TFLM["ad01"]).counts_identical is True
    assert any("identical counts" in x for x in provenance_lines([two], "qemu-m4", "mps2-an386", "cortex-m4"))


def test_markdown_table_has_every_figure_and_names_misses_and_failures() -> None:
    text = markdown_table(rows())
    lines = text.splitlines()
    assert lines[0].startswith("| model | insn/inference |") and lines[1].count("---") == lines[0].count("|") - 1
    assert lines[2] == ("| ad01 | 400,000 | 1.51 | 0.205 | 0.686 | 1,408 | 0.546 | 10,692 | 0.215 | 270,880 | 188 "
                        "| yes |")
    assert "| kws01 | 30,000,000 | 11.29 | 0.696 (missed) | 3.898 (missed) |" in lines[3]
    assert lines[4].startswith("| vww01 (build) | - | - | - |") and lines[5].startswith("| ic01 (skipped) |")


def test_unknown_model_is_a_usage_error() -> None:
    out = CliRunner().invoke(main, ["bench", "--models", "ad01,nope"])
    assert out.exit_code == 2 and "kws01, vww01, ic01, ad01" in out.output


def test_a_model_that_cannot_be_had_is_skipped_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def nowhere(model_id: str) -> None:
        raise ModelError(f"model {model_id}: no official file here, and TensorFlow is not installed")

    monkeypatch.setattr("harness.cli.resolve_model", nowhere)
    out = CliRunner().invoke(
        main, ["bench", "--models", "kws01,ad01", "--results-dir", str(tmp_path), "--json", str(tmp_path / "b.json")])
    assert out.exit_code == 1, out.output
    assert "kws01: skipped" in out.output and "hilbench models download mlperf-tiny" in out.output
    assert "targets missed: kws01 not run (skipped); ad01 not run (skipped)" in out.output
    data = json.loads((tmp_path / "b.json").read_text())
    assert [m["status"] for m in data["models"]] == [SKIPPED, SKIPPED] and data["layers"] == {}


@requires_qemu
@requires_cc
def test_without_the_official_files_bench_runs_the_models_built_from_code(tmp_path: Path) -> None:
    out = CliRunner(env={"HILBENCH_MODELS_DIR": str(tmp_path / "none")}).invoke(
        main, ["bench", "--models", "ad01", "--results-dir", str(tmp_path)])
    assert "ad01: built from code" in out.output, out.output
    assert "note: not the official files: ad01 (built-untrained)" in " ".join(out.output.split())
    record = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())
    assert record["model_origin"] == "built-untrained" and record["matches_reference"] is True


@requires_qemu
@requires_cc
def test_bench_ad01_in_qemu(tmp_path: Path) -> None:
    model_path("ad01_int8.tflite")  # skips with a message when ../shared/models is absent
    out = CliRunner().invoke(main, ["bench", "--models", "ad01", "--results-dir", str(tmp_path),
                                    "--json", str(tmp_path / "bench.json")])
    data = json.loads((tmp_path / "bench.json").read_text())
    row = data["models"][0]
    assert row["model"] == "ad01" and row["status"] == "ok", out.output
    assert row["macs"] == 264_192 and row["matches_reference"] is True and row["counts_identical"] is True
    assert [row[k]["passed"] for k in ("instructions", "arena", "code")] == [True, True, True], out.output
    assert data["ok"] is True and out.exit_code == 0, out.output
    table = out.stdout
    for figure in (row["instructions_per_inference"], row["arena"]["ours"], row["code"]["ours"], 264_192, 1_954_189,
                   2_580, 49_804):
        assert f"{figure:,}" in table
    assert "ad01: per layer" in table and "FULLY_CONNECTED" in table and "TCG plugin" in table
    assert "all 1 models ran" in table
    assert len(list((tmp_path / "runs").glob("*.json"))) == 1
