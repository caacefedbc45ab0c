"""Act: executors that change targets, only after policy has decided, always journalled."""

from healops.act.base import ActionError, Executor, Observed, Observer, StepRequest
from healops.act.fake import FakeExecutor
from healops.act.haproxy import HaproxyExecutor
from healops.act.http import HttpExecutor
from healops.act.kubernetes import KubernetesExecutor
from healops.act.local import LocalExecutor, LocalSupervisor
from healops.act.ssh import SshExecutor
from healops.act.validate import IdempotencyLedger, InvalidParameter

__all__ = [
    "ActionError",
    "Executor",
    "FakeExecutor",
    "HaproxyExecutor",
    "HttpExecutor",
    "IdempotencyLedger",
    "InvalidParameter",
    "KubernetesExecutor",
    "LocalExecutor",
    "LocalSupervisor",
    "Observed",
    "Observer",
    "SshExecutor",
    "StepRequest",
]
