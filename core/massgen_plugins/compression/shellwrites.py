"""Which files one line of shell changes, read without running it.

``sed -i 's/a/b/' src/x.py && cat > notes.md << EOF`` changes ``src/x.py`` and ``notes.md``: the
line is split into words the way a POSIX shell would (:mod:`shlex`, operators apart), into simple
commands at ``|``, ``&&``, ``;`` ..., and each command is read for what it writes: ``>``/``>>``
redirections (not to ``/dev/...``), ``sed -i``/``perl -i`` (their files, not their scripts),
``tee``, ``touch``, ``cp``/``install`` (the target), ``mv`` (the sources gone, the target
created; ``git mv`` too), ``rm``/``unlink``/``git rm`` (deleted). Wrappers (``sudo``, ``env``, ``time``,
``nohup``, ``VAR=value``) are looked through. Anything else -- running a program, reading a file
-- changes nothing it can see, so nothing is reported.
"""

from __future__ import annotations

import shlex

REDIRECTS = (">", ">>", ">|", "&>")
_NOT_A_WORD = (*REDIRECTS, "<", "<<", ">&", "<<<")  # what follows these is a target, not an argument
_WRAPPERS = frozenset({"sudo", "env", "command", "time", "nohup"})
_SCRIPT_OPTIONS = frozenset({"-e", "--expression", "-f", "--file"})


def words(line: str) -> list[str]:
    """``line`` split as a shell would (quotes removed, operators as words of their own); split
    on whitespace when the quoting is unbalanced."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return line.split()


def changes(line: str) -> list[tuple[str, str]]:
    """``(path, how)`` for every file one line of shell writes: ``how`` is ``edited``,
    ``created`` or ``deleted``. Paths are as written (not checked)."""
    tokens = words(line)
    out: list[tuple[str, str]] = []
    command: list[str] = []
    for n, tok in enumerate([*tokens, ";"]):
        if tok in REDIRECTS and n + 1 < len(tokens):
            if not tokens[n + 1].startswith(("/dev/", "&")):
                out.append((tokens[n + 1], "edited"))
            continue
        if n > 0 and tokens[n - 1] in _NOT_A_WORD:
            continue
        if tok and set(tok) <= set("|&;()<>"):
            out.extend(command_changes(command))
            command = []
            continue
        command.append(tok)
    return out


def command_changes(argv: list[str]) -> list[tuple[str, str]]:
    """What one simple command (its words, redirections removed) writes."""
    while argv and (argv[0] in _WRAPPERS or "=" in argv[0]):
        argv = argv[1:]
    if not argv:
        return []
    verb = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    plain = [a for a in args if not a.startswith("-")]
    if verb in ("sed", "perl"):
        in_place = any(a.startswith("-i") or a == "--in-place" or (verb == "perl" and a.startswith("-")
                                                                   and not a.startswith("--") and "i" in a)
                       for a in args)
        return [(f, "edited") for f in _edited_files(args)] if in_place else []
    if verb == "tee":
        return [(f, "edited") for f in plain]
    if verb == "touch":
        return [(f, "created") for f in plain]
    if verb in ("cp", "install") and len(plain) >= 2:
        return [(plain[-1], "created")]
    if verb == "mv" and len(plain) >= 2:
        return [*((f, "deleted") for f in plain[:-1]), (plain[-1], "created")]
    if verb in ("rm", "unlink"):
        return [(f, "deleted") for f in plain]
    if verb == "git" and plain[:1] == ["rm"]:
        return [(f, "deleted") for f in plain[1:]]
    if verb == "git" and plain[:1] == ["mv"] and len(plain) >= 3:
        return [*((f, "deleted") for f in plain[1:-1]), (plain[-1], "created")]
    return []


def _edited_files(args: list[str]) -> list[str]:
    """The file operands of ``sed``/``perl``: the script is the first operand unless given with
    ``-e``/``-f`` (whose values are skipped)."""
    operands: list[str] = []
    scripted = False
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in _SCRIPT_OPTIONS or (a.startswith("-") and not a.startswith("--") and a[-1:] in ("e", "f")
                                    and len(a) > 1 and "i" not in a[1:-1].replace(".", "")):
            scripted, skip = True, True
            continue
        if not a.startswith("-"):
            operands.append(a)
    return operands if scripted else operands[1:]
