"""The HTML report (harness.report.html) on three real run records (tests/report/data: ad01 on qemu-m4 and
qemu-m7, kws01 on nucleo-l4r5zi-emu) and hand-made failed and hostile ones."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.boards import all_boards
from harness.errors import StoreError
from harness.report import html
from harness.report.against import NO_BASELINE
from harness.report.fits import fit_grid
from harness.report.gates import parse_fail_on
from harness.report.html import plotly_js, render_report, write_report
from harness.store import RunRecord
from harness.store.frame import RunsFrame, frame_of

DATA = Path(__file__).parent / "data"
HOSTILE = "<img src=x onerror=alert(1)>"
SECTIONS = ("run-matrix", "memory", "fits", "per-layer", "history", "baseline", "tflm", "provenance")


def real_records() -> list[RunRecord]:
    return [RunRecord.from_dict(json.loads(p.read_text())) for p in sorted(DATA.glob("*.json"))]


def frame(records: list[RunRecord], source: str = "") -> RunsFrame:
    return frame_of([(None, r) for r in records], known={}, source=source)


def hostile_records() -> list[RunRecord]:
    """A model file named like markup, run ok on a board named like markup, and failing with markup in its
    error, the commit, the host and a layer's op."""
    ad01 = real_records()[0]
    prov = {**ad01.provenance, "git_commit": "</script><script>alert(2)</script>", "host": HOSTILE,
            "emulator": HOSTILE}
    layers = [{**ad01.layers[0], "op": HOSTILE}, *ad01.layers[1:]]
    ok = dataclasses.replace(ad01, model=f"{HOSTILE}.tflite", model_sha256="f" * 64, layers=layers,
                             provenance=prov, energy_source=HOSTILE, run_id=f"r-{HOSTILE}",
                             board=f"qemu-m4{HOSTILE}")
    failed = RunRecord(model=f"{HOSTILE}.tflite", board="qemu-m7", runtime="hilbench-aot", target="qemu",
                       status="build", model_sha256="f" * 64, error=f"link failed: {HOSTILE}\n<script>alert(3)</script>",
                       provenance=prov, run_id="r-failed", time_utc="2026-12-02T11:00:00+00:00")
    return [ok, failed]


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(frame(real_records() + hostile_records(), source="results"))


