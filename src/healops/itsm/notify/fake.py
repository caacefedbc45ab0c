"""A notifier that keeps what it was given, for tests and dry runs."""

from __future__ import annotations

from healops.itsm.notify.base import Delivery, Notification

__all__ = ["FakeNotifier"]


class FakeNotifier:
    """Records every notification; ``fail`` makes it refuse (recoverably) instead."""

    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[Notification] = []
        self.fail = fail

    def notify(self, notification: Notification) -> Delivery:
        if self.fail:
            return Delivery(False, True, "fake failure")
        self.sent.append(notification)
        return Delivery(True)
