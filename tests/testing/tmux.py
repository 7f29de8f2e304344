"""The real CLI in a real terminal: one private tmux server (its own socket, no config), one 200x50 window.

    term = Tmux.cli(tmp_path, ["--data-dir", str(ud), "wizard"])
    term.wait_for("Which gateway?"); term.keys("Enter"); term.paste("https://gw/v1/chat/completions")
    shown = term.wait_for("[exit ")   # the program ended; "[exit N]" gives its exit code
    term.close()

The program runs under `env -i` with only the isolated home of testing.cli.isolated_environ, PATH, LANG and TERM:
nothing of this process's environment (no *_API_KEY) reaches it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from testing.cli import PACKAGE_ROOT, isolated_environ


class Tmux:
    def __init__(self, socket_path: Path, command: str, columns: int = 200) -> None:
        self.base = ["tmux", "-S", str(socket_path), "-f", "/dev/null"]
        subprocess.run([*self.base, "new-session", "-d", "-s", "wiz", "-x", str(columns), "-y", "50", command],
                       check=True)

    @classmethod
    def cli(cls, tmp_path: Path, args: Sequence[str], env: Mapping[str, str] | None = None,
            columns: int = 200) -> Tmux:
        """`python -m cherryconf ARGS` in a terminal; `[exit N]` is shown when it ends."""
        full = isolated_environ(tmp_path, {"PATH": os.environ.get("PATH", "")})
        full["PYTHONPATH"] = str(PACKAGE_ROOT)
        full.update(env or {})
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in full.items())
        cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "cherryconf", *args])
        script = tmp_path / "run.sh"
        script.write_text(f'env -i TERM="$TERM" {exports} {cmd}\necho "[exit $?]"\nsleep 120\n')
        return cls(tmp_path / "tmux.sock", f"sh {shlex.quote(str(script))}", columns)

    def screen(self, escapes: bool = False) -> str:
        """Everything the window showed, scrollback included; lines the terminal itself wrapped are joined back
        (the program's own line breaks stay); `escapes`: with the colours as escape sequences."""
        return subprocess.run([*self.base, "capture-pane", "-p", "-J", *(["-e"] if escapes else []), "-S", "-",
                               "-t", "wiz"], check=True, capture_output=True, text=True).stdout

    def wait_for(self, text: str, count: int = 1, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if shown.count(text) >= count:
                return shown
            if time.monotonic() > deadline or "\n[exit " in shown:  # the program ended: it will never show up
                raise AssertionError(f"{text!r} (x{count}) never appeared; the screen:\n{shown}")
            time.sleep(0.05)

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "wiz", *(["-l"] if literal else []), *keys], check=True)

    def paste(self, text: str) -> None:
        """Paste as a terminal does (bracketed, when the program asked for it), not key by key."""
        subprocess.run([*self.base, "set-buffer", "-b", "paste", "--", text], check=True)
        subprocess.run([*self.base, "paste-buffer", "-p", "-d", "-b", "paste", "-t", "wiz"], check=True)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], check=False, capture_output=True)
