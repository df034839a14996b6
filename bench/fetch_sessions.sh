#!/bin/sh
# Clone the public repositories whose agent trajectories bench/retention.py --real scores, at
# the commits bench/real_sessions.py pins (and, for --real --unseen, bench/real_sessions_unseen.py:
# the NYU CTF leaderboard transcripts and Moatless Tools' SWE-bench runs; the Gemini CLI CTF chats,
# SWE-agent 1.x trajectories and aider chat history of hold-out C; the InterCode-CTF results and
# AutoCodeRover's SWE-bench run of hold-out D, whose OpenHands runs are in the OpenHands commit
# listed first), into DIR (default
# ./sessions-src). Needs network.
# Nothing fetched belongs in this repository: point --sources (or MASSGEN_BENCH_SOURCES) at DIR.
set -eu
dir=${1:-sessions-src}
mkdir -p "$dir"
for spec in SWE-agent/SWE-agent@3ea751c087f32b16e039a2233dd6eefecef325d5 \
            All-Hands-AI/OpenHands@156d0686c46aafb0fa9d291da6421fb6f64dddc0 \
            SWE-agent/mini-swe-agent@a83fcae82d2a08f0ee0c688f9d137b3566c097f8 \
            NYU-LLM-CTF/leaderboard_submissions@dd5234783390c75b9f291efabf24612c05db69e5 \
            aorwall/moatless-tools@d70085d56745575c78f97ce55fbaaccdebe03c93 \
            wechicken456/CTF-agent@754f2ea1833970ffe4641af1af68775290599b34 \
            christsakm/Trajectories@b4703a740b521546d50ce07c6679197889b51f9a \
            Aider-AI/aider@5dc9490bb35f9729ef2c95d00a19ccd30c26339c \
            princeton-nlp/intercode@c3e46d827cfc9d4c704ec078f7abf9f41e3191d8 \
            nus-apr/auto-code-rover@3536ac292e3062ffb3f6e98457958e2b803228d6; do
  repo=${spec%@*} commit=${spec#*@}
  target="$dir/$(echo "$repo" | tr / +)"
  if [ ! -d "$target" ]; then
    git clone --filter=blob:none --no-checkout "https://github.com/$repo.git" "$target"
  fi
  git -C "$target" fetch --quiet origin "$commit" || true
  git -C "$target" cat-file -e "$commit^{commit}"
done
echo "sources ready under $dir"
