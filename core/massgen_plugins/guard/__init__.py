"""The guard: guarded sessions and teams."""

from .config import AgentConfig, TeamConfig, load_config
from .errors import AllModelsFailedError, ContextOverflowError, GuardError, StreamInterruptedError
from .options import RequestOptions
from .retry import RetryPolicy
from .session import Session
from .sync import SyncSession
from .team import Team

__all__ = [
    "AgentConfig", "AllModelsFailedError", "ContextOverflowError", "GuardError", "RequestOptions", "RetryPolicy", "Session",
    "StreamInterruptedError", "SyncSession", "Team", "TeamConfig", "load_config",
]
