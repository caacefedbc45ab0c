"""Run allowlisted commands on a host over SSH (asyncssh).

Each action names a ``CommandSpec``: an argv template whose ``{placeholders}`` are filled
with parameters validated by their declared kind. A filled placeholder stays inside its
own argv element, and the remote command line is ``shlex.join(argv)``, so every argument
reaches the remote program as one literal word: a parameter cannot add a command, a
redirection or an expansion. Parameters a spec does not declare are rejected.

>>> sent = []
>>> def runner(argv, timeout_s):
...     sent.append(argv)
...     return CommandResult(exit_status=0, stdout="", stderr="")
>>> ex = SshExecutor(runner=runner)
>>> ex.execute(StepRequest(action="restart", target="nginx"), key="k").ok
True
>>> sent
[['systemctl', 'restart', 'nginx']]
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healops.act import validate
from healops.act.base import ActionError, Observed, StepRequest
from healops.domain.actions import ActionResult

__all__ = [
    "DEFAULT_COMMANDS",
    "PARAM_KINDS",
    "AsyncsshRunner",
    "CommandResult",
    "CommandRunner",
    "CommandSpec",
    "SshExecutor",
]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


PARAM_KINDS = validate.KINDS


@dataclass(frozen=True, slots=True)
class CommandResult:
    exit_status: int
    stdout: str
    stderr: str


# Runs one argv on the host, within ``timeout_s``. Raises OSError/TimeoutError when the host
# cannot be reached.
CommandRunner = Callable[[Sequence[str], float], CommandResult]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """An allowlisted command. ``check``, if given, exits 0 when nothing needs doing."""

    argv: Sequence[str]
    params: Mapping[str, str] = field(default_factory=dict)  # param name -> kind
    check: Sequence[str] | None = None
    retryable_exit_codes: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if isinstance(self.argv, str) or not self.argv:
            raise ValueError("CommandSpec.argv must be a non-empty list of str, not a string")
        for kind in self.params.values():
            if kind not in PARAM_KINDS:
                raise ValueError(f"unknown parameter kind {kind!r}; known: {sorted(PARAM_KINDS)}")
        known = {"target", *self.params}
        for token in [*self.argv, *(self.check or [])]:
            for ph in _PLACEHOLDER.findall(token):
                if ph not in known:
                    raise ValueError(f"placeholder {{{ph}}} in {token!r} is not a declared param")


DEFAULT_COMMANDS: Mapping[str, CommandSpec] = {
    "restart": CommandSpec(argv=["systemctl", "restart", "{target}"]),
    "start": CommandSpec(argv=["systemctl", "start", "{target}"],
                         check=["systemctl", "is-active", "--quiet", "{target}"]),
    "stop": CommandSpec(argv=["systemctl", "stop", "{target}"]),
    "reload": CommandSpec(argv=["systemctl", "reload", "{target}"]),
}


def _fill(template: Sequence[str], values: Mapping[str, str]) -> list[str]:
    return [_PLACEHOLDER.sub(lambda m: values[m.group(1)], token) for token in template]


class SshExecutor:
    """The act port over SSH. Actions are the names in ``commands``; targets are names."""

    def __init__(
        self,
        *,
        runner: CommandRunner,
        commands: Mapping[str, CommandSpec] = DEFAULT_COMMANDS,
        ledger: validate.IdempotencyLedger | None = None,
    ) -> None:
        self._run = runner
        self.commands = dict(commands)
        self._ledger = ledger or validate.IdempotencyLedger()

    def render(self, step: StepRequest) -> tuple[list[str], list[str] | None]:
        """The exact argv (and check argv) the step would run, after validation."""
        spec = self.commands[validate.check_action(step, self.commands, "SshExecutor")]
        values = {"target": validate.name(step.target),
                  **validate.declared_params(step.action, step.params, spec.params)}
        check = _fill(spec.check, values) if spec.check is not None else None
        return _fill(spec.argv, values), check

    def observe(self, step: StepRequest, *, key: str, since: float) -> Observed:
        """Always ``UNKNOWN``: a command is arbitrary, and nothing on the host records
        whether it ran under ``key``. An intent left by a crash is escalated to a person,
        never re-run. (A spec's ``check`` says only that the host looks done now, not that
        this command ran; it is not used as proof.)
        """
        return Observed.UNKNOWN

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        validate.check_key(key)
        argv, check = self.render(step)
        t = validate.timeout(step)
        if dry_run:
            return ActionResult(ok=True, changed=False,
                                message=f"dry run: would run {shlex.join(argv)}")
        spec = self.commands[step.action]
        return self._ledger.apply(key, step, lambda: self._apply(spec, argv, check, t))

    def _apply(
        self, spec: CommandSpec, argv: list[str], check: list[str] | None, t: float
    ) -> ActionResult:
        if check is not None and self._call(check, t).exit_status == 0:
            return ActionResult(ok=True, changed=False,
                                message=f"already done: {shlex.join(check)} exited 0")
        result = self._call(argv, t)
        if result.exit_status != 0:
            raise ActionError(
                f"{shlex.join(argv)} exited {result.exit_status}: {result.stderr.strip()[:300]}",
                retryable=result.exit_status in spec.retryable_exit_codes,
            )
        return ActionResult(ok=True, message=result.stdout[:1000])

    def _call(self, argv: list[str], t: float) -> CommandResult:
        try:
            return self._run(argv, t)
        except (OSError, TimeoutError) as exc:
            raise ActionError(f"ssh: {type(exc).__name__}: {exc}", retryable=True) from exc


class AsyncsshRunner:
    """Runs an argv over a fresh SSH connection, as ``shlex.join(argv)``.

    ``known_hosts`` is the path of a known_hosts file; host keys are always verified.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int = 22,
        username: str,
        client_keys: Sequence[Path],
        known_hosts: Path,
    ) -> None:
        self.host = validate.hostname(host)
        self.port = validate.integer(port, field="port", low=1, high=65535)
        self.username = validate.name(username, field="username")
        self.client_keys = [str(k) for k in client_keys]
        self.known_hosts = str(known_hosts)

    def __call__(self, argv: Sequence[str], timeout_s: float) -> CommandResult:
        def run() -> CommandResult:
            return asyncio.run(self._run(list(argv), timeout_s))

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return run()
        # called from inside an event loop: run ours on a worker thread
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(run).result()

    async def _run(self, argv: list[str], timeout_s: float) -> CommandResult:
        import asyncssh  # imported on use: nothing connects, or loads, at import time

        try:
            async with asyncio.timeout(timeout_s):
                async with asyncssh.connect(
                    self.host, port=self.port, username=self.username,
                    client_keys=self.client_keys, known_hosts=self.known_hosts,
                    connect_timeout=timeout_s,
                ) as conn:
                    done: Any = await conn.run(shlex.join(argv), check=False)
        except (asyncssh.PermissionDenied, asyncssh.HostKeyNotVerifiable) as exc:
            raise ActionError(f"ssh to {self.host}:{self.port} refused: {exc}",
                              retryable=False) from exc
        except asyncssh.Error as exc:
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
        status = done.exit_status
        return CommandResult(
            exit_status=255 if status is None else int(status),
            stdout=str(done.stdout or ""), stderr=str(done.stderr or ""),
        )
