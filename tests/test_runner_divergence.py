"""find_first_diverging_layer against scripted firmware replies: found, not found, and never raising."""

from __future__ import annotations

import zlib

from harness.errors import ModelError
from harness.protocol import DutClient
from harness.runner import find_first_diverging_layer
from tests.test_protocol import ScriptedPort

REFERENCE = [bytes(range(40)), bytes(range(100, 124)), bytes(24), bytes(range(10))]
OPS = ["CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"]


def crc_reply(layers: list[bytes]) -> bytes:
    lines = [f"m-hil-layer-crc index={i} op={op} bytes={len(b)} crc32={zlib.crc32(b):08x}\r\n"
             for i, (op, b) in enumerate(zip(OPS, layers))]
    return ("".join(lines) + "m-ready\r\n").encode()


def out_reply(index: int, data: bytes) -> bytes:
    lines = [f"m-hil-layer-out index={index} offset={o} hex={data[o:o + 32].hex()}\r\n"
             for o in range(0, len(data), 32)]
    return ("".join(lines) + "m-ready\r\n").encode()


def test_the_first_layer_whose_crc_differs_is_fetched_and_compared() -> None:
    bad = bytearray(REFERENCE[1])
    bad[5] ^= 0x10
    bad[20] ^= 0x01
    firmware = [REFERENCE[0], bytes(bad), bytes(24), bytes(range(1, 11))]  # layer 3 differs too, later
    port = ScriptedPort({"hil-layer-crc": crc_reply(firmware), "hil-layer-out 1": out_reply(1, bytes(bad))})
    found = find_first_diverging_layer(DutClient(port), lambda: REFERENCE, timeout_s=1.0)
    assert found.layer == {"index": 1, "op": "FULLY_CONNECTED", "kernel": "FULLY_CONNECTED", "differing_bytes": 2,
                           "bytes": 24, "first_difference_offset": 5}
    assert found.describe() == "first differing layer: 1 (FULLY_CONNECTED), 2 of 24 bytes"
    assert port.written == [b"hil-layer-crc%", b"hil-layer-out 1%"]


def test_a_layer_of_the_wrong_size_counts_the_missing_bytes() -> None:
    short = REFERENCE[0][:32]
    port = ScriptedPort({"hil-layer-crc": crc_reply([short, *REFERENCE[1:]]),
                         "hil-layer-out 0": out_reply(0, short)})
    found = find_first_diverging_layer(DutClient(port), lambda: REFERENCE, timeout_s=1.0)
    assert found.layer is not None
    assert (found.layer["differing_bytes"], found.layer["first_difference_offset"]) == (8, 32)


def test_all_layers_matching_is_a_reason_not_a_layer() -> None:
    port = ScriptedPort({"hil-layer-crc": crc_reply(REFERENCE)})
    found = find_first_diverging_layer(DutClient(port), lambda: REFERENCE, timeout_s=1.0)
    assert found.layer is None and "every layer's output had the interpreter's CRC-32" in found.reason
    assert found.describe().startswith("the first differing layer could not be found: ")


def test_a_crc_that_differs_but_bytes_that_match_say_the_firmware_is_not_deterministic() -> None:
    port = ScriptedPort({"hil-layer-crc": crc_reply([REFERENCE[0], bytes(24), *REFERENCE[2:]]),
                         "hil-layer-out 1": out_reply(1, REFERENCE[1])})
    found = find_first_diverging_layer(DutClient(port), lambda: REFERENCE, timeout_s=1.0)
    assert found.layer is None and "not deterministic" in found.reason


def test_failures_become_reasons_and_never_raise() -> None:
    def no_reference() -> list[bytes]:
        raise ModelError("the interpreter failed")

    garbled = ScriptedPort({"hil-layer-crc": b"m-hil-layer-crc index=0 op=CONV_2D\r\nm-ready\r\n"})
    unknown = ScriptedPort({"hil-layer-crc": b"e-[Unknown command: hil-layer-crc]\r\nm-ready\r\n"})
    silent = ScriptedPort({"hil-layer-crc": b"m-hil-layer-crc index=0 op=CONV"})
    wrong_count = ScriptedPort({"hil-layer-crc": crc_reply(REFERENCE[:3])})
    reasons = [find_first_diverging_layer(DutClient(garbled), lambda: REFERENCE, 1.0).reason,
               find_first_diverging_layer(DutClient(unknown), lambda: REFERENCE, 1.0).reason,
               find_first_diverging_layer(DutClient(silent), lambda: REFERENCE, 0.2).reason,
               find_first_diverging_layer(DutClient(wrong_count), lambda: REFERENCE, 1.0).reason,
               find_first_diverging_layer(DutClient(ScriptedPort({})), no_reference, 1.0).reason]
    assert reasons[0].startswith("FirmwareOutputError: m-hil-layer-crc line with a missing or malformed")
    assert reasons[1].startswith("FirmwareOutputError: the firmware refused 'hil-layer-crc'")
    assert reasons[2].startswith("TargetTimeout: no reply to 'hil-layer-crc'")
    assert reasons[3] == "the firmware reported 3 layers; the model has 4"
    assert reasons[4] == "ModelError: the interpreter failed"
