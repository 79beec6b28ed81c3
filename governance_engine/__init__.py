"""governance-engine: PMO-type-specific governance rules evaluated against project-state graphs."""

__version__ = "0.1.0"

from .engine import Engine  # noqa: E402
from .errors import GovernanceError, RulesetError, StateError, UsageError  # noqa: E402
from .outcomes import Outcome, PmoType  # noqa: E402
from .report.model import Decision, Report  # noqa: E402

__all__ = [
    "Decision",
    "Engine",
    "GovernanceError",
    "Outcome",
    "PmoType",
    "Report",
    "RulesetError",
    "StateError",
    "UsageError",
    "__version__",
]
