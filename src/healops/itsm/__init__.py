"""ITSM: escalations with the whole story, and the pager port that delivers them."""

from healops.itsm.escalation import Escalation, Pager, build_escalation

__all__ = ["Escalation", "Pager", "build_escalation"]
