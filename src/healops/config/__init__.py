"""One typed configuration tree, validated on load; its JSON Schema is exported from it."""

from healops.config.load import ConfigError, config_json_schema, load_config, parse_config
from healops.config.models import (
    CorrelationConfig,
    DetectionConfig,
    DiagnosisConfig,
    FaultPattern,
    HealopsConfig,
    PolicyConfig,
    RunbookConfig,
    RunbookStep,
    ServiceConfig,
    SymptomRule,
    TopologyConfig,
)

__all__ = [
    "ConfigError",
    "CorrelationConfig",
    "DetectionConfig",
    "DiagnosisConfig",
    "FaultPattern",
    "HealopsConfig",
    "PolicyConfig",
    "RunbookConfig",
    "RunbookStep",
    "ServiceConfig",
    "SymptomRule",
    "TopologyConfig",
    "config_json_schema",
    "load_config",
    "parse_config",
]
