"""The demo's crash victim: an agent in its own process that keeps talking until it is killed.

``python -m massgen_plugins.demo.worker STORE_URL SESSION_ID MODEL`` prints ``ack N`` after
each acknowledged (persisted) turn; the demo kills it with SIGKILL and resumes the session.
"""

from __future__ import annotations

import asyncio
import sys


async def main(store: str, session_id: str, model: str) -> None:
    from massgen_plugins.guard import Session

    session = Session(model, system="You are the team's scribe: you keep the minutes.", session_id=session_id,
                      agent="scribe", memory=store, run_log=False)
    for number in range(1, 10_000):
        await session.send(f"Minute {number}: record decision D-{number:03d} (owner: agent-{number % 3}).")
        print(f"ack {session.turn}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
