"""The typed config tree (one dataclass per config group) and its one validator."""

from hyperofa.config.schema import RunConfig
from hyperofa.config.validate import to_run_config

__all__ = ["RunConfig", "to_run_config"]
