"""Which files a line of shell writes, read without running it."""

from __future__ import annotations

import pytest
from massgen_plugins.compression.shellwrites import changes


@pytest.mark.parametrize(("line", "expected"), [
    ("sed -i 's/a -> b/a -> b:/' tests/x.py", [("tests/x.py", "edited")]),
    ("sed -i.bak -e 's/a/b/g' -e 's/c/d/' one.py two.py", [("one.py", "edited"), ("two.py", "edited")]),
    ("sed -ie 's/a/b/' f.txt", [("f.txt", "edited")]),                      # -i with the suffix "e"
    ("perl -pi -e 's/x/y/' lib/a.pl", [("lib/a.pl", "edited")]),
    ("perl -i -pe 's/x/y/' lib/b.pl", [("lib/b.pl", "edited")]),
    ("sed -n 's/x/y/p' read_only.txt", []),                                  # no -i: prints, writes nothing
    ("cat > notes.md << 'EOF'", [("notes.md", "edited")]),
    ("echo hi >> log.txt 2>&1 && python run.py > /dev/null", [("log.txt", "edited")]),
    ("sudo tee -a /etc/hosts < entry", [("/etc/hosts", "edited")]),
    ("FOO=1 env touch a/b.c", [("a/b.c", "created")]),
    ("cp -r src/ backup/ && mv old.cfg new.cfg", [("backup/", "created"), ("old.cfg", "deleted"),
                                                 ("new.cfg", "created")]),
    ("rm -f reproduce.py; git rm -q stale.py; git status", [("reproduce.py", "deleted"), ("stale.py", "deleted")]),
    ("python -c 'print(1 > 0)' | grep 1", []),                               # quoted: not a redirection
    ("ls -la 'unbalanced", []),
])
def test_changes(line, expected):
    assert changes(line) == expected
