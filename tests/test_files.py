"""Files written whole: permissions as the umask allows, nothing left on failure."""

from __future__ import annotations

import os
import stat

import pytest

from hitm.errors import DescriptionError
from hitm.files import write_whole


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_written_file_honours_the_umask(tmp_path, umask, mode) -> None:
    """The temporary file behind the rename is 0600; the result must not be."""
    old = os.umask(umask)
    try:
        path = write_whole(tmp_path / "out.txt", "hello")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_text() == "hello"


def test_a_failed_write_leaves_nothing(tmp_path) -> None:
    def fail(handle) -> None:
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(DescriptionError, match="cannot write"):
        write_whole(tmp_path / "out.bin", fail)
    assert list(tmp_path.iterdir()) == []
