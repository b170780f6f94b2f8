"""``hilbench probes``: the debug probes attached, as pyOCD sees them, with each one's serial port.

Registered on the ``hilbench`` group in ``harness.cli``. Exit status 0, also when no probe is attached
(that is an answer, as for ``pyocd list``); 1 when pyOCD cannot list the probes at all.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.errors import HarnessError
from harness.targets import ports as ports_mod
from harness.targets import pyocd_probe


def probe_rows() -> list[dict[str, Any]]:
    """One dict per attached probe: its pyOCD description, board and serial port (or why there is none)."""
    probes = pyocd_probe.list_probes()
    seen = ports_mod.list_serial_ports() if probes else []
    rows = []
    for p in probes:
        port: str | None = None
        port_error: str | None = None
        try:
            port = ports_mod.serial_port_for_probe(p.unique_id, seen)
        except HarnessError as exc:
            port_error = str(exc)
        rows.append({"unique_id": p.unique_id, "description": p.description, "vendor": p.vendor,
                     "product": p.product, "board": p.board, "target_type": p.target_type,
                     "serial_port": port, "serial_port_error": port_error})
    return rows


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print the probes as a JSON list on stdout")
def probes(as_json: bool) -> None:
    """List the debug probes attached (pyOCD): unique id, vendor and product, board, serial port.

    The board and target type are known for probes built into a board (ST-LINK/V2-1 on a Nucleo,
    DAPLink); the serial port is the probe's virtual COM port, matched by its USB serial number.
    """
    try:
        rows = probe_rows()
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no debug probe found (pyOCD {pyocd_probe.pyocd_version()} sees none on USB)")
        return
    t = Table(title="debug probes (pyOCD)")
    for col in ("unique id", "description", "vendor", "product", "board", "target type", "serial port"):
        t.add_column(col)
    for r in rows:
        cells = [r["unique_id"], r["description"], r["vendor"], r["product"], r["board"] or "-",
                 r["target_type"] or "-", r["serial_port"] or "-"]
        t.add_row(*(escape(c) for c in cells))
    Console(width=None if sys.stdout.isatty() else max(170, Console(width=1000).measure(t).maximum)).print(t)
    err = Console(stderr=True)
    for r in rows:
        if r["serial_port_error"]:
            err.print(f"serial port of {escape(r['unique_id'])}: {escape(r['serial_port_error'])}",
                      soft_wrap=True)
