"""The report in a real browser (Debian's chromium through Playwright), built from real QEMU runs.

The page opens from a file:// URL with no console error and no request but its own file, every chart
is drawn with data, the run matrix sorts by a column, a model file named like markup shows as text and
runs no script, and a screenshot is saved (to $HILBENCH_SCREENSHOT when set, for a note or a review).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.model.synth import chain_model
from tests.conftest import model_path, requires_cc, requires_qemu

HOSTILE = "<img src=x onerror=alert(1)>"

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]


def _hilbench(*args: str) -> None:
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code in (0, 1), out.output  # 1: a run that failed on purpose
    assert "Traceback" not in out.output, out.output


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real runs on two boards: ad01, a model file named like markup, and a file that is not a model;
    then a baseline in which ad01 on qemu-m4 took fewer instructions, so the baseline section has a
    regression to show."""
    work = tmp_path_factory.mktemp("browser")
    hostile = work / f"{HOSTILE}.tflite"
    hostile.write_bytes(chain_model(np.random.default_rng(1)))
    broken = work / "broken.tflite"
    broken.write_bytes(b"not a flatbuffer")
    new = work / "new"
    for model in (str(model_path("ad01_int8.tflite")), str(hostile), str(broken)):
        _hilbench("run", model, "--board", "qemu-m4", "--board", "qemu-m7", "--inferences", "2",
                  "--results-dir", str(new))
    base = work / "base"
    shutil.copytree(new, base)
    for path in (base / "runs").glob("*qemu-m4-ad01*.json"):
        data = json.loads(path.read_text())
        data["instructions_per_inference"] = int(data["instructions_per_inference"] * 0.9)
        data["layers"][0]["instructions"] = int(data["layers"][0]["instructions"] * 0.5)
        path.write_text(json.dumps(data))
    out = CliRunner().invoke(main, ["report", str(new), "-o", str(work / "report.html"), "--baseline", str(base),
                                    "--fail-on", "instructions_per_inference:+2%"])
    assert out.exit_code == 0, out.output
    assert "1 regression" in out.output, out.output
    return work / "report.html"


def test_the_report_renders_sorts_and_runs_no_script_of_a_record(browser: Any, report: Path,
                                                                 tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")

    # every chart drawn, with data
    charts = page.eval_on_selector_all("div.plot", """divs => divs.map(d => ({
        id: d.id, svg: d.querySelectorAll('.main-svg').length,
        points: (d.data || []).reduce((n, t) => n + Math.max((t.x || []).length, (t.y || []).length,
                                                           (t.values || []).length, (t.z || []).length), 0)}))""")
    assert len(charts) >= 6, charts
    assert all(c["svg"] > 0 and c["points"] > 0 for c in charts), [c for c in charts if not c["points"]]
    for section in ("run-matrix", "memory", "fits", "per-layer", "history", "baseline", "tflm", "provenance"):
        assert page.locator(f"section#{section}").count() == 1, section

    # the markup-named model is text, and nothing of it ran
    matrix = page.locator("section#run-matrix")
    assert HOSTILE in matrix.inner_text()
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert "not a flatbuffer" in matrix.inner_text() or "broken" in matrix.inner_text()

    # sort the run matrix by instructions, both ways
    header = matrix.locator("thead th", has_text="insn/inference")
    column = page.evaluate("""() => Array.from(document.querySelectorAll('#run-matrix thead th'))
                                     .findIndex(th => th.textContent.includes('insn/inference'))""")
    assert column >= 0

    def values() -> list[float]:
        cells = page.eval_on_selector_all(
            "#run-matrix tbody tr", f"rows => rows.map(r => r.children[{column}].getAttribute('data-sort'))")
        return [float(c) for c in cells if c not in (None, "")]

    header.click()
    ascending = values()
    assert len(ascending) >= 4 and ascending == sorted(ascending)
    header.click()
    assert values() == sorted(ascending, reverse=True)

    # the baseline section names the regression and the layer that changed most
    baseline = page.locator("section#baseline").inner_text()
    assert "instructions_per_inference" in baseline and "FULLY_CONNECTED" in baseline, baseline

    shot = Path(os.environ.get("HILBENCH_SCREENSHOT") or tmp_path / "report.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert not problems, problems
    assert requests == [report.as_uri()], requests  # offline: the page fetches nothing
    page.close()
