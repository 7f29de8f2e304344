"""Where the shipped data files (schemas/, templates/) are, installed or in a source checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir(name: str) -> Path:
    """`schemas` or `templates`: inside the wheel under cherryconf/_data, or at the top of a checkout.

    The top-level folders are the published contract; the wheel build copies them into the package, while an
    editable install or a plain checkout reads them where they stand.
    """
    packaged = Path(str(resources.files("cherryconf"))) / "_data" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name
