"""Joulescope (JS110/JS220) as an ``EnergyMeter``, through the ``joulescope`` package (1.x API).

Wiring: the meter in series with the board's supply; the board's timestamp pin to GPI0, its ground
to the meter's IO ground. ``io_voltage`` must match the board's IO level.

Built against the package's documented calls, not yet run on hardware: ``joulescope.scan()``, a
device's ``open()``, ``parameter_set(name, value)``, ``stream_process_register(obj)`` (the driver
calls ``obj.stream_notify(stream_buffer)`` as data arrives), ``stream_buffer.sample_id_range`` and
``stream_buffer.samples_get(start, stop, fields=[...])`` (a dict with ``signals[field]['value']``;
with ``current_lsb`` set to ``gpi0`` the current's LSB field carries GPI0), ``stop()``, ``close()``.
The Joulescope marks missing samples with NaN; the analysis counts them.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from harness.errors import EnergyMeasurementError, TargetError
from harness.targets.energy.base import SampleStream, import_optional

FIELDS = ["current", "voltage", "current_lsb"]


def device_serial(device: Any) -> str:
    for attr in ("device_serial_number", "serial_number"):
        value = getattr(device, attr, None)
        if value:
            return str(value)
    return str(device)


class _Collector:
    """A stream process object: pulls the new samples out of the stream buffer as they arrive."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_id: int | None = None
        self.chunks: list[tuple[int, dict[str, Any]]] = []
        self.driver_active = True

    def start(self, stream_buffer: Any) -> None:
        self.next_id = None

    def stream_notify(self, stream_buffer: Any) -> bool:
        first, end = (int(x) for x in stream_buffer.sample_id_range)
        with self.lock:
            start = first if self.next_id is None else max(first, self.next_id)
            if end > start:
                data = stream_buffer.samples_get(start, end, fields=FIELDS)
                self.chunks.append((start, data))
                self.next_id = end
        return False        # never ask the driver to stop

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self.driver_active = False


class JoulescopeMeter:
    source = "joulescope"

    def __init__(self, serial: str | None = None, *, io_voltage: str = "3.3V") -> None:
        self.serial = serial
        self.io_voltage = io_voltage
        self._device: Any = None
        self._collector: _Collector | None = None

    def describe(self) -> str:
        which = self.serial or "the only one attached"
        return f"Joulescope {which} (GPI0 = timestamp, IO {self.io_voltage})"

    def open(self) -> None:
        js = import_optional("joulescope", "joulescope", "--energy joulescope")
        devices = list(js.scan())
        if not devices:
            raise TargetError("no Joulescope found (joulescope.scan() found none): check the USB "
                              "cable and that no other program (the Joulescope UI) holds it")
        found = [device_serial(d) for d in devices]
        if self.serial is None:
            if len(devices) > 1:
                raise TargetError(f"{len(devices)} Joulescopes found ({', '.join(found)}); choose one "
                                  "with --energy joulescope:SERIAL")
            device = devices[0]
        else:
            matches = [d for d, s in zip(devices, found, strict=True) if self.serial in (s, str(d))]
            if not matches:
                raise TargetError(f"no Joulescope with serial {self.serial!r}; found: {', '.join(found)}")
            device = matches[0]
        device.open()
        try:
            for name, value in (("i_range", "auto"), ("sensor_power", "on"), ("source", "raw"),
                                ("io_voltage", self.io_voltage), ("current_lsb", "gpi0")):
                device.parameter_set(name, value)
        except Exception:
            device.close()
            raise
        self._device = device

    def start(self) -> None:
        if self._device is None:
            raise TargetError("JoulescopeMeter.start() before open()")
        self._collector = _Collector()
        self._device.stream_process_register(self._collector)
        self._device.start()

    def stop(self) -> SampleStream:
        device, collector = self._device, self._collector
        if device is None or collector is None:
            raise TargetError("JoulescopeMeter.stop() before start()")
        device.stop()
        collector.close()
        self._collector = None
        with collector.lock:
            chunks = list(collector.chunks)
        if not chunks:
            raise EnergyMeasurementError("the Joulescope delivered no samples between start and stop")
        rate = _sampling_frequency(device, chunks[0][1])
        ids, current, voltage, gpio = [], [], [], []
        for start, data in chunks:
            sig = data["signals"]
            cur = np.asarray(sig["current"]["value"], dtype=np.float64)
            ids.append(np.arange(start, start + len(cur), dtype=np.int64))
            current.append(cur)
            voltage.append(np.asarray(sig["voltage"]["value"], dtype=np.float64))
            gpio.append(np.asarray(sig["current_lsb"]["value"]) != 0)
        return SampleStream(sample_rate_hz=rate, current_a=np.concatenate(current),
                            voltage_v=np.concatenate(voltage), gpio=np.concatenate(gpio),
                            sample_id=np.concatenate(ids), source=f"joulescope:{device_serial(device)}")

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.close()


def _sampling_frequency(device: Any, data: dict[str, Any]) -> float:
    try:
        return float(data["time"]["sampling_frequency"]["value"])
    except (KeyError, TypeError):
        return float(device.sampling_frequency)
