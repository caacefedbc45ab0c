"""Diagnose: ranked root-cause hypotheses with evidence, confidence and matched runbooks."""

from healops.diagnose.base import Diagnoser, World
from healops.diagnose.symptoms import SymptomDiagnoser

__all__ = ["Diagnoser", "SymptomDiagnoser", "World"]
