"""Write a file so that a crash leaves either the old file or the new one.

The one atomic writer of the library, shared by model files and results files. It
imports nothing from the library, so any module may use it.
"""

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path, text):
    """Replace the file at ``path`` by ``text`` (UTF-8), atomically.

    The text is written to a temporary file in the target's folder, flushed to
    disk and renamed over the target only when complete, so an interrupted write
    never leaves half a file. A symbolic link is followed: the file it points to is
    replaced and the link stays. The new file gets the mode any new file of the
    user gets (``0o666`` less the umask), not the private mode of a temporary file.

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder must exist.

    text : str
        The new content.

    Returns
    -------
    target : pathlib.Path
        The file written: ``path`` with any symbolic links resolved.
    """
    target = Path(os.path.realpath(path))
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
