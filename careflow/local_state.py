"""Local state under ``$CAREFLOW_HOME`` holds customers' data (the sandbox outbox, the embedded
server's database and log, the delivery record, agent tokens): private by default. Folders
careflow creates are 0700 and its files 0600; a folder that already exists is left as it is
(``CAREFLOW_HOME`` may name a shared one), but careflow's own files in it are tightened.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def private_folder(path: Path) -> Path:
    """``path`` as a folder, created (with its missing parents) for its owner alone."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    for folder in missing:  # mkdir's mode is masked by the umask, and parents get the default
        folder.chmod(PRIVATE_FOLDER)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file only its owner can read or write, created empty if it is not there."""
    private_folder(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    path.chmod(PRIVATE_FILE)  # one made before careflow kept its files private
    return path


def create_private_once(path: Path, content: bytes) -> bool:
    """Make ``path`` (0600, in a private folder) hold ``content`` unless it exists; True when
    made now. Written to a private file beside it and linked into place, so a reader never sees
    half of it and two processes making it at once keep one, not one each (keys)."""
    if path.exists():
        return False
    draft = private_file(path.with_name(f".{path.name}.{os.getpid()}"))
    try:
        draft.write_bytes(content)
        os.link(draft, path)
    except FileExistsError:
        return False
    finally:
        draft.unlink(missing_ok=True)
    return True
