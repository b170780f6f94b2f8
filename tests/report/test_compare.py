"""Regression checks (harness.report.gates) and compare() (harness.report.compare) on hand-made runs."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.report.compare import TOP_LAYERS, Comparison, compare
from harness.report.gates import (
    METRIC_NAMES,
    DifferenceRegressionCheck,
    Metric,
    PercentageRegressionCheck,
    parse_fail_on,
)
from harness.store import RunRecord
from harness.store.frame import RunsFrame, frame_of

AD = "ad" * 32
KWS = "cd" * 32


# -- parsing -------------------------------------------------------------------------------------------


def test_a_spec_parses_into_percentage_and_difference_checks_in_its_order() -> None:
    checks = parse_fail_on(" instructions_per_inference:+2%, flash_bytes:1% ,arena_bytes:+0,stack_bytes:512,"
                           "latency_us:+0.5%")
    assert checks == [
        PercentageRegressionCheck(Metric.INSTRUCTIONS_PER_INFERENCE, Fraction(2)),
        PercentageRegressionCheck(Metric.FLASH_BYTES, Fraction(1)),
        DifferenceRegressionCheck(Metric.ARENA_BYTES, Fraction(0)),
        DifferenceRegressionCheck(Metric.STACK_BYTES, Fraction(512)),
        PercentageRegressionCheck(Metric.LATENCY_US, Fraction(1, 2)),
    ]
    assert [str(c) for c in checks] == ["instructions_per_inference:+2%", "flash_bytes:+1%", "arena_bytes:+0",
                                        "stack_bytes:+512", "latency_us:+0.5%"]


def test_the_metrics_are_the_lower_is_better_numeric_record_fields() -> None:
    assert METRIC_NAMES == ("instructions_per_inference", "cycles_per_inference", "latency_us",
                            "flash_bytes", "ram_bytes", "code_bytes", "weights_bytes", "arena_bytes",
                            "stack_bytes", "energy_uj")
    assert all(name in RunRecord.__dataclass_fields__ for name in METRIC_NAMES)


@pytest.mark.parametrize("spec, message", [
    ("", (r"regression checks '' are empty; expected METRIC:THRESHOLD items separated by commas, such as "
         r"instructions_per_inference:\+2%,arena_bytes:\+0")),
    (" , ", r"regression checks ' , ' are empty"),
    ("flash_bytes:+1%,,arena_bytes:+0", r"have an empty item; expected METRIC:THRESHOLD"),
    ("flash_bytes", r"regression check 'flash_bytes' is not METRIC:THRESHOLD; a threshold is `\+N%`"),
    ("flash:+1%", (r"regression check 'flash:\+1%': unknown metric 'flash'; expected one of "
                  r"instructions_per_inference, cycles_per_inference, latency_us, flash_bytes, ram_bytes, "
                  r"code_bytes, weights_bytes, arena_bytes, stack_bytes, energy_uj$")),
    ("macs:+1%", r"unknown metric 'macs'"),
    ("flash_bytes:1x", (r"regression check 'flash_bytes:1x': threshold '1x' does not parse; expected `\+N%` "
                       r"\(at most N percent more\) or `\+N` \(at most N more, in the metric's unit\)")),
    ("flash_bytes:-1%", r"threshold '-1%' does not parse"),
    ("flash_bytes:", r"threshold '' does not parse"),
    ("flash_bytes:+%", r"threshold '\+%' does not parse"),
    ("flash_bytes:+1%,flash_bytes:+0", (r"regression check 'flash_bytes:\+0': metric 'flash_bytes' is given "
                                       r"twice; give each metric one threshold")),
])
def test_bad_specs_name_the_item_and_what_is_accepted(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_fail_on(spec)


# -- checking, exactly ---------------------------------------------------------------------------------


def test_a_percentage_check_fails_only_above_its_bound() -> None:
    (check,) = parse_fail_on("instructions_per_inference:+2%")
    assert check.check(1000, 1020) is None and check.check(1000, 900) is None
    failure = check.check(1000, 1021)
    assert failure is not None
    assert (failure.metric, failure.old, failure.new, failure.limit, failure.allowed) == (
        Metric.INSTRUCTIONS_PER_INFERENCE, 1000, 1021, "+2%", Fraction(1020))
    assert failure.ratio == 1.021
    assert str(failure) == "instructions_per_inference 1,000 -> 1,021 (x1.0210), limit +2% (at most 1,020)"


def test_the_bound_is_exact_where_floats_would_miss_it() -> None:
    # 1000 * (1 + 0.1 / 100) is 1000.9999999999999 in floats, and 50 * 1.1 is 55.00000000000001
    assert parse_fail_on("flash_bytes:+0.1%")[0].check(1000, 1001) is None
    assert parse_fail_on("flash_bytes:+10%")[0].check(50, 55) is None
    assert parse_fail_on("flash_bytes:+10%")[0].check(50, 56) is not None
    big = 10**17 + 1                                      # beyond a float's 53 bits
    assert parse_fail_on("instructions_per_inference:+0")[0].check(big, big) is None
    assert parse_fail_on("instructions_per_inference:+0")[0].check(big, big + 1) is not None


def test_a_difference_check_and_a_float_metric() -> None:
    (arena,) = parse_fail_on("arena_bytes:+0")
    assert arena.check(1408, 1408) is None
    failure = arena.check(1408, 1409)
    assert failure is not None and str(failure) == (
        "arena_bytes 1,408 -> 1,409 (x1.0007), limit +0 (at most 1,408)")
    (latency,) = parse_fail_on("latency_us:+0.5")
    assert latency.check(31933.999999999996, 31934.499999999996) is None
    assert latency.check(31933.999999999996, 31934.6) is not None
    assert parse_fail_on("stack_bytes:+1%")[0].check(0, 1) is not None   # from 0 any growth is beyond 1%
    assert parse_fail_on("stack_bytes:+1%")[0].check(0, 1).ratio is None  # type: ignore[union-attr]


# -- compare -------------------------------------------------------------------------------------------


def rec(run_id: str, model: str = "ad01", sha: str | None = AD, board: str = "qemu-m4", time: str = "10:00",
        insn: int | None = 800_000, **fields: Any) -> RunRecord:
    fields.setdefault("status", "ok")
    fields.setdefault("matches_reference", fields["status"] == "ok")
    return RunRecord(model=model, board=board, runtime="hilbench-aot", target="qemu", model_sha256=sha,
                     run_id=run_id, time_utc=f"2026-12-01T{time}:00+00:00", instructions_per_inference=insn,
                     **{"flash_bytes": 282_304, "arena_bytes": 1408, "latency_us": 31934.0, **fields})


def frame(*records: RunRecord) -> RunsFrame:
    return frame_of([(None, r) for r in records], known={})


def test_matched_runs_give_a_delta_per_metric_present_on_both_sides() -> None:
    result = compare(frame(rec("b1")), frame(rec("n1", insn=800_400, flash_bytes=282_300, stack_bytes=216)))
    assert result.ok and result.matched == 1 and not result.layer_changes
    got = {d.metric.value: (d.old, d.new, d.delta, d.regressed, d.limit) for d in result.deltas}
    assert got == {"instructions_per_inference": (800_000, 800_400, 400, False, ""),
                   "latency_us": (31934.0, 31934.0, 0.0, False, ""),
                   "flash_bytes": (282_304, 282_300, -4, False, ""),
                   "arena_bytes": (1408, 1408, 0, False, "")}   # stack only on one side; energy on none
    assert all(type(d.old) is int for d in result.deltas if d.metric.is_integer)
    delta = result.deltas[0]
    assert (delta.key.model_name, delta.key.board, delta.key.runtime, delta.old_run_id, delta.new_run_id) == (
        "ad01", "qemu-m4", "hilbench-aot", "b1", "n1")
    assert delta.ratio == 800_400 / 800_000


def test_failed_checks_are_regressions_listed_first_with_their_numbers() -> None:
    checks = parse_fail_on("instructions_per_inference:+2%,flash_bytes:+0")
    base = frame(rec("b1"), rec("b2", model="kws01", sha=KWS, insn=7_000_000))
    new = frame(rec("n1", insn=840_000),
                rec("n2", model="kws01", sha=KWS, insn=7_000_000, flash_bytes=282_305))
    result = compare(base, new, checks)
    assert not result.ok
    assert [(r.key.model_name, r.metric, r.old, r.new, r.limit) for r in result.regressions] == [
        ("ad01", "instructions_per_inference", 800_000, 840_000, "+2%"),
        ("kws01", "flash_bytes", 282_304, 282_305, "+0")]
    assert [d.regressed for d in result.deltas] == [True, True] + [False] * (len(result.deltas) - 2)
    assert [(d.key.model_name, d.metric.value) for d in result.deltas[:2]] == [
        ("ad01", "instructions_per_inference"), ("kws01", "flash_bytes")]
    assert result.deltas[0].limit == "+2%" and result.deltas[0].ratio == 1.05
    assert str(result.regressions[0]) == ("ad01 on qemu-m4 (hilbench-aot): instructions_per_inference "
                                          "800,000 -> 840,000 (x1.0500), limit +2% (at most 816,000)")


@pytest.mark.parametrize("new_fields, metric, old, new, limit", [
    ({"status": "timeout", "insn": None}, "status", "ok", "timeout", "was ok"),
    ({"status": "mismatch", "matches_reference": False}, "status", "ok", "mismatch", "was ok"),
    ({"status": "ok", "matches_reference": False}, "matches_reference", True, False, "was bit-exact"),
])
def test_a_run_that_was_ok_or_bit_exact_and_is_not_now_always_regresses(
        new_fields: dict[str, Any], metric: str, old: object, new: object, limit: str) -> None:
    result = compare(frame(rec("b1")), frame(rec("n1", **new_fields)))   # no checks at all
    assert [(r.metric, r.old, r.new, r.limit) for r in result.regressions] == [(metric, old, new, limit)]
    assert str(result.regressions[0]) == f"ad01 on qemu-m4 (hilbench-aot): {metric} {old} -> {new} ({limit})"


def test_a_run_that_failed_before_and_fails_or_passes_now_is_no_regression() -> None:
    base = frame(rec("b1", status="timeout", insn=None),
                 rec("b2", board="qemu-m3", status="build", insn=None))
    new = frame(rec("n1", status="timeout", insn=None), rec("n2", board="qemu-m3"))
    assert compare(base, new).ok


def test_the_latest_run_of_each_key_on_each_side_is_compared_and_never_by_host() -> None:
    base = frame(rec("b-old", time="08:00", insn=1), rec("b-new", time="09:00", provenance={"host": "ci-1"}))
    new = frame(rec("n-new", time="11:00", insn=800_000, provenance={"host": "laptop"}),
                rec("n-old", time="10:00", insn=999_999_999))
    result = compare(base, new, parse_fail_on("instructions_per_inference:+0"))
    assert result.ok and result.matched == 1
    assert {(d.old_run_id, d.new_run_id) for d in result.deltas} == {("b-new", "n-new")}


def test_a_model_run_by_path_matches_its_id_by_content() -> None:
    base = frame(rec("b1", model="kws01", sha=KWS))
    new = frame(rec("n1", model="kws_ref_model", sha=KWS, insn=900_000))
    result = compare(base, new, parse_fail_on("instructions_per_inference:+1%"))
    assert result.matched == 1 and [r.metric for r in result.regressions] == ["instructions_per_inference"]


def test_keys_on_one_side_only_are_listed_and_a_new_model_is_no_regression() -> None:
    base = frame(rec("b1"), rec("b2", board="qemu-m3"))
    new = frame(rec("n1"), rec("n2", model="kws01", sha=KWS), rec("n3", model="vww01", sha="ef" * 32,
                                                                   status="timeout", insn=None))
    result = compare(base, new, parse_fail_on("instructions_per_inference:+0"))
    assert result.ok and result.matched == 1
    assert [str(k) for k in result.only_base] == ["ad01 on qemu-m3 (hilbench-aot)"]
    assert [str(k) for k in result.only_new] == ["kws01 on qemu-m4 (hilbench-aot)",
                                                 "vww01 on qemu-m4 (hilbench-aot)"]


def test_nothing_to_compare() -> None:
    result = compare(frame(rec("b1")), frame())
    assert isinstance(result, Comparison) and result.ok and result.matched == 0 and not result.deltas
    assert [k.model_name for k in result.only_base] == ["ad01"]


def layers(costs: dict[int, int], op: str = "CONV_2D") -> list[dict[str, Any]]:
    return [{"index": i, "op": op, "macs": 100, "instructions": c} for i, c in costs.items()]


def test_the_layers_whose_cost_changed_most_are_named() -> None:
    old = {i: 1000 * (i + 1) for i in range(9)}
    new = {**old, 0: 1001, 1: 1500, 2: 3000 - 700, 3: 4100, 4: 5000 + 2000, 5: 6003, 6: 7300}
    del new[8]                                                # a layer gone: its whole cost
    base = frame(rec("b1", layers=layers(old)), rec("b2", board="qemu-m3", layers=layers(old)))
    new_frame = frame(rec("n1", layers=layers(new)), rec("n2", board="qemu-m3", layers=layers(old)))
    result = compare(base, new_frame)
    (changed,) = result.layer_changes                         # qemu-m3's layers did not change
    assert changed.key.board == "qemu-m4" and changed.layers_changed == 8
    assert (changed.old_run_id, changed.new_run_id) == ("b1", "n1")
    assert len(changed.changes) == TOP_LAYERS == 5
    assert [(c.index, c.op, c.old, c.new, c.delta) for c in changed.changes] == [
        (8, "CONV_2D", 9000, None, -9000), (4, "CONV_2D", 5000, 7000, 2000), (2, "CONV_2D", 3000, 2300, -700),
        (1, "CONV_2D", 2000, 1500, -500), (6, "CONV_2D", 7000, 7300, 300)]


def test_a_layer_whose_operator_changed_shows_both() -> None:
    base = frame(rec("b1", layers=layers({0: 1000}, op="CONV_2D")))
    result = compare(base, frame(rec("n1", layers=layers({0: 800}, op="DEPTHWISE_CONV_2D"))))
    changes = result.layer_changes[0].changes
    assert [(c.op, c.delta) for c in changes] == [("CONV_2D -> DEPTHWISE_CONV_2D", -200)]
