"""Writing files without ever leaving a half-written one where a good one was.

:func:`atomic_path` hands out a temporary name in the target's directory and
moves it over the target with ``os.replace`` (atomic within one directory)
only once the caller's block has finished without an exception, after
flushing the file to disk. Any failure -- disk full, a crash, Ctrl-C --
leaves the previous file untouched and removes the temporary one. Used by
``save()``, checkpoints, the command line and the demo. No Keras here.
"""

import contextlib
import os
import secrets

__all__ = ["atomic_path", "check_writable"]


def _new_file_beside(path, suffix):
    """Create an empty, uniquely named file in the directory of ``path``.

    Created with ``os.open(..., 0o666)`` rather than ``tempfile.mkstemp``:
    mkstemp makes files 0600 and ``os.replace`` keeps the mode, so outputs
    would end up unreadable by others; 0o666 under the umask is what a plain
    ``open(path, "w")`` gives.
    """
    directory = os.path.dirname(os.path.abspath(path))
    for _ in range(100):
        tmp = os.path.join(directory, f".skqrnn-{secrets.token_hex(6)}{suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            # Name the file the caller asked for, not the temporary name
            # (a missing or read-only directory).
            raise type(exc)(exc.errno, exc.strerror, path) from None
        os.close(fd)
        return tmp
    raise FileExistsError(f"cannot create a temporary file in {directory}.")


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path, suffix=None, *, create=True):
    """Yield a temporary path beside ``path``; move it over ``path`` on success.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    suffix : str, optional
        Suffix of the temporary name (default: that of ``path``; Keras
        wants ``.keras`` on the files it writes).
    create : bool, default=True
        Create the temporary file empty; False hands out a name that does
        not exist yet (for writers that refuse to replace a file).
    """
    path = os.fspath(path)
    tmp = _new_file_beside(path, os.path.splitext(path)[1] if suffix is None else suffix)
    try:
        if not create:
            os.unlink(tmp)
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        # A full disk or an I/O error: name the file the caller asked for,
        # not the temporary one (nor none, as Keras's writer leaves it).
        if (exc.errno is not None and exc.filename in (None, tmp)
                and type(exc).__module__ == "builtins"):
            raise type(exc)(exc.errno, exc.strerror, path) from exc
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_writable(path, what="output"):
    """Raise an ``OSError`` subclass unless ``path`` can be created or replaced.

    Checks before long work starts that the directory exists and that a file
    can be created in it (by creating and removing one: ``os.access`` is
    wrong for root and for some network file systems).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {what} {path}: directory {directory} does "
                                "not exist.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {what} {path}: it is a directory.")
    try:
        probe = _new_file_beside(path, ".probe")
    except OSError as exc:
        raise PermissionError(f"cannot write {what} {path}: directory {directory} is not "
                              f"writable ({exc.strerror or exc}).") from None
    os.unlink(probe)
