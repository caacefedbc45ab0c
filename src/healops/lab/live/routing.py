"""The live lab's executor: one literal table routes each action to the real substrate.

``rollback``/``scale_out``/``scale_in`` go to the local process supervisor, ``restart`` and
``replace`` of an instance kill that one replica (the supervisor starts a fresh one),
``drain``/``enable`` go to HAProxy's runtime API, ``renew_cert`` to the lab CA and
``clean_disk`` to the disk cleaner on the replica's volume. Anything else is refused.
Every call is journalled in ``log`` so the scoreboard can check what was touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from healops.act import validate
from healops.act.base import ActionError, StepRequest
from healops.act.haproxy import HaproxyExecutor
from healops.act.local import LocalExecutor
from healops.domain.actions import ActionResult
from healops.domain.signals import ChangeEvent
from healops.lab.live.ca import CertIssuerExecutor

__all__ = ["ActionRecord", "LiveExecutor"]


@dataclass(frozen=True, slots=True)
class ActionRecord:
    ts: float
    action: str
    target: str
    service: str
    ok: bool
    message: str
    key: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


class LiveExecutor:
    """Routes actions to the supervisor, HAProxy, the CA and the disk cleaner."""

    def __init__(
        self,
        *,
        local: LocalExecutor,
        certs: CertIssuerExecutor,
        haproxy: HaproxyExecutor | None,
        backends: Mapping[str, str],
        pid_of: Callable[[str], int],
        now: Callable[[], float],
        on_change: Callable[[ChangeEvent], None] = lambda c: None,
    ) -> None:
        self.local = local
        self.certs = certs
        self.haproxy = haproxy
        self.backends = dict(backends)  # service -> HAProxy backend, for balanced services
        self.pid_of = pid_of  # instance -> pid of its live process
        self.now = now
        self.on_change = on_change
        self.log: list[ActionRecord] = []
        self._lock = threading.Lock()
        self._ledger = validate.IdempotencyLedger()
        Handler = Callable[[StepRequest, str], ActionResult]
        self.routes: dict[str, Handler] = {
            "rollback": self._service,
            "scale_out": self._service,
            "scale_in": self._service,
            "restart": self._restart,
            "replace": self._replace,
            "drain": self._balancer,
            "enable": self._balancer,
            "renew_cert": self._cert,
            "clean_disk": self._disk,
        }

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        validate.check_key(key)
        route = self.routes.get(step.action)
        if route is None:
            raise ActionError(f"the live lab has no executor for {step.action!r}; known: "
                              f"{', '.join(sorted(self.routes))}", retryable=False)
        if dry_run:
            return ActionResult(True, f"dry run: would {step.action} {step.target}",
                                changed=False)
        try:
            result = self._ledger.apply(key, step, lambda: route(step, key))
        except ActionError as exc:
            self._record(step, key, False, str(exc))
            raise
        self._record(step, key, result.ok, result.message)
        return result

    def _record(self, step: StepRequest, key: str, ok: bool, message: str) -> None:
        with self._lock:
            self.log.append(ActionRecord(self.now(), step.action, step.target,
                                         _service_of(step.target), ok, message, key,
                                         dict(step.params)))

    # ---- routes ----------------------------------------------------------------------
    def _service(self, step: StepRequest, key: str) -> ActionResult:
        service = _service_of(step.target)
        before = self.local.supervisor.status(service).version
        result = self.local.execute(replace(step, target=service), key=key + "/local")
        if step.action == "rollback":
            after = self.local.supervisor.status(service).version
            self.on_change(ChangeEvent(self.now(), service, "rollback", after, before,
                                       "healops"))
        return result

    def _restart(self, step: StepRequest, key: str) -> ActionResult:
        if step.target == _service_of(step.target):
            return self.local.execute(step, key=key + "/local")
        return self._kill_replica(step, key)

    def _kill_replica(self, step: StepRequest, key: str) -> ActionResult:
        service = _service_of(step.target)
        pid = self.pid_of(step.target)
        if pid <= 0:
            raise ActionError(f"{step.target}: no live process to restart", retryable=True)
        return self.local.execute(StepRequest("kill_runaway", service, {"pid": pid},
                                              step.timeout_s), key=key + "/kill")

    def _replace(self, step: StepRequest, key: str) -> ActionResult:
        result = self._kill_replica(step, key)
        if self.haproxy is not None and _service_of(step.target) in self.backends:
            self._haproxy(StepRequest("ready", self._server(step.target), {}, step.timeout_s),
                          key + "/ready")
        return ActionResult(True, f"replaced {step.target}: {result.message}")

    def _balancer(self, step: StepRequest, key: str) -> ActionResult:
        action = "ready" if step.action == "enable" else "drain"
        return self._haproxy(StepRequest(action, self._server(step.target), {}, step.timeout_s),
                             key + "/lb")

    def _haproxy(self, step: StepRequest, key: str) -> ActionResult:
        if self.haproxy is None:
            raise ActionError("HAProxy is not running in this lab (install haproxy)",
                              retryable=False)
        return self.haproxy.execute(step, key=key)

    def _server(self, instance: str) -> str:
        service = _service_of(instance)
        if service not in self.backends or instance == service:
            raise ActionError(f"{instance} is not a replica behind the load balancer",
                              retryable=False)
        return f"{self.backends[service]}/{instance}"

    def _cert(self, step: StepRequest, key: str) -> ActionResult:
        return self.certs.execute(replace(step, target=_service_of(step.target)),
                                  key=key + "/ca")

    def _disk(self, step: StepRequest, key: str) -> ActionResult:
        return self.local.execute(step, key=key + "/disk")


def _service_of(target: str) -> str:
    """``api-1`` -> ``api``; a service name stays itself.

    >>> _service_of("api-1"), _service_of("api"), _service_of("api/api-0")
    ('api', 'api', 'api')
    """
    target = target.split("/", 1)[0]
    head, _, tail = target.rpartition("-")
    return head if head and tail.isdigit() else target
