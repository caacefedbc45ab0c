"""Detect: score series for abnormality and turn scores into anomalies."""

from healops.detect.bank import EnsembleBank
from healops.detect.base import BankDetector, Detector
from healops.detect.changepoint import CusumDetector
from healops.detect.ensemble import EnsembleDetector
from healops.detect.ewma import EwmaDetector
from healops.detect.exhaustion import ExhaustionDetector
from healops.detect.robust_z import RobustZDetector
from healops.detect.seasonal import SeasonalResidualDetector
from healops.detect.slo import SloBurnRateDetector
from healops.detect.threshold import ThresholdDetector

__all__ = [
    "BankDetector",
    "CusumDetector",
    "Detector",
    "EnsembleBank",
    "EnsembleDetector",
    "EwmaDetector",
    "ExhaustionDetector",
    "RobustZDetector",
    "SeasonalResidualDetector",
    "SloBurnRateDetector",
    "ThresholdDetector",
]
