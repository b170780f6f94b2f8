"""A real board in a labgrid place: acquired for one run, its resources handed to ``HardwareTarget``.

``--hil-lg-place NAME`` (``RunOptions.lg_place``) makes the runner build a ``LabgridHardwareTarget``, a
``HardwareTarget`` whose ``load`` first acquires the place on the labgrid coordinator (as
``labgrid-client -p NAME acquire`` does: the place must exist, be free, and its matches must find exported
resources), then reads the place's resources through labgrid's own classes:

- a ``NetworkSerialPort`` becomes the serial port: ``rfc2217://HOST:PORT`` (protocol ``rfc2217``) or
  ``socket://HOST:PORT`` (``raw``), through labgrid's proxy manager (an isolated exporter's SSH forward);
- a power port (``NetworkPowerPort``, ``PDUDaemonPort``, ``TasmotaPowerPort``, ...) gets labgrid's power
  driver: on before the image is written, off when the target closes;
- a debug probe is reached through a GDB server (``--hil-probe gdb:HOST:PORT``); a place whose probe is a
  USB debugger on the exporter says so and asks for the GDB server's address.

``--hil-probe`` and ``--hil-port`` still win over what the place offers. ``close`` (and so the ``with`` block)
powers the board off and releases the place, also when the run failed. The coordinator's address comes
from labgrid's own environment variable ``LG_COORDINATOR`` (default ``127.0.0.1:20408``); the holder's name
from ``LG_USERNAME``/``LG_HOSTNAME`` as labgrid-client takes it.

Failure classes, each with its own ``status``: ``labgrid-place-unknown`` (no such place),
``labgrid-place-taken`` (names who holds it), ``labgrid-coordinator`` (no answer at the address),
``labgrid-exporter`` (the place's resources are not exported) and ``labgrid-exporter-lost`` (the exporter
dropped while the place was held). labgrid is untyped: its objects are ``Any`` here, at the boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Self

from harness.boards import BoardSpec
from harness.errors import ConfigError, TargetError
from harness.targets.base import TargetResult
from harness.targets.hardware import HardwareTarget
from harness.types import FirmwareImage

# labgrid talks gRPC. Once gRPC's threads run in this process, its fork handlers can abort a child between
# fork and exec (QEMU, the compiler: seen as QEMU dying with SIGABRT and an epoll error from gRPC); hilbench
# forks only to exec, so they are switched off before gRPC is first imported (labgrid is imported lazily)
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

DEFAULT_COORDINATOR = "127.0.0.1:20408"       # labgrid's default, as labgrid-client takes it
COORDINATOR_TIMEOUT_S = 10.0
# labgrid power resource class -> the driver labgrid-client's `power` command uses for it
POWER_DRIVERS = {"NetworkPowerPort": "NetworkPowerDriver", "PDUDaemonPort": "PDUDaemonDriver",
                 "TasmotaPowerPort": "TasmotaPowerDriver", "NetworkUSBPowerPort": "USBPowerDriver",
                 "NetworkYKUSHPowerPort": "YKUSHPowerDriver", "NetworkSiSPMPowerPort": "SiSPMPowerDriver"}
DEBUGGERS = ("NetworkUSBDebugger", "USBDebugger")
SERIAL_SCHEMES = {"rfc2217": "rfc2217", "raw": "socket"}


class LabgridPlaceUnknownError(ConfigError):
    """The coordinator has no place of that name; the message lists the places it has."""

    status = "labgrid-place-unknown"


class LabgridPlaceTakenError(TargetError):
    """The place is acquired by someone else; ``holder`` is labgrid's ``HOST/USER``."""

    status = "labgrid-place-taken"

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class LabgridCoordinatorError(TargetError):
    """No labgrid coordinator answers at the address (or it went away while the place was held)."""

    status = "labgrid-coordinator"


class LabgridExporterError(TargetError):
    """A resource the place matches is not exported (its exporter is not connected)."""

    status = "labgrid-exporter"


class LabgridExporterLostError(LabgridExporterError):
    """The exporter of the place's resources dropped while the place was held (mid-run)."""

    status = "labgrid-exporter-lost"


def coordinator_address() -> str:
    """labgrid's ``LG_COORDINATOR``, or its default."""
    return os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR


