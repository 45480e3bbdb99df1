"""Parsing of environment values, shared by settings.py and the pinning configuration."""

from __future__ import annotations

from collections.abc import Mapping


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
