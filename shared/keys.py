"""API keys: `iui_<prefix>_<secret>`. The prefix (8 characters) finds the key and is safe to
log; only the SHA-256 of the whole key is stored. A key carries 190 bits from `secrets`, so a
fast hash is enough: there is no password to guess."""

import hashlib
import re
import secrets

KEY_PATTERN = re.compile(r"^iui_([a-z0-9]{8})_([A-Za-z0-9_-]{32})$")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """A fresh key, its prefix and its hash."""
    prefix = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    key = new_secret(prefix)
    return key, prefix, hash_key(key)


def new_secret(prefix: str) -> str:
    """A key with a fresh secret under `prefix` (a rotation keeps the key's prefix)."""
    return f"iui_{prefix}_{secrets.token_urlsafe(24)}"


def parse_key(presented: str) -> tuple[str, str] | None:
    """(prefix, hash) of a well-formed key, None otherwise."""
    match = KEY_PATTERN.match(presented)
    return (match.group(1), hash_key(presented)) if match else None