def section(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', page, re.DOTALL)
    assert match, f"no section {section_id}"
    return match.group(1)


def figures(text: str) -> dict[str, Any]:
    """The embedded figures' JSON, by div id."""
    return {m.group(1): json.loads(m.group(2)) for m in
            re.finditer(r'<script type="application/json" id="([\w-]+)-json">(.*?)</script>', text, re.DOTALL)}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def test_every_section_is_there_with_a_heading_an_explanation_and_data(page: str) -> None:
    for section_id in SECTIONS:
        body = section(page, section_id)
        assert re.match(r"<h2>[^<]+</h2><p class=\"explain\">[^<]+</p>", body), section_id
    matrix = section(page, "run-matrix")
    assert matrix.count("<tr>") == 1 + 5            # header + ad01 x2, kws01, hostile ok + failed
    assert '<td data-sort="798350.0">798,350</td>' in matrix and "qemu-insn" in matrix
    figs = figures(page)
    assert {"fig-memory-flash", "fig-memory-ram", "fig-history", "fig-op-share", "fig-tflm"} <= set(figs)
    flash = figs["fig-memory-flash"]["data"]
    assert [t["name"] for t in flash[:3]] == ["weights", "code", "other flash (.data, .ARM.exidx)"]
    assert any(t.get("name") == "the board's flash limit" for t in flash)
    assert "measured" in section(page, "fits") and "estimated" in section(page, "fits")
    assert len([k for k in figs if k.startswith("fig-layers-")]) == 3   # ad01, kws01, the hostile model
    assert len(figs["fig-history"]["data"]) == 6 * 4    # 6 metrics x (model, board) series with figures
    tflm = section(page, "tflm")
    assert "0.409 pass" in tflm and "1,954,189" in tflm and "0.296 pass" in tflm
    prov = section(page, "provenance")
    for text in ("qemu-insn", "pyelftools", "high-water mark", "compile-time memory plan", "arm-none-eabi-gcc",
                 "estimate-board-active-power", "<code>results</code>", "TensorFlow Lite Micro"):
        assert text in prov, text


def test_plotly_js_is_inlined_exactly_once_and_nothing_is_fetched(page: str) -> None:
    js = plotly_js()
    assert page.count(js) == 1 and page.count("* plotly.js v") == 1
    ours = page.replace(js, "")
    assert "http://" not in ours and "https://" not in ours
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link\b", page, re.IGNORECASE) and "@import" not in ours and "url(" not in ours
    assert "mathjax" not in ours.lower()
    assert "default-src 'none'" in ours and "Plotly.newPlot" in ours
    assert len(ours) < 300_000, "the page beyond plotly.js should stay light"


def test_hostile_strings_are_text_in_the_html_and_in_every_plotly_label(page: str) -> None:
    ours = page.replace(plotly_js(), "")
    assert "<img src=x" not in ours and "<script>alert" not in ours
    assert "&lt;img src=x onerror=alert(1)&gt;.tflite" in section(page, "run-matrix")
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in section(page, "provenance")
    # exactly the page's own script elements: plotly.js, the page's script, and one JSON block per figure
    assert ours.count("<script") == 2 + len(figures(page))
    labels = [s for fig in figures(page).values() for s in strings(fig)]
    assert not [s for s in labels if "<img" in s or "<script" in s]
    assert any("&lt;img src=x onerror=alert(1)&gt;" in s for s in labels)


def test_a_failed_run_is_listed_with_its_error(page: str) -> None:
    failed = section(page, "run-matrix").split('id="failed-runs"')[1]
    assert "link failed: &lt;img src=x onerror=alert(1)&gt;\n&lt;script&gt;alert(3)&lt;/script&gt;" in failed
    assert '<span class="bad">build</span>' in failed and "qemu-m7" in failed


def test_without_a_baseline_the_section_says_how_to_give_one(page: str) -> None:
    assert html.esc(NO_BASELINE) in section(page, "baseline")


def slower(record: RunRecord, factor: float) -> RunRecord:
    insn = record.instructions_per_inference
    return dataclasses.replace(record, instructions_per_inference=None if insn is None else int(insn * factor),
                               flash_bytes=None if record.flash_bytes is None else record.flash_bytes + 100,
                               layers=[{**x, "instructions": int(x["instructions"] * factor)} for x in record.layers],
                               run_id=record.run_id + "-old", time_utc="2026-11-30T00:00:00+00:00",
                               provenance={**record.provenance, "git_commit": "0123abcd" * 5})


def test_a_report_with_a_baseline_shows_deltas_regressions_first_and_changed_layers() -> None:
    old = [slower(r, 0.97) for r in real_records()]
    new = real_records()
    new[1] = dataclasses.replace(new[1], status="timeout", error="no answer in 10 s")  # ad01 on qemu-m7
    checks = parse_fail_on("instructions_per_inference:+3.5%")
    text = section(render_report(frame(new), frame(old, source="baseline-results"), checks=checks), "baseline")
    assert "1 regression(s) in 3 matched run(s)" in text and "was ok" in text   # only the lost status
    checks = parse_fail_on("instructions_per_inference:+2%")
    text = section(render_report(frame(new), frame(old, source="baseline-results"), checks=checks), "baseline")
    assert "4 regression(s) in 3 matched run(s)" in text                      # and 3 % more instructions
    rows = re.findall(r"<tr>(.*?)</tr>", text.split("</thead>")[1].split("</table>")[0], re.DOTALL)
    assert all("REGRESSED" in row for row in rows[:3]) and "REGRESSED" not in rows[3]
    assert 'class="better">-100</td>' in rows[3]                                 # flash: 100 bytes less
    assert "+2%" in rows[0] and '<td data-sort="23951.0" class="bad">+23,951</td>' in text   # 798,350 - 774,399
    assert "The layers whose cost changed most" in text
    assert "baseline-results" in text


def test_write_report_writes_the_page_and_says_what_it_holds(tmp_path: Path) -> None:
    info = write_report(tmp_path / "out" / "report.html", frame(real_records()))
    assert info.path == tmp_path / "out" / "report.html" and info.bytes == info.path.stat().st_size
    assert (info.runs, info.models, info.boards, info.commits, info.regressions) == (3, 2, 3, 1, None)
    assert info.line() == "3 runs, 2 models, 3 boards, 1 commit"
    with pytest.raises(StoreError, match="cannot write the report"):
        write_report(tmp_path / "out", frame(real_records()))          # a folder
    with pytest.raises(StoreError, match="no runs to report"):
        render_report(frame([]))


def test_fits_are_measured_on_the_boards_a_run_was_built_for_and_estimated_elsewhere() -> None:
    runs = frame(real_records()).runs
    grid = fit_grid(runs, all_boards())
    ad01 = next(row for row in grid.rows if row[2] == "ad01")
    m4 = grid.cells[(*ad01[:2], "qemu-m4")]
    assert m4 is not None and m4.measured and m4.fits
    run = runs[runs["run_id"] == m4.run_id].iloc[0]
    assert m4.flash_margin == run["board_flash_bytes"] - run["flash_bytes"]
    nucleo = grid.cells[(*ad01[:2], "nucleo-l4r5zi-emu")]
    assert nucleo is not None and not nucleo.measured and nucleo.from_board == "qemu-m4"   # same core
    stack_bytes = all_boards()["nucleo-l4r5zi-emu"].stack_bytes  # the estimate reserves that board's stack
    assert nucleo.ram_need == run["ram_bytes"] - run["stack_reserved_bytes"] + stack_bytes
    assert nucleo.ram_limit == 655_360 and nucleo.flash_need == run["flash_bytes"]


def test_two_models_that_share_a_name_stay_apart() -> None:
    ad01, _, kws01 = real_records()
    same = [dataclasses.replace(ad01, model="model"), dataclasses.replace(kws01, model="model", board="qemu-m4")]
    text = render_report(frame(same))
    labels = [s for fig in figures(text).values() for s in strings(fig)]
    for sha in (ad01.model_sha256, kws01.model_sha256):
        assert f"model [{(sha or '')[:8]}]" in labels          # a category of the memory charts
    assert "model" not in labels
    assert section(text, "run-matrix").count("<tr>") == 1 + 2
