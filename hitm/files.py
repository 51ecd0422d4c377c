"""Files written whole: a failure leaves nothing half-written behind."""

from __future__ import annotations

import glob
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from hitm.errors import DescriptionError

__all__ = ["STALE_SECONDS", "write_whole"]

STALE_SECONDS = 3600
"""A temporary file of ours this old was left by a killed run (``kill -9``) and is removed."""


def _sweep_stale(path: Path) -> None:
    """Remove temporary files a killed run left beside ``path`` (older than STALE_SECONDS)."""
    now = time.time()
    for old in path.parent.glob(f".{glob.escape(path.name)}.*{glob.escape(path.suffix)}"):
        try:
            if now - old.stat().st_mtime > STALE_SECONDS:
                old.unlink()
        except OSError:  # gone already, or not ours to remove
            continue


def write_whole(
    path: Path, content: str | bytes | Callable[[BinaryIO], None], *, exclusive: bool = False
) -> Path:
    """Write ``content`` to ``path`` all at once: a temporary file beside it, renamed.

    Parameters
    ----------
    path
        Where the file goes; its directory must exist.
    content
        Text (written as UTF-8), bytes, or a function that writes into the open
        binary file (e.g. a figure's ``savefig``).
    exclusive
        Never replace an existing file: the temporary file is hard-linked into
        place, which fails if ``path`` exists, so of several writers racing for
        a new path exactly one succeeds.

    Raises
    ------
    DescriptionError
        If the file cannot be written, or ``exclusive`` and it exists (the
        message names it); no file is left.
    """
    _sweep_stale(path)
    tmp = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix, delete=False
        ) as handle:
            tmp = Path(handle.name)
            if isinstance(content, str):
                handle.write(content.encode("utf-8"))
            elif isinstance(content, bytes):
                handle.write(content)
            else:
                content(handle)
        # The temporary file is 0600; the written file gets what the umask allows, as
        # any file the user creates would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if exclusive:
            os.link(tmp, path)  # the temporary name is removed below
        else:
            os.replace(tmp, path)
    except FileExistsError:
        raise DescriptionError(f"{path}: already exists") from None
    except OSError as exc:
        raise DescriptionError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
    return path
