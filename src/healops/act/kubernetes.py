"""Delete pods, restart, scale and roll back Deployments with the official ``kubernetes`` client.

Actions (target = a pod name for ``delete_pod``, a Deployment name otherwise):

- ``delete_pod``: ``DELETE`` the pod; already gone (404) is no change.
- ``rollout_restart``: patch the pod template annotation ``kubectl.kubernetes.io/restartedAt``
  with the injected clock's time, as ``kubectl rollout restart`` does.
- ``scale`` (``replicas``): read the scale subresource, patch it only if it differs.
- ``rollback``: find the Deployment's ReplicaSets (owned by it, by UID), take the one with
  the highest ``deployment.kubernetes.io/revision`` below the current, and replace the
  Deployment's pod template with its template (without ``pod-template-hash``), as
  ``kubectl rollout undo`` does.

Names must be DNS-1123 subdomains and go into the URL path only through the client, which
percent-encodes them. Responses are read as raw JSON (``_preload_content=False``), so the
executor does not depend on the client's generated model classes.

``observe`` reads the cluster to tell the journal, after a crash, whether an action took
effect: ``scale`` compares the Deployment's ``spec.replicas`` (through the scale
subresource), ``rollout_restart`` compares the ``restartedAt`` annotation with the intent's
time, and ``delete_pod`` looks for the pod (gone, being deleted, or re-created after the
intent: applied; the same pod, older than the intent: absent). ``rollback`` cannot be
judged without the revision at the time of the intent, so it is ``UNKNOWN``, as is any read
that fails.

No cluster can run where this was written, so it is tested as a *contract* test
(``tests/act/test_kubernetes.py``, ``@pytest.mark.contract``) against recorded API
exchanges in ``tests/fixtures/k8s/``: a local HTTP server replays the responses and the test
asserts the exact requests (method, path, query, content type, body) the client sent.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from healops.act import validate
from healops.act.base import ActionError, Observed, StepRequest
from healops.clock import Clock
from healops.domain.actions import ActionResult

__all__ = ["KubernetesApiError", "KubernetesExecutor"]

_DNS1123 = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
REVISION = "deployment.kubernetes.io/revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
_RETRYABLE = frozenset({408, 409, 429})  # 409: someone else changed the object; re-read
_ACTIONS = frozenset({"delete_pod", "rollout_restart", "scale", "rollback"})


class KubernetesApiError(ActionError):
    """The API server answered with an error ``status``."""

    def __init__(self, message: str, *, status: int, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status


def _k8s_name(value: object, field: str = "target") -> str:
    s = validate.string(value, field, 253)
    if not _DNS1123.fullmatch(s):
        raise validate.InvalidParameter(
            f"{field}: {s[:60]!r} is not a Kubernetes name (lowercase DNS-1123 subdomain)")
    return s


class KubernetesExecutor:
    """The act port over the Kubernetes API, in one namespace."""

    def __init__(
        self,
        api_client: Any,
        *,
        namespace: str,
        clock: Clock,
        ledger: validate.IdempotencyLedger | None = None,
    ) -> None:
        from kubernetes import client  # imported on use: nothing connects at import time

        if not _LABEL.fullmatch(namespace):
            raise ValueError(f"namespace {namespace!r} is not a DNS-1123 label")
        self.namespace = namespace
        self._core = client.CoreV1Api(api_client)
        self._apps = client.AppsV1Api(api_client)
        self._clock = clock
        self._ledger = ledger or validate.IdempotencyLedger()

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        validate.check_key(key)
        action = validate.check_action(step, _ACTIONS, "KubernetesExecutor")
        target = _k8s_name(step.target)
        t = validate.timeout(step)
        replicas = None
        if action == "scale":
            replicas = validate.integer(step.params.get("replicas"), field="replicas",
                                        low=0, high=10_000)
        elif step.params:
            raise validate.InvalidParameter(f"{action}: takes no parameters")
        if dry_run:
            return self._dry_run(action, target, replicas, t)
        return self._ledger.apply(key, step, lambda: self._apply(action, target, replicas, t))

    def observe(self, step: StepRequest, *, key: str, since: float) -> Observed:
        """Read the target and say whether the action journalled at ``since`` took effect.

        Kubernetes times have whole seconds, so they are compared with ``floor(since)``:
        the executor writes ``restartedAt`` from the same clock, rounded down. A pod created
        in that same second cannot be placed before or after the intent: ``UNKNOWN``.
        """
        try:
            action = validate.check_action(step, _ACTIONS, "KubernetesExecutor")
            target = _k8s_name(step.target)
            t = min(validate.timeout(step), 10.0)
            second = math.floor(since)
            if action == "scale":
                wanted = validate.integer(step.params.get("replicas"), field="replicas",
                                          low=0, high=10_000)
                return _applied(self._replicas(target, t) == wanted)
            if action == "rollout_restart":
                deployment = self._call(self._apps.read_namespaced_deployment, target,
                                        self.namespace, t)
                annotations = deployment.get("spec", {}).get("template", {}) \
                    .get("metadata", {}).get("annotations") or {}
                stamp = _seconds(annotations.get(RESTARTED_AT))
                return _applied(stamp is not None and stamp >= second)
            if action == "delete_pod":
                return self._pod_seen(target, second, t)
        except KubernetesApiError as exc:
            if exc.status == 404 and step.action == "delete_pod":
                return Observed.APPLIED  # the pod is gone
            return Observed.UNKNOWN
        except (ActionError, ValueError, TypeError, AttributeError):
            return Observed.UNKNOWN  # unreachable API, bad step, or an unexpected answer
        return Observed.UNKNOWN  # rollback

    def _pod_seen(self, target: str, second: int, t: float) -> Observed:
        pod = self._call(self._core.read_namespaced_pod, target, self.namespace, t)
        metadata = pod.get("metadata", {})
        if metadata.get("deletionTimestamp"):
            return Observed.APPLIED  # deleted, still terminating
        created = _seconds(metadata.get("creationTimestamp"))
        if created is None or created == second:
            return Observed.UNKNOWN
        return _applied(created > second)  # a pod of that name made after the intent

    # -- actions ---------------------------------------------------------------------------

    def _apply(self, action: str, target: str, replicas: int | None, t: float) -> ActionResult:
        ns = self.namespace
        if action == "delete_pod":
            try:
                self._call(self._core.delete_namespaced_pod, target, ns, t)
            except KubernetesApiError as exc:
                if exc.status == 404:
                    return ActionResult(ok=True, changed=False, message=f"pod {target} is gone")
                raise
            return ActionResult(ok=True, message=f"deleted pod {ns}/{target}")
        if action == "rollout_restart":
            stamp = datetime.fromtimestamp(self._clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
            self._call(self._apps.patch_namespaced_deployment, target, ns, t, body=body,
                       _content_type=STRATEGIC)
            return ActionResult(ok=True, message=f"restarted deployment {ns}/{target} at {stamp}")
        if action == "scale":
            current = self._replicas(target, t)
            if current == replicas:
                return ActionResult(ok=True, changed=False,
                                    message=f"deployment {target} already has {replicas}")
            self._call(self._apps.patch_namespaced_deployment_scale, target, ns, t,
                       body={"spec": {"replicas": replicas}}, _content_type=MERGE_PATCH)
            return ActionResult(ok=True, message=f"scaled {ns}/{target} {current} -> {replicas}")
        deployment, previous = self._previous_replica_set(target, t)
        template = _template_of(previous)
        if template == _template_of(deployment):
            return ActionResult(ok=True, changed=False,
                                message=f"{target} already runs the previous template")
        patch = [{"op": "replace", "path": "/spec/template", "value": template}]
        self._call(self._apps.patch_namespaced_deployment, target, ns, t, body=patch,
                   _content_type=JSON_PATCH)
        revision = previous["metadata"]["annotations"][REVISION]
        return ActionResult(ok=True, message=f"rolled back {ns}/{target} to revision {revision}")

    def _dry_run(self, action: str, target: str, replicas: int | None, t: float) -> ActionResult:
        ns = self.namespace
        if action == "delete_pod":
            self._call(self._core.read_namespaced_pod, target, ns, t)
            what = f"delete pod {ns}/{target}"
        elif action == "scale":
            what = f"scale {ns}/{target} from {self._replicas(target, t)} to {replicas}"
        elif action == "rollback":
            _, previous = self._previous_replica_set(target, t)
            what = f"roll {ns}/{target} back to revision " \
                   f"{previous['metadata']['annotations'][REVISION]}"
        else:
            self._call(self._apps.read_namespaced_deployment, target, ns, t)
            what = f"restart deployment {ns}/{target}"
        return ActionResult(ok=True, changed=False, message=f"dry run: would {what}")

    # -- reads -----------------------------------------------------------------------------

    def _replicas(self, target: str, t: float) -> int:
        scale = self._call(self._apps.read_namespaced_deployment_scale, target,
                           self.namespace, t)
        return int(scale.get("spec", {}).get("replicas", 0))

    def _previous_replica_set(
        self, target: str, t: float
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        deployment = self._call(self._apps.read_namespaced_deployment, target, self.namespace, t)
        labels: Mapping[str, str] = deployment["spec"]["selector"].get("matchLabels", {})
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        listing = self._call(self._apps.list_namespaced_replica_set, self.namespace, None, t,
                             label_selector=selector)
        uid = deployment["metadata"]["uid"]
        owned = [rs for rs in listing.get("items", [])
                 if any(ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences", []))]
        current = int(deployment["metadata"].get("annotations", {}).get(REVISION, "0"))
        older = [rs for rs in owned if _revision(rs) < current]
        if not older:
            raise validate.InvalidParameter(f"rollback: {target} has no previous revision")
        return deployment, max(older, key=_revision)

    # -- the client, with errors mapped to retryable or not --------------------------------

    def _call(self, method: Any, name: str, namespace: str | None, t: float,
              **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        args = (name,) if namespace is None else (name, namespace)
        try:
            response = method(*args, _request_timeout=t, _preload_content=False, **kwargs)
            return json.loads(response.data or b"{}")
        except ApiException as exc:
            status = int(exc.status or 0)
            raise KubernetesApiError(
                f"kubernetes {method.__name__} {name}: {status} {exc.reason}",
                status=status, retryable=status >= 500 or status in _RETRYABLE,
            ) from exc
        except (HTTPError, OSError) as exc:
            raise ActionError(f"kubernetes {method.__name__} {name}: {exc}",
                              retryable=True) from exc


def _applied(yes: bool) -> Observed:
    return Observed.APPLIED if yes else Observed.ABSENT


def _seconds(stamp: object) -> int | None:
    """An RFC 3339 time as whole seconds since the epoch; None when absent."""
    if not isinstance(stamp, str) or not stamp:
        return None
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {stamp!r}")
    return math.floor(when.timestamp())


def _revision(rs: Mapping[str, Any]) -> int:
    try:
        return int(rs["metadata"].get("annotations", {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _template_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The pod template, without the label the ReplicaSet controller adds to it."""
    template = json.loads(json.dumps(obj["spec"]["template"]))
    template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return dict(template)
