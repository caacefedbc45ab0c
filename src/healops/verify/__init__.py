"""Verify: did the action bring the symptoms it targeted back to normal?"""

from healops.verify.symptoms import Check, verify_step

__all__ = ["Check", "verify_step"]
