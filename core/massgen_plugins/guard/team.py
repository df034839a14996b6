"""``Team``: several guarded sessions running concurrently, one per agent.

Each agent has its own conversation, model, fallbacks and strategy -- no agent ever sees
another's context -- while they share one memory store (with a team scope for what the team
agreed on) and one run log, so a run is analysed as a whole.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .config import AgentConfig, TeamConfig, check_api_keys, load_config
from .session import Session
from .session_memory import open_store

if TYPE_CHECKING:
    from ..types import CompletionResponse


class Team:
    """A team of agents. Build it from a :class:`TeamConfig`, a file, or a mapping of agent
    configs::

        team = Team({"planner": AgentConfig(model="anthropic/claude-haiku-4-5"),
                     "coder": AgentConfig(model="openai/gpt-4o-mini", strategy="aggressive")})
        replies = await team.run({"planner": "Plan the fix", "coder": "Write the patch"})
    """

    def __init__(
        self,
        agents: TeamConfig | Mapping[str, AgentConfig | dict[str, Any]],
        *,
        team: str | None = None,
        memory: Any = None,
        run_dir: str | Path | None = None,
        api_keys: dict[str, str] | None = None,
    ) -> None:
        from ..runlog import RunLog

        api_keys = check_api_keys(api_keys, "Team()")
        if isinstance(agents, TeamConfig):
            config = agents
        else:
            config = TeamConfig.from_mapping({"agents": {k: (v.model_dump() if isinstance(v, AgentConfig) else v)
                                                          for k, v in agents.items()}}, source="Team()")
        self.config = config
        self.team = team or config.team or f"team-{uuid.uuid4().hex[:8]}"
        self.store, self._owns_store = open_store(memory if memory is not None else config.memory)
        directory = run_dir if run_dir is not None else config.run_dir
        self.log = RunLog.create(directory, title=f"team {self.team}", team=self.team,
                                 agents=[{"id": name, "model": a.model} for name, a in config.agents.items()],
                                 secrets=tuple((api_keys or {}).values()))
        self.sessions: dict[str, Session] = {
            name: Session(config=agent, agent=name, team=self.team, memory=self.store if self.store else False,
                          run_log=self.log, api_keys=api_keys,
                          session_id=f"{self.team}-{name}")
            for name, agent in config.agents.items()
        }

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> Team:
        return cls(load_config(path), **kwargs)

    def __getitem__(self, agent: str) -> Session:
        return self.sessions[agent]

    async def run(self, prompts: Mapping[str, Any]) -> dict[str, CompletionResponse | BaseException]:
        """Send each agent its prompt concurrently; one agent's failure does not stop the others
        (its exception is returned in its place)."""
        unknown = set(prompts) - set(self.sessions)
        if unknown:
            from ..errors import InputError

            raise InputError(f"unknown agent(s) {', '.join(sorted(unknown))}; agents: {', '.join(self.sessions)}")
        names = list(prompts)
        results = await asyncio.gather(*(self.sessions[n].send(prompts[n]) for n in names), return_exceptions=True)
        return dict(zip(names, results, strict=True))

    async def share(self, text: str, *, kind: Literal["fact", "note"] = "fact") -> str:
        """Write a memory into the team scope, visible to every agent's ``recall``."""
        first = next(iter(self.sessions.values()))
        return await first.remember(text, scope="team", kind=kind)

    def close(self, status: str = "ok", *, error: BaseException | str | None = None) -> None:
        """Close the run log with ``status`` (``ok``, ``failed`` or ``interrupted``) and the memory
        store the team opened."""
        self.log.close(status, error=error)
        if self.store is not None and self._owns_store:
            self.store.close()
            self._owns_store = False

    async def __aenter__(self) -> Team:
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        from ..runlog.lifecycle import exit_status

        status = exit_status(exc)
        self.close(status, error=exc if status != "ok" else None)
