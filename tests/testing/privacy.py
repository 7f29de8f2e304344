"""Who may open a file cherryconf wrote: the one check of "private to the user" for every platform the lane runs.

POSIX: mode 0600 (files) or 0700 (directories). Windows: the DACL names no one but the user running the tests
and SYSTEM, and gives the user full control (`cherryconf.winacl`; Wine keeps no DACL of its own but reports one
made from the file's Unix mode, so a file left readable by everyone shows an Everyone ACE there too).
"""

from __future__ import annotations

import re
import stat
import sys
from pathlib import Path


def assert_private(path: Path) -> None:
    if sys.platform == "win32":
        from cherryconf import winacl

        sddl = winacl.dacl_sddl(path)
        trustees = set(re.findall(r"\(A;[^;]*;[^;]*;;;([^)]+)\)", sddl))
        assert trustees == {winacl.user_sid(), "SY"}, f"{path}: {sddl}"
        assert re.search(rf"\(A;[^;]*;FA;;;{re.escape(winacl.user_sid())}\)", sddl), f"{path}: {sddl}"
        assert "(D;" not in sddl and "(OA;" not in sddl, f"{path}: {sddl}"
    else:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"
