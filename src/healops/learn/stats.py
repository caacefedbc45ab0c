"""Success counts per (signature, action).

>>> s = OutcomeStats()
>>> s.record("bad_deploy:api", "rollback", True); s.record("bad_deploy:api", "rollback", False)
>>> s.counts("bad_deploy:api", "rollback"), round(s.success_rate("bad_deploy:api", "rollback"), 2)
((1, 1), 0.5)
>>> s.record("bad_deploy:api", "rollback", True); s.streak("bad_deploy:api", "rollback")
1
"""

from __future__ import annotations

__all__ = ["OutcomeStats"]


class OutcomeStats:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], list[int]] = {}
        self._streaks: dict[tuple[str, str], int] = {}

    def record(self, signature: str, action: str, success: bool) -> None:
        c = self._counts.setdefault((signature, action), [0, 0])
        c[0 if success else 1] += 1
        key = (signature, action)
        self._streaks[key] = self._streaks.get(key, 0) + 1 if success else 0

    def streak(self, signature: str, action: str) -> int:
        """Verified successes in a row since the last failure: what autonomy is earned by."""
        return self._streaks.get((signature, action), 0)

    def counts(self, signature: str, action: str) -> tuple[int, int]:
        c = self._counts.get((signature, action), [0, 0])
        return c[0], c[1]

    def success_rate(self, signature: str, action: str) -> float:
        """Laplace-smoothed: an action never tried is worth 0.5."""
        ok, bad = self.counts(signature, action)
        return (ok + 1) / (ok + bad + 2)

    def items(self) -> list[tuple[str, str, int, int]]:
        return [(s, a, c[0], c[1]) for (s, a), c in sorted(self._counts.items())]
