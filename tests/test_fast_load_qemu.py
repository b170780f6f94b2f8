"""`hil-load` on the real firmware in QEMU: the same input bytes and output as `db`, every byte value
(incl. '%', CR, LF) carried, a block with a wrong CRC-32 refused, and `db` still there."""

from __future__ import annotations

import contextlib

import pytest

from harness.boards import load_board
from harness.errors import FirmwareOutputError
from harness.model import load_model
from harness.model.reference import reference_output
from harness.model.zoo import resolve_model
from harness.protocol import FAST_LOAD_ATTEMPTS, DutClient, SerialLike
from tests.conftest import booted_firmware, requires_cc, requires_qemu

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]


def every_byte_value(n: int) -> bytes:
    """``n`` bytes holding every value 0-255, '%' next to CR and LF, in a different order each round."""
    head = b"%\r\n%\n\r%%"
    data = bytearray(head)
    k = 0
    while len(data) < n:
        data += bytes((v * (2 * k + 1) + k) % 256 for v in range(256))
        k += 1
    return bytes(data[:n])


class CorruptingPort:
    """A serial line that flips one bit of the first block of each of the next ``bad`` `hil-load`s."""

    def __init__(self, port: SerialLike, bad: int) -> None:
        self.port, self.bad, self.writes = port, bad, 0

    @property
    def in_waiting(self) -> int:
        return self.port.in_waiting

    def read(self, size: int = 1) -> bytes:
        return self.port.read(size)

    def write(self, data: bytes) -> int | None:
        if data.startswith(b"hil-load "):
            self.writes = 0
        self.writes += 1
        if self.writes == 2 and self.bad > 0:
            self.bad -= 1
            data = bytes([data[0] ^ 0x01]) + data[1:]
        return self.port.write(data)


def booted(model_id: str) -> contextlib.AbstractContextManager[DutClient]:
    ref = resolve_model(model_id)
    return booted_firmware(load_model(ref.path), ref.id, load_board("qemu-m4"))


def buffer_of(client: DutClient) -> bytes:
    """The firmware's input buffer, read back with MLPerf Tiny's `db print`."""
    return bytes(int(b, 16) for line in client.command("db print") for b in line.split("-")[2:])


def infer_output(client: DutClient) -> bytes:
    client.infer(1, 0, timeout_s=30.0)
    return client.output_bytes()


@pytest.mark.parametrize("model_id", ["tinycnn", "ic01"])   # one block (512 bytes); three (3,072)
def test_hil_load_gives_the_same_bytes_and_output_as_db(model_id: str) -> None:
    graph = load_model(resolve_model(model_id).path)
    data = every_byte_value(graph.input.nbytes)
    assert set(data) == set(range(256))
    with booted(model_id) as client:
        client.profile()
        assert client.fast_load_block_bytes == 1024     # the firmware advertises hil-load
        client.db_load(data)
        assert buffer_of(client) == data
        via_db = infer_output(client)
        client.db_load(bytes(len(data)))                 # something else in between
        client.load_input(data)
        assert any(line.startswith("> hil-load ") for line in client.transcript)
        assert buffer_of(client) == data
        assert infer_output(client) == via_db == reference_output(str(resolve_model(model_id).path), graph, data)
        assert client.command("name") == ["m-name-dut-[hilbench]"]   # the command line is in step again


def test_a_block_with_a_wrong_crc_is_refused_then_the_load_is_sent_again() -> None:
    graph = load_model(resolve_model("tinycnn").path)
    data = every_byte_value(graph.input.nbytes)
    with booted("tinycnn") as client:
        client.profile()
        real = client.port
        client.port = CorruptingPort(real, bad=FAST_LOAD_ATTEMPTS - 1)
        client.load_input(data)
        client.port = real
        assert client.transcript.count("e-[hil-load: CRC-32 mismatch]") == FAST_LOAD_ATTEMPTS - 1
        assert client.transcript.count(f"> hil-load {len(data)}%") == FAST_LOAD_ATTEMPTS
        assert buffer_of(client) == data


def test_a_block_refused_every_time_is_reported_and_the_firmware_still_answers() -> None:
    graph = load_model(resolve_model("tinycnn").path)
    data = every_byte_value(graph.input.nbytes)
    with booted("tinycnn") as client:
        client.profile()
        real = client.port
        client.port = CorruptingPort(real, bad=FAST_LOAD_ATTEMPTS)
        with pytest.raises(FirmwareOutputError) as info:
            client.load_input(data)
        client.port = real
        assert info.value.line == "e-[hil-load: CRC-32 mismatch]"
        assert buffer_of(client) == b""                   # no input is loaded
        with pytest.raises(FirmwareOutputError):
            client.command("hil-load 0")                  # a byte count of 0 is refused
        client.load_input(data)
        assert buffer_of(client) == data
