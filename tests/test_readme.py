"""The README's figures come from the code, and the performance targets gate CI.

`hilbench bench --markdown` runs the four MLPerf Tiny models on qemu-m4; its exit status is the gate
(1 when a model fails, is not bit-exact or misses a target of issue #4) and its table must equal the
one in the README, byte for byte.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.model.zoo import MLPERF_TINY
from tests.conftest import model_path, requires_cc, requires_qemu

README = Path(__file__).resolve().parents[1] / "README.md"
TABLE = re.compile(r"<!-- bench-table: .*? -->\n(.*?)<!-- /bench-table -->", re.DOTALL)


def readme_table() -> str:
    match = TABLE.search(README.read_text(encoding="utf-8"))
    assert match, f"{README} has no <!-- bench-table --> ... <!-- /bench-table --> block"
    return match.group(1)


def test_the_readme_has_one_bench_table_with_every_model() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(TABLE.findall(text)) == 1
    assert [line.split("|")[1].strip() for line in readme_table().splitlines()[2:]] == list(MLPERF_TINY)


@requires_qemu
@requires_cc
def test_bench_meets_every_target_and_prints_the_readme_table(tmp_path: Path) -> None:
    for file_name in MLPERF_TINY.values():
        model_path(file_name)  # fails in CI, skips with a message elsewhere, when the models are absent
    out = CliRunner().invoke(main, ["bench", "--board", "qemu-m4", "--markdown", "--results-dir", str(tmp_path)])
    assert out.exit_code == 0, f"hilbench bench failed its targets:\n{out.stdout}\n{out.stderr}"
    if out.stdout != readme_table():
        diff = "".join(difflib.unified_diff(readme_table().splitlines(True), out.stdout.splitlines(True),
                                            "README.md", "hilbench bench --markdown"))
        raise AssertionError("the README's table is not what the current build measures; replace it with "
                             f"the output of `hilbench bench --board qemu-m4 --markdown`:\n{diff}")
