"""Output files written whole or not at all, and checked before the work that fills them.

``check_output`` refuses, before a command spends any time, an output path that cannot be written: a
directory, a path under a file, or one of the command's own inputs. ``atomic_write`` writes the bytes to
a temporary file in the target's folder and renames it over the target, so a reader (or a crash) never
sees half a file and an existing file is replaced only once its successor is complete. A name ending in
``.gz`` is written gzipped, so the bytes always match the name.
"""

from __future__ import annotations

import gzip
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from alpaca_lessons.common.errors import DataError


def check_output(path: str | Path, *, inputs: Iterable[str | Path] = ()) -> Path:
    """``path`` as a Path once it is known to be writable as a file; a DataError naming it otherwise.

    Refused: an existing directory, a path whose folder is (or is under) a file, a folder that cannot be
    written to, and a path that is one of ``inputs`` (those that name existing files; registry names
    are skipped), which would be overwritten by its own result.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a file to write")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise DataError(f"{path}: cannot be written: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(f"{path}: cannot be written: no permission to write in {folder}")
    if path.exists():
        for source in inputs:
            if Path(source).is_file() and Path(source).samefile(path):
                raise DataError(f"{path}: is also the input; write the result to another file")
    return path


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file in the same folder and a rename.

    Gzipped when the name ends in ``.gz`` (with a fixed timestamp, so equal data gives equal bytes). The
    new file gets the usual permissions (0o666 less the umask). A DataError names the path when it cannot
    be written; nothing is left behind then.
    """
    path = check_output(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if path.name.endswith(".gz"):
        raw = gzip.compress(raw, mtime=0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{path}: cannot create its folder: {exc.strerror}") from None
    part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise DataError(f"{path}: cannot be written: {exc.strerror or exc}") from None
    return path
