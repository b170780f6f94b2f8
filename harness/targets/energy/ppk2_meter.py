"""Nordic Power Profiler Kit II as an ``EnergyMeter``, through ``ppk2-api``.

Source-meter mode (the PPK2 powers the board at ``voltage_mv``) or ampere-meter mode (in series
with the board's own supply; give its voltage). The timestamp pin goes to a logic input (D0 by
default). About 100 kS/s: a 1 µs timestamp pulse can fall between two samples, so the firmware's
pulse must be stretched to >= 10 µs for this meter (and ``min_low_s`` set to match).

Built against ``ppk2_api.ppk2_api.PPK2_API``: ``list_devices()``, ``PPK2_API(port)``,
``get_modifiers()``, ``use_source_meter()`` / ``use_ampere_meter()``, ``set_source_voltage(mV)``,
``toggle_DUT_power("ON"|"OFF")``, ``start_measuring()`` / ``stop_measuring()``, ``get_data()`` (raw
bytes), ``get_samples(raw)`` -> (µA per sample, raw logic per sample), ``digital_channels(raw)`` ->
eight lists of 0/1. Not yet run on hardware. The PPK2 has no sample counter: a sample the package
cannot convert is dropped without a trace, so the time axis assumes the nominal rate.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from harness.errors import EnergyMeasurementError, TargetError, ToolchainError
from harness.targets.energy.base import SampleStream, import_optional

PPK2_SAMPLE_RATE_HZ = 100_000.0


def _port_of(entry: Any) -> str:
    """``list_devices()`` gives port names (older releases) or (port, serial) pairs (newer)."""
    if isinstance(entry, (tuple, list)) and entry:
        return str(entry[0])
    return str(entry)


class Ppk2Meter:
    source = "ppk2"

    def __init__(self, port: str | None = None, *, voltage_mv: int = 3300, source_mode: bool = True,
                 gpio_channel: int = 0, poll_s: float = 0.01,
                 sample_rate_hz: float = PPK2_SAMPLE_RATE_HZ) -> None:
        if not 0 <= gpio_channel <= 7:
            raise ValueError(f"gpio_channel is {gpio_channel}; the PPK2 has logic inputs D0..D7")
        self.port = port
        self.voltage_mv = voltage_mv
        self.source_mode = source_mode
        self.gpio_channel = gpio_channel
        self.poll_s = poll_s
        self.sample_rate_hz = sample_rate_hz
        self._ppk2: Any = None
        self._chunks: list[bytes] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def describe(self) -> str:
        mode = "source meter" if self.source_mode else "ampere meter"
        return (f"PPK2 {self.port or '(the only one attached)'}, {mode} at {self.voltage_mv} mV, "
                f"timestamp on D{self.gpio_channel}, ~{self.sample_rate_hz / 1e3:g} kS/s")

    def open(self) -> None:
        mod = import_optional("ppk2_api.ppk2_api", "ppk2-api", "--energy ppk2")
        api = mod.PPK2_API
        ports = [_port_of(e) for e in api.list_devices()]
        if not ports:
            raise TargetError("no PPK2 found (PPK2_API.list_devices() found none): check the USB cable "
                              "(the PPK2's USB DATA/POWER port) and the serial port permissions")
        if self.port is None:
            if len(ports) > 1:
                raise TargetError(f"{len(ports)} PPK2s found ({', '.join(ports)}); choose one with "
                                  "--energy ppk2:PORT")
            port = ports[0]
        elif self.port in ports:
            port = self.port
        else:
            raise TargetError(f"no PPK2 on {self.port!r}; found: {', '.join(ports)}")
        ppk2 = api(port)
        ppk2.get_modifiers()
        if self.source_mode:
            ppk2.use_source_meter()
        else:
            ppk2.use_ampere_meter()
        ppk2.set_source_voltage(self.voltage_mv)
        if self.source_mode:
            ppk2.toggle_DUT_power("ON")
        self.port = port
        self._ppk2 = ppk2

    def _poll(self) -> None:
        while not self._stop.is_set():
            data = self._ppk2.get_data()
            if data:
                self._chunks.append(bytes(data))
            time.sleep(self.poll_s)
        while data := self._ppk2.get_data():        # drain what arrived before stop_measuring took
            self._chunks.append(bytes(data))

    def start(self) -> None:
        if self._ppk2 is None:
            raise TargetError("Ppk2Meter.start() before open()")
        self._chunks = []
        self._stop.clear()
        self._ppk2.start_measuring()
        self._thread = threading.Thread(target=self._poll, name="ppk2-poll", daemon=True)
        self._thread.start()

    def stop(self) -> SampleStream:
        if self._ppk2 is None or self._thread is None:
            raise TargetError("Ppk2Meter.stop() before start()")
        self._ppk2.stop_measuring()
        self._stop.set()
        self._thread.join()
        self._thread = None
        raw = b"".join(self._chunks)
        if not raw:
            raise EnergyMeasurementError("the PPK2 delivered no samples between start and stop")
        result = self._ppk2.get_samples(raw)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise ToolchainError("this ppk2-api returns no logic inputs from get_samples(); the "
                                 "timestamp GPIO needs a newer one: pip install -U ppk2-api")
        samples_ua, digital = result
        channels = self._ppk2.digital_channels(digital)
        gpio = np.asarray(channels[self.gpio_channel]) != 0
        current_a = np.asarray(samples_ua, dtype=np.float64) * 1e-6
        if len(gpio) != len(current_a):
            raise EnergyMeasurementError(f"the PPK2 gave {len(current_a)} current samples but {len(gpio)} "
                                   "logic samples")
        return SampleStream(sample_rate_hz=self.sample_rate_hz, current_a=current_a,
                            voltage_v=self.voltage_mv / 1000.0, gpio=gpio, source=f"ppk2:{self.port}")

    def close(self) -> None:
        ppk2, self._ppk2 = self._ppk2, None
        if ppk2 is None:
            return
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self.source_mode:
            ppk2.toggle_DUT_power("OFF")
        ser = getattr(ppk2, "ser", None)
        if ser is not None:
            ser.close()