@dataclass(frozen=True)
class PlaceResources:
    """What hilbench takes from a place: the serial port URL, the debugger's description, the power ports."""

    port_url: str | None
    debugger: str | None = None
    power: tuple[str, ...] = ()
    names: tuple[str, ...] = field(default_factory=tuple)   # every resource, "cls/name", for messages


class LabgridPlace:
    """One acquired labgrid place: ``acquire`` -> ``resources`` -> ``power(True)`` ... ``release``.

    Holds a labgrid ``ClientSession`` on its own event loop (run only inside these calls). ``release`` is
    idempotent and always safe (use ``with``): it powers off what it powered on, releases the place if this
    session holds it, and closes the session.
    """

    def __init__(self, name: str, address: str | None = None, timeout_s: float | None = None) -> None:
        self.name = name
        self.address = address or coordinator_address()
        self.timeout_s = COORDINATOR_TIMEOUT_S if timeout_s is None else timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._session: Any = None
        self._target: Any = None       # a labgrid Target holding the place's resources and drivers
        self._power: list[Any] = []    # labgrid power drivers switched on
        self._held = False

    # -- connecting and acquiring -------------------------------------------------------------------
    def _in_thread(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on this place's own thread: its event loop runs there only, so a loop left running in
        the caller's thread (an async test framework, a notebook) cannot get in the way."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"labgrid-{self.name}")
        return self._executor.submit(fn).result()

    def _run(self, coro: Any, what: str) -> Any:
        loop = self._loop
        assert loop is not None
        try:
            return self._in_thread(lambda: loop.run_until_complete(asyncio.wait_for(coro, self.timeout_s)))
        except TimeoutError as exc:
            raise LabgridCoordinatorError(f"labgrid coordinator {self.address}: no answer to {what} in "
                                          f"{self.timeout_s:g} s{self._hint()}") from exc

    def _hint(self) -> str:
        old = os.environ.get("LG_CROSSBAR")
        hint = ("; LG_CROSSBAR is set: labgrid >= 24 uses a gRPC coordinator (labgrid-coordinator) named by "
                f"LG_COORDINATOR=HOST:PORT, not crossbar ({old})") if old and not os.environ.get("LG_COORDINATOR") else ""
        return hint + "; set LG_COORDINATOR=HOST:PORT to the coordinator (labgrid-coordinator) of your lab"

    def _connect(self) -> Any:
        from labgrid.remote.client import ClientSession, ServerError
        from labgrid.util.proxy import proxymanager

        address = proxymanager.get_grpc_address(self.address, default_port=20408)

        def start() -> tuple[asyncio.AbstractEventLoop, Any]:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            return loop, ClientSession(address, loop)

        self._loop, session = self._in_thread(start)
        self._session = session
        try:
            self._run(session.start(), "the client's start")
        except ServerError as exc:
            raise LabgridCoordinatorError(f"labgrid coordinator {self.address} does not answer ({exc})"
                                          f"{self._hint()}") from exc
        return session

    def _me(self) -> str:
        return f"{self._session.gethostname()}/{self._session.getuser()}"

    def acquire(self) -> None:
        """Acquire the place; raises the failure classes of the module docstring."""
        import grpc
        from labgrid.remote.client import UserError
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2

        session = self._connect()
        place = session.places.get(self.name)
        if place is None:
            raise LabgridPlaceUnknownError(
                f"labgrid place {self.name!r} does not exist on the coordinator {self.address}; it has "
                f"{sorted(session.places) or 'no places'} (create one: labgrid-client -p {self.name} create, "
                "then add-match EXPORTER/GROUP/CLASS/NAME)")
        if place.acquired:
            raise self._taken(place.acquired)
        try:
            session.check_matches(place)
        except UserError as exc:
            raise LabgridExporterError(f"labgrid place {self.name!r}: {exc}; is its exporter running "
                                       f"(labgrid-client -p {self.name} show)?") from exc
        try:
            self._run(session.stub.AcquirePlace(pb2.AcquirePlaceRequest(placename=place.name)), "acquire")
        except grpc.aio.AioRpcError as exc:
            self._run(session.sync_with_coordinator(), "a sync")
            holder = session.places.get(self.name) and session.places[self.name].acquired
            if holder and holder != self._me():
                raise self._taken(holder) from exc
            raise LabgridCoordinatorError(f"labgrid coordinator {self.address}: acquiring place {self.name!r} "
                                          f"failed: {exc.details()}") from exc
        self._held = True
        self._run(session.sync_with_coordinator(), "a sync")

    def _taken(self, holder: str) -> LabgridPlaceTakenError:
        me = self._me()
        who = "you, in another session" if holder == me else holder
        return LabgridPlaceTakenError(
            f"labgrid place {self.name!r} is taken: acquired by {who} (HOST/USER); wait for its release, or ask "
            f"them to run `labgrid-client -p {self.name} release` (we are {me})", holder)

    # -- resources ----------------------------------------------------------------------------------
    def resources(self) -> PlaceResources:
        """The place's resources as labgrid objects (a labgrid ``Target``), and what hilbench takes of them."""
        from labgrid import Target as LgTarget
        from labgrid.factory import target_factory
        from labgrid.remote.client import ServerError
        from labgrid.util.proxy import proxymanager

        place = self._session.places[self.name]
        try:
            entries = self._session.get_target_resources(place)
        except ServerError as exc:
            raise LabgridExporterLostError(f"labgrid place {self.name!r}: {exc}") from exc
        target = self._target = LgTarget(place.name)
        ports: list[Any] = []
        power: list[Any] = []
        debugger: str | None = None
        names = []
        for (name, cls), entry in entries.items():
            resource = target_factory.make_resource(target, cls, name, entry.args)
            resource.avail = entry.avail
            names.append(f"{cls}/{name}")
            if cls == "NetworkSerialPort":
                ports.append(resource)
            elif cls in POWER_DRIVERS:
                power.append(resource)
            elif cls in DEBUGGERS:
                debugger = f"{cls} {name} (path {entry.args.get('path')}) on {entry.args.get('host', 'the exporter')}"
        if len(ports) > 1:
            raise ConfigError(f"labgrid place {self.name!r} has {len(ports)} NetworkSerialPorts "
                              f"({', '.join(p.name for p in ports)}); name the board's with --hil-port")
        url = None
        if ports:
            port = ports[0]
            scheme = SERIAL_SCHEMES.get(port.protocol)
            if scheme is None:
                raise ConfigError(f"labgrid place {self.name!r}: NetworkSerialPort {port.name} has protocol "
                                  f"{port.protocol!r}; expected one of {sorted(SERIAL_SCHEMES)}")
            host, tcp = proxymanager.get_host_and_port(port)
            url = f"{scheme}://{host}:{tcp}"
        for resource in power:
            driver = target_factory.class_from_string(POWER_DRIVERS[type(resource).__name__])(target, name=None)
            self._power.append(driver)
        return PlaceResources(url, debugger, tuple(f"{type(r).__name__}/{r.name}" for r in power), tuple(names))

    def power(self, on: bool) -> None:
        """Switch every power port of the place through labgrid's drivers."""
        for driver in self._power:
            try:
                if on:
                    self._target.activate(driver)
                    driver.on()
                else:
                    driver.off()
            except Exception as exc:  # labgrid's drivers raise many kinds
                raise TargetError(f"labgrid place {self.name!r}: switching power {'on' if on else 'off'} through "
                                  f"{type(driver).__name__} failed: {exc}") from exc

    # -- checks and release -------------------------------------------------------------------------
    def lost(self) -> TargetError | None:
        """Why the place is no longer usable (its coordinator or an exporter went away), or None."""
        session = self._session
        if session is None or not self._held:
            return None
        if session.stopping.is_set() or not self._run(session.sync_with_coordinator(), "a sync"):
            return LabgridCoordinatorError(f"labgrid coordinator {self.address} went away while place "
                                           f"{self.name!r} was held")
        place = session.places.get(self.name)
        gone = []
        for exporter, group, cls, name in place.acquired_resources if place is not None else ():
            entry = session.resources.get(exporter, {}).get(group, {}).get(name)
            if entry is None or not entry.data or not entry.data.get("avail"):
                gone.append(f"{exporter}/{group}/{cls}/{name}")
        if gone:
            return LabgridExporterLostError(f"labgrid place {self.name!r}: the exporter dropped mid-run; "
                                            f"{', '.join(gone)} no longer exported")
        return None

    def release(self) -> None:
        """Power off, release the place if held, close the session; idempotent, never raises."""
        power, self._power = self._power, []
        for driver in power:
            with contextlib.suppress(Exception):
                driver.off()
        session, self._session = self._session, None
        loop, self._loop = self._loop, None
        if session is not None and loop is not None:
            from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2

            self._loop = loop
            if self._held and not session.stopping.is_set():
                with contextlib.suppress(Exception):
                    self._run(session.stub.ReleasePlace(pb2.ReleasePlaceRequest(placename=self.name)), "release")
                    self._run(session.sync_with_coordinator(), "a sync")
            with contextlib.suppress(Exception):
                self._run(session.stop(), "the client's stop")
            with contextlib.suppress(Exception):
                self._run(session.close(), "the client's close")
            self._loop = None

            def close() -> None:
                loop.close()
                asyncio.set_event_loop(None)

            with contextlib.suppress(Exception):
                self._in_thread(close)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._held = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class LabgridHardwareTarget(HardwareTarget):
    """``HardwareTarget`` on a board of a labgrid place (module docstring); holds the place from ``load`` to
    ``close``. ``details`` of ``stop`` add the place and its resources."""

    def __init__(self, board: BoardSpec, lg_place: str, probe: str | None = None, port: str | None = None,
                 **settings: object) -> None:
        super().__init__(board, probe=probe, port=port, **settings)
        self.lg_place = lg_place
        self._asked = (probe, port)
        self._place: LabgridPlace | None = None
        self._resources: PlaceResources | None = None
        self._loading = False

    def load(self, image: FirmwareImage) -> None:
        self.close()
        place = self._place = LabgridPlace(self.lg_place)
        place.acquire()
        res = self._resources = place.resources()
        probe, port = self._asked
        if probe is None and res.debugger is not None:
            raise ConfigError(f"labgrid place {self.lg_place!r} has a debugger, {res.debugger}; hilbench reaches "
                              "a probe through a GDB server: run one on the exporter (OpenOCD, pyocd gdbserver) "
                              "and name it with --hil-probe gdb:HOST:PORT")
        self.selection, self.port_setting = probe, port if port is not None else res.port_url
        place.power(True)
        self._loading = True
        try:
            super().load(image)
        finally:
            self._loading = False

    def stop(self, timeout_s: float) -> TargetResult:
        result = super().stop(timeout_s)
        if self._resources is not None:
            result.details.update(labgrid_place=self.lg_place, labgrid_coordinator=coordinator_address(),
                                  labgrid_resources=list(self._resources.names),
                                  labgrid_power=list(self._resources.power))
        return result

    def __exit__(self, *exc: object) -> None:
        """Close as ``HardwareTarget`` does; an exporter or coordinator lost while the place was held is the
        error, whatever else the run raised."""
        lost = self._place.lost() if self._place is not None else None
        error = exc[1] if len(exc) > 1 and isinstance(exc[1], BaseException) else None
        try:
            super().__exit__(*exc)
        except BaseException as other:
            if lost is not None:
                raise lost from other
            raise
        if lost is not None:
            raise lost from error

    def close(self) -> None:
        super().close()
        if self._loading:
            return   # HardwareTarget.load closes the previous probe and port; the place stays held
        place, self._place = self._place, None
        if place is not None:
            place.release()
        self.selection, self.port_setting = self._asked


def labgrid_target(board: BoardSpec, **settings: object) -> LabgridHardwareTarget:
    """The target of a run with ``--hil-lg-place`` (``settings``: the runner's, ``lg_place`` among them);
    acquires nothing yet."""
    place, probe, port = settings.pop("lg_place", None), settings.pop("probe", None), settings.pop("port", None)
    if not isinstance(place, str) or not place.strip():
        raise ConfigError(f"labgrid place {place!r}; expected a place's name (labgrid-client places lists them)")
    from harness.targets.energy.base import import_optional

    import_optional("labgrid", "labgrid", "--hil-lg-place")   # the extra `lab`: pip install 'hilbench[lab]'
    return LabgridHardwareTarget(board, place.strip(), probe=probe if isinstance(probe, str) else None,
                                 port=port if isinstance(port, str) else None, **settings)
