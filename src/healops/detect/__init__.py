"""Detect: score series for abnormality and turn scores into anomalies."""

from healops.detect.base import BankDetector, Detector

__all__ = ["BankDetector", "Detector"]
