"""One of several processes writing to one SQLite store at once (the concurrency test).

argv: store path, worker number, go-file (all workers start writing when it appears)."""

from __future__ import annotations

import os
import sys
import time

from massgen_plugins.memory.records import Scope
from massgen_plugins.memory.sqlite import SQLiteMemoryStore

UNIQUE = 120
SHARED = 30
TURNS = 40


def main() -> None:
    path, worker, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    store = SQLiteMemoryStore(path)
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    team = Scope(team="run-1")
    for i in range(max(UNIQUE, SHARED, TURNS)):
        if i < UNIQUE:
            store.add(f"worker {worker} observation {i}", scope=Scope(agent=f"agent-{worker}", team="run-1"))
        if i < SHARED:
            store.add(f"shared team fact {i}", scope=team)
        if i < TURNS:
            store.append_turn(f"own-{worker}", [{"role": "user", "content": f"w{worker} turn {i + 1}"}], turn=i + 1)
            store.append_turn("shared", [{"role": "user", "content": f"w{worker} shared {i}"}])
    store.add_many([{"text": f"bulk {worker}-{j}", "scope": team} for j in range(200)]
                   + [{"text": f"bulk shared {j}", "scope": team} for j in range(50)])
    store.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
