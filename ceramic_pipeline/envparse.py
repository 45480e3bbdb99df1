"""Parsing of environment values, shared by settings.py and the pinning configuration."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A variable with an unusable value; the message names it and never echoes secrets."""


def env_int(environ: Mapping[str, str], name: str, default: int, low: int = 1, high: int = 2**31 - 1) -> int:
    """``environ[name]`` as an integer in [low, high], ``default`` when unset or blank."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def env_url(environ: Mapping[str, str], name: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """``environ[name]`` as a URL with one of ``schemes`` and a host (trailing ``/`` removed); None when unset.

    The message names the variable and the missing part, never the value: a URL can
    carry credentials (``https://user:token@host``).
    """
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError(f"{name} is not a valid URL (expected {schemes[0]}://host[:port])") from None
    if parts.scheme.lower() not in schemes:
        raise ConfigError(f"{name} must start with {' or '.join(s + '://' for s in schemes)} (expected {schemes[0]}://host[:port])")
    if not parts.hostname:
        raise ConfigError(f"{name} has no host (expected {schemes[0]}://host[:port])")
    return raw.rstrip("/")
