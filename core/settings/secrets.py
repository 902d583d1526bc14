"""Secrets at rest: Fernet encryption with a key file kept outside the database (mode 0600)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import JobdeckError

if TYPE_CHECKING:
    # Imported when a secret is first sealed or opened: most sessions never do.
    from cryptography.fernet import MultiFernet

PREFIX = "enc:v1:"


class SecretKeyError(JobdeckError):
    """The key file is missing, unreadable, or does not match what was encrypted."""


def is_sealed(value: object) -> bool:
    """True for a value that ``SecretBox.seal`` produced."""
    return isinstance(value, str) and value.startswith(PREFIX)


class SecretBox:
    """Encrypts secret values with the key in ``key_path`` (created on first use)."""

    def __init__(self, key_path: Path) -> None:
        self.key_path = key_path
        self._fernet: MultiFernet | None = None

    def _keys(self) -> MultiFernet:
        from cryptography.fernet import Fernet, MultiFernet

        if self._fernet is None:
            if not self.key_path.exists():
                self.key_path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(Fernet.generate_key() + b"\n")
            try:
                lines = self.key_path.read_bytes().split()
                # The first key encrypts; every key listed decrypts (rotation keeps old ones).
                self._fernet = MultiFernet([Fernet(line) for line in lines if line])
            except (OSError, ValueError) as exc:
                raise SecretKeyError(f"secret key file {self.key_path} is unusable: {exc}") from exc
        return self._fernet

    def seal(self, plaintext: str) -> str:
        """Encrypt ``plaintext``; sealing a sealed value returns it unchanged."""
        if is_sealed(plaintext):
            return plaintext
        return PREFIX + self._keys().encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        """Decrypt a sealed value."""
        if not is_sealed(sealed):
            raise SecretKeyError("value is not an encrypted secret")
        from cryptography.fernet import InvalidToken

        try:
            return self._keys().decrypt(sealed.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                f"a secret cannot be decrypted with the keys in {self.key_path}"
            ) from exc

    def rotate_value(self, sealed: str) -> str:
        """Re-encrypt a sealed value with the newest key."""
        return PREFIX + self._keys().rotate(sealed.removeprefix(PREFIX).encode()).decode()

    def add_key(self) -> None:
        """Put a new key first in the key file; older keys stay for decryption until rotated."""
        from cryptography.fernet import Fernet

        keys = self.key_path.read_bytes().split() if self.key_path.exists() else []
        fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"\n".join([Fernet.generate_key(), *keys]) + b"\n")
        self._fernet = None
