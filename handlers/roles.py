"""Localized names of roles (kept in `bot.render.names`, where the renderers reach them)."""

from __future__ import annotations

from bot.render.names import ROLE_NAMES, role_name

__all__ = ["ROLE_NAMES", "role_name"]
