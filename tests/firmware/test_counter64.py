"""bench_counter64.h, the 64-bit extension of DWT CYCCNT in firmware/src/timer.c, on wrap sequences.
QEMU's DWT reads 0, so this logic never runs in the emulator: it is checked here on the host."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.firmware.host_c import C_DIR, build_c, requires_host_cc, run_c

pytestmark = requires_host_cc

WRAP = 2**32
SYSTICK_PERIOD = 2**24  # cycles between SysTick interrupts, each of which observes the counter


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_c(tmp_path_factory.mktemp("counter64"), "counter64_check", [C_DIR / "counter64_check.c"])


def observe(counter: Path, times: list[int], start: tuple[int, int] = (0, 0)) -> list[int]:
    """The 64-bit counts the extension gives when the 32-bit counter is read at each of ``times``."""
    lines = [f"s {start[0]} {start[1]}"] + [f"o {t % WRAP}" for t in times]
    return [int(v) for v in run_c(counter, "\n".join(lines) + "\n").split()]


def test_counts_through_wraps_at_every_kind_of_step(counter: Path) -> None:
    times = [0, 5, 5, WRAP - 1, WRAP, WRAP + 1, 2 * WRAP - 1, 3 * WRAP - 2,  # steps 0, 1, and the largest, 2^32 - 1
             3 * WRAP, 3 * WRAP + 2**31, 4 * WRAP + 2**31 - 1]
    assert observe(counter, times) == times


def test_random_steps_below_two_to_the_32_are_exact(counter: Path) -> None:
    rng = np.random.default_rng(3)
    steps = rng.integers(0, WRAP, size=3000, dtype=np.int64)
    times = [int(t) for t in np.cumsum(steps)]
    assert observe(counter, times) == times


def test_systick_observations_keep_counting_when_nothing_reads_the_time(counter: Path) -> None:
    # three and a half wraps with no read from bench_cycles(): only the interrupt observes, every 2^24 cycles
    interrupts = list(range(SYSTICK_PERIOD, 3 * WRAP + WRAP // 2, SYSTICK_PERIOD))
    end = interrupts[-1] + 12345
    assert observe(counter, [*interrupts, end])[-1] == end


def test_an_observation_of_the_same_value_is_not_a_wrap(counter: Path) -> None:
    assert observe(counter, [7, 7, 7, 8]) == [7, 7, 7, 8]


def test_the_high_word_carries_on_from_its_state_and_wraps_at_two_to_the_64(counter: Path) -> None:
    assert observe(counter, [3 * WRAP + 10], start=(WRAP - 5, 2)) == [3 * WRAP + 10]
    assert observe(counter, [(2**32 - 1) * WRAP + WRAP + 3], start=(WRAP - 1, 2**32 - 1)) == [3]
