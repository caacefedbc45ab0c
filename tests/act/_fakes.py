"""In-memory stand-ins for the far side of the executors (HAProxy runtime API, SSH host)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from healops.act.ssh import CommandResult


@dataclass
class FakeHaproxyRuntime:
    """Answers ``show servers state`` and ``set server`` like HAProxy's runtime API."""

    servers: dict[str, dict[str, int]] = field(default_factory=lambda: {
        "app/web1": {"admin": 0, "weight": 1}, "app/web2": {"admin": 0, "weight": 1}})
    lines: list[str] = field(default_factory=list)
    down: bool = False

    @property
    def writes(self) -> list[str]:
        return [ln for ln in self.lines if ln.startswith("set ")]

    def __call__(self, line: str, timeout_s: float) -> str:
        if self.down:
            raise ConnectionRefusedError("connection refused")
        self.lines.append(line)
        words = line.split(" ")
        if words[:3] == ["show", "servers", "state"] and len(words) == 4:
            rows = [f"3 {name.split('/')[0]} {i} {name.split('/')[1]} 127.0.0.1 2 "
                    f"{s['admin']} {s['weight']} 1"
                    for i, (name, s) in enumerate(self.servers.items(), 1)
                    if name.split("/")[0] == words[3]]
            if not rows:
                return "Can't find backend.\n"
            header = ("# be_id be_name srv_id srv_name srv_addr srv_op_state "
                      "srv_admin_state srv_uweight srv_iweight")
            return "1\n" + header + "\n" + "\n".join(rows) + "\n"
        if words[:2] == ["set", "server"] and words[2] in self.servers:
            s = self.servers[words[2]]
            if words[3:4] == ["weight"]:
                s["weight"] = int(words[4])
            else:
                s["admin"] = {"ready": 0, "drain": 0x08, "maint": 0x01}[words[4]]
            return "\n"
        return "Unknown command.\n"


@dataclass
class FakeSshHost:
    """Records every argv it is asked to run; answers with a scripted exit status."""

    runs: list[list[str]] = field(default_factory=list)
    exit_status: int = 0
    down: bool = False

    def __call__(self, argv: Sequence[str], timeout_s: float) -> CommandResult:
        if self.down:
            raise TimeoutError("ssh connect timed out")
        self.runs.append(list(argv))
        return CommandResult(exit_status=self.exit_status, stdout="", stderr="boom")
