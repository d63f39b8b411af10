"""Localized names of roles and member statuses."""

from __future__ import annotations

from bot.core.i18n import N_, Translator

ROLE_NAMES = {
    "member": N_("member"),
    "secretary": N_("secretary"),
    "deputy_secretary": N_("deputy secretary"),
    "committee_officer": N_("committee officer"),
}


def role_name(t: Translator, role: str) -> str:
    return t(ROLE_NAMES.get(role, role))


STATUS_NAMES = {
    "official": N_("official member"),
    "probationary": N_("probationary member"),
    "exempt": N_("exempt from party activities"),
}


def status_name(t: Translator, status: str) -> str:
    return t(STATUS_NAMES.get(status, status))
