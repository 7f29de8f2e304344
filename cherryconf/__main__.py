from __future__ import annotations

from cherryconf.cli import main

main()
