"""Writer process for the crash test: appends turns and facts forever, acknowledging each
committed write ("turn N" / "fact ID N") on a file descriptor (stdout when run as a script).
The test kills it with SIGKILL."""

from __future__ import annotations

import os
import sys

from massgen_plugins.memory.records import Scope
from massgen_plugins.memory.sqlite import SQLiteMemoryStore


def run(path: str, ack_fd: int) -> None:
    """Write forever; after each commit, write one acknowledgement line to ``ack_fd``."""

    def ack(line: str) -> None:
        os.write(ack_fd, (line + "\n").encode())

    store = SQLiteMemoryStore(path)
    state = store.load_session("crash")
    turn = state.turn if state else 0
    ack(f"ready {turn}")
    while True:
        turn += 1
        archived = ([{"id": f"t{turn}", "message": {"role": "tool", "content": f"archived output of turn {turn}"},
                      "replaced_by": f"summary-{turn}", "stage": "summarize"}] if turn % 3 == 0 else [])
        snapshot = ([{"role": "system", "content": f"summary up to turn {turn - 1}"},
                     {"role": "user", "content": f"question {turn}"},
                     {"role": "assistant", "content": f"answer {turn}"}] if turn % 10 == 0 else None)
        store.append_turn("crash", [{"role": "user", "content": f"question {turn}"},
                                    {"role": "assistant", "content": f"answer {turn}"}],
                          turn=turn, archived=archived, snapshot=snapshot, meta={"turn": turn},
                          scope=Scope(user="crash"))
        ack(f"turn {turn}")
        record, _ = store.add(f"fact of turn {turn}: the value is {turn * 7}", scope=Scope(user="crash"),
                              metadata={"turn": turn})
        ack(f"fact {record.id} {turn}")


if __name__ == "__main__":
    run(sys.argv[1], sys.stdout.fileno())
