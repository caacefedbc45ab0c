"""Drain, ready, maintain and weigh HAProxy servers through the runtime API.

The executor speaks to HAProxy's stats socket (a unix socket or TCP, ``level admin``) one
command per connection. Targets are ``backend/server``; both parts must match what HAProxy
itself allows in a name, so no space, ``;`` (HAProxy's command separator) or newline can
reach the socket. Before changing anything it reads ``show servers state`` and does
nothing when the server is already in the wanted state; afterwards it reads it again to
check the change took.

``observe`` answers the journal after a crash from the same read: every action here sets a
state (drain, ready, maint, a weight), so the server being in the wanted state is the
effect (``APPLIED``), not being in it means a re-run is needed and safe (``ABSENT``: setting
a state twice is idempotent), and an unreadable socket or unknown server is ``UNKNOWN``.

>>> runtime = {"lines": []}
>>> def transport(line: str, timeout_s: float) -> str:
...     runtime["lines"].append(line)
...     if line.startswith("show servers state"):
...         return ("1\\n# be_id be_name srv_id srv_name srv_addr srv_op_state "
...                 "srv_admin_state srv_uweight srv_iweight\\n3 app 1 web1 127.0.0.1 2 0 1 1\\n")
...     return "\\n"
>>> ex = HaproxyExecutor(transport=transport)
>>> ex.execute(StepRequest(action="set_weight", target="app/web1", params={"weight": 1}),
...            key="k").changed
False
>>> runtime["lines"]
['show servers state app']
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from healops.act import validate
from healops.act.base import ActionError, Observed, StepRequest
from healops.domain.actions import ActionResult

__all__ = [
    "HaproxyExecutor",
    "RuntimeTransport",
    "ServerState",
    "tcp_transport",
    "unix_transport",
]

# Sends one command line (without newline) and returns HAProxy's whole answer.
RuntimeTransport = Callable[[str, float], str]

# srv_admin_state bits (HAProxy include/haproxy/server-t.h)
ADMF_FMAINT = 0x01
ADMF_IMAINT = 0x02
ADMF_FDRAIN = 0x08
ADMF_IDRAIN = 0x10
ADMF_RMAINT = 0x20
_MAINT = ADMF_FMAINT | ADMF_IMAINT | ADMF_RMAINT
_DRAIN = ADMF_FDRAIN | ADMF_IDRAIN


@dataclass(frozen=True, slots=True)
class ServerState:
    backend: str
    server: str
    admin: int  # srv_admin_state bit field
    operational: int  # srv_op_state: 0 stopped, 1 starting, 2 running, 3 stopping
    weight: int  # srv_uweight

    @property
    def mode(self) -> str:
        """``maint``, ``drain`` or ``ready``, as ``set server ... state`` names them."""
        if self.admin & _MAINT:
            return "maint"
        if self.admin & _DRAIN:
            return "drain"
        return "ready"


def unix_transport(path: Path) -> RuntimeTransport:
    def send(line: str, timeout_s: float) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(path))
            return _exchange(sock, line)

    return send


def tcp_transport(host: str, port: int) -> RuntimeTransport:
    validate.hostname(host)
    validate.integer(port, field="port", low=1, high=65535)

    def send(line: str, timeout_s: float) -> str:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            return _exchange(sock, line)

    return send


def _exchange(sock: socket.socket, line: str) -> str:
    sock.sendall(line.encode("ascii") + b"\n")
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


_ACTIONS = frozenset({"drain", "ready", "maint", "set_weight"})


class HaproxyExecutor:
    """The act port over HAProxy's runtime API. Actions: drain, ready, maint, set_weight."""

    def __init__(
        self, *, transport: RuntimeTransport, ledger: validate.IdempotencyLedger | None = None
    ) -> None:
        self._send = transport
        self._ledger = ledger or validate.IdempotencyLedger()

    def servers_state(self, backend: str, *, timeout_s: float = 5.0) -> dict[str, ServerState]:
        backend, _ = validate.backend_server(f"{backend}/x", field="backend")
        answer = self._command(f"show servers state {backend}", timeout_s)
        lines = answer.splitlines()
        header = next((ln for ln in lines if ln.startswith("# ")), None)
        if header is None:
            raise ActionError(f"haproxy: {answer.strip()[:200] or 'empty answer'}",
                              retryable=False)
        cols = header[2:].split()
        states = {}
        for ln in lines:
            if not ln or ln.startswith("#") or ln.strip() == "1":
                continue
            row = dict(zip(cols, ln.split(), strict=False))
            if row.get("be_name") != backend:
                continue
            states[row["srv_name"]] = ServerState(
                backend=backend, server=row["srv_name"], admin=int(row["srv_admin_state"]),
                operational=int(row["srv_op_state"]), weight=int(row["srv_uweight"]),
            )
        return states

    def server_state(self, backend: str, server: str, *, timeout_s: float = 5.0) -> ServerState:
        states = self.servers_state(backend, timeout_s=timeout_s)
        if server not in states:
            raise validate.InvalidParameter(f"target: haproxy has no server {backend}/{server}")
        return states[server]

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        validate.check_key(key)
        action = validate.check_action(step, _ACTIONS, "HaproxyExecutor")
        backend, server = validate.backend_server(step.target)
        t = validate.timeout(step)
        weight = None
        if action == "set_weight":
            weight = validate.integer(step.params.get("weight"), field="weight", low=0, high=256)
        if dry_run:
            current = self.server_state(backend, server, timeout_s=t)
            would = not _already(current, action, weight)
            return ActionResult(ok=True, changed=False, message=(
                f"dry run: {step.target} is {current.mode} weight {current.weight}; "
                f"{action} would {'change' if would else 'not change'} it"))
        return self._ledger.apply(key, step, lambda: self._apply(backend, server, action,
                                                                   weight, t))

    def observe(self, step: StepRequest, *, key: str, since: float) -> Observed:
        """Whether the server is in the state the step asked for, read over the runtime API.

        ``ABSENT`` does not claim the command never ran (someone may have changed the server
        since); it says the wanted state is not there, and setting it again is idempotent.
        """
        try:
            action = validate.check_action(step, _ACTIONS, "HaproxyExecutor")
            backend, server = validate.backend_server(step.target)
            weight = None
            if action == "set_weight":
                weight = validate.integer(step.params.get("weight"), field="weight",
                                          low=0, high=256)
            current = self.server_state(backend, server,
                                       timeout_s=min(validate.timeout(step), 10.0))
        except ActionError:  # unreachable socket, refused read, unknown server or step
            return Observed.UNKNOWN
        return Observed.APPLIED if _already(current, action, weight) else Observed.ABSENT

    def _apply(
        self, backend: str, server: str, action: str, weight: int | None, t: float
    ) -> ActionResult:
        current = self.server_state(backend, server, timeout_s=t)
        if _already(current, action, weight):
            return ActionResult(ok=True, changed=False, message=(
                f"{backend}/{server} already {current.mode} weight {current.weight}"))
        if action == "set_weight":
            line = f"set server {backend}/{server} weight {weight}"
        else:
            line = f"set server {backend}/{server} state {action}"
        answer = self._command(line, t).strip()
        if answer:
            raise ActionError(f"haproxy refused {line!r}: {answer[:200]}", retryable=False)
        after = self.server_state(backend, server, timeout_s=t)
        if not _already(after, action, weight):
            raise ActionError(f"{backend}/{server} is {after.mode} weight {after.weight} "
                              f"after {action}", retryable=True)
        return ActionResult(ok=True, message=(
            f"{backend}/{server}: {current.mode} weight {current.weight} -> "
            f"{after.mode} weight {after.weight}"))

    def _command(self, line: str, timeout_s: float) -> str:
        try:
            return self._send(line, timeout_s)
        except (OSError, TimeoutError) as exc:  # refused, reset, no socket, timed out
            raise ActionError(f"haproxy runtime API unreachable: {exc}", retryable=True) from exc


def _already(state: ServerState, action: str, weight: int | None) -> bool:
    if action == "set_weight":
        return state.weight == weight
    return state.mode == action
