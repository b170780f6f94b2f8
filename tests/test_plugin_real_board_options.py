"""The pytest options for real boards and backends: bad values are usage errors naming what is accepted,
and ``@pytest.mark.board`` skips on emulated boards with how to run the test."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(("args", "message"), [
    (["--hil-target", "nosuch"], "*unknown target backend 'nosuch'; expected one of*hardware*qemu*"),
    (["--hil-energy", "otii"], "*unknown energy meter 'otii'*joulescope*ppk2*estimate*"),
    (["--hil-energy", "joulescope:"], "*nothing after ':'*"),
    (["--hil-energy-layers"], "*--hil-energy-layers needs --hil-energy METER*"),
])
def test_bad_values_are_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    pytester.makepyfile("def test_x(hil):\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_board_marked_test_is_skipped_on_an_emulated_board_with_how_to_run_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.board
        def test_needs_any_real_board(hil):
            raise AssertionError("must not run on an emulated board")

        @pytest.mark.board("nucleo-l4r5zi")
        def test_needs_that_board(hil):
            raise AssertionError("must not run on another board")

        def test_plain(hil):
            pass
    """)
    result = pytester.runpytest("-rs", "--hil-board", "qemu-m4")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines([
        "*needs a real board; qemu-m4 runs on qemu: --hil-board BOARD --hil-probe ID*",
        "*needs the board nucleo-l4r5zi (this run is on qemu-m4): --hil-board nucleo-l4r5zi*",
    ])


def test_a_board_marked_test_runs_on_a_real_board(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.board
        def test_needs_any_real_board(hil):
            assert hil.board.target == "hardware"
    """)
    result = pytester.runpytest("--hil-board", "nucleo-l4r5zi")
    result.assert_outcomes(passed=1)
