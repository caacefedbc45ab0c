"""The symptom stage: metric rules (threshold, rate, time-to-limit, robust z-score against a
learned baseline), evaluated vectorised over every series, with ``for``/``clear`` hysteresis."""

from healops.detect.symptoms.stage import SymptomDetector, SymptomUpdate

__all__ = ["SymptomDetector", "SymptomUpdate"]
