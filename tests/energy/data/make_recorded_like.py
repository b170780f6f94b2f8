"""Writes recorded_like.npz: a synthetic capture shaped like a real one, at 10 kS/s (a Joulescope
records 1-2 MS/s; that would be megabytes). Five windows of 50 inferences, each inference 6 ms at a
ripple of levels around 12 mA, idle 2.1 mA with UART bursts, voltage 3.3 V with a droop under load,
1 % current noise, one lost sample (NaN) and the boot timestamp before the first window (at
10 kS/s a glitch shorter than the 1 µs pulse cannot show). ``expected_uj`` is the noise-free integral per inference. Run it to regenerate."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FS = 10_000
rng = np.random.default_rng(2026)
inference = np.repeat([0.009, 0.014, 0.013, 0.011], 15)           # 60 samples = 6 ms, mean 11.75 mA
idle = np.full(2000, 0.0021)
idle[500:700] = 0.0035                                              # a UART burst
current, gpio, window_true = [idle.copy()], [np.ones(idle.size, bool)], []
gpio[0][100] = False                                                # init's timestamp
for _ in range(5):
    block = np.tile(inference, 50)
    g = np.ones(block.size, bool)
    g[0] = False                                                    # start edge
    current.append(block)
    gpio.append(g)
    after = idle.copy()
    ga = np.ones(after.size, bool)
    ga[0] = False                                                   # stop edge
    current.append(after)
    gpio.append(ga)
    window_true.append(float(np.sum(block * (3.3 - 2.0 * block))) / FS / 50 * 1e6)
cur = np.concatenate(current)
volt = 3.3 - 2.0 * cur                                              # 2 ohm source resistance
noisy = cur + rng.normal(0.0, 0.01 * 0.012, cur.size)
noisy[4000] = np.nan                                                # inside window #1
gp = np.concatenate(gpio)
np.savez_compressed(Path(__file__).with_name("recorded_like.npz"), sample_rate_hz=FS,
                    current_a=noisy.astype(np.float32), voltage_v=volt.astype(np.float32), gpio=gp,
                    expected_uj=np.float64(np.median(window_true)), inferences=50, windows=5)
