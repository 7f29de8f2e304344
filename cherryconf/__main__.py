"""`python -m cherryconf` and the `cherryconf` command (pyproject's entry point is `run`).

A Ctrl-C while the command line is still being imported, before main() handles it, ends like one after: exit 130
and one line, not a traceback.
"""

from __future__ import annotations

import sys


def run() -> None:
    try:
        from cherryconf.cli import main
    except KeyboardInterrupt:
        from cherryconf import console
        from cherryconf.errors import ExitCode
        from cherryconf.i18n import _

        console.setup_streams()  # as main() would have: the sentence in the encoding the reader decodes

        # On a terminal, the ^C it echoed ends the line first.
        sys.stderr.write(("\n" if sys.stderr.isatty() else "") + "cherryconf: " + _("interrupted; nothing was written")
                         + "\n")
        sys.exit(ExitCode.INTERRUPTED)
    main()


if __name__ == "__main__":
    run()
