"""Uploads kept between an import's preview and its confirmation (outlets, question banks).

A checked upload is written to the upload folder under a random token (``<prefix><token>.xlsx``,
mode 0600, never served, never executed); the confirm step finds it again only by a token of the
expected shape (no path tricks) and removes it. Files older than a day are removed when the next
one is stored.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class PendingUploads:
    """One feature's kept uploads, told apart by their file name prefix (``outlet-import-``)."""

    prefix: str
    suffix: str = ".xlsx"

    def store(self, folder: str, data: bytes) -> str:
        """Keep ``data`` under a new random token; returns the token."""
        directory = Path(folder)
        directory.mkdir(parents=True, exist_ok=True)
        self._remove_old(directory)
        token = secrets.token_urlsafe(24)
        descriptor = os.open(directory / f"{self.prefix}{token}{self.suffix}", os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        return token

    def path(self, folder: str, token: str | None) -> Path | None:
        """The kept file of a token, or None for a malformed or unknown token."""
        if not token or not TOKEN_PATTERN.match(token):
            return None
        path = Path(folder) / f"{self.prefix}{token}{self.suffix}"
        return path if path.is_file() else None

    def discard(self, folder: str, token: str | None) -> None:
        """Remove the kept file of a token (after confirming or cancelling); nothing if there is none."""
        path = self.path(folder, token)
        if path is not None:
            path.unlink(missing_ok=True)

    def _remove_old(self, directory: Path) -> None:
        cutoff = time.time() - MAX_AGE_SECONDS
        for path in directory.glob(f"{self.prefix}*{self.suffix}"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass
