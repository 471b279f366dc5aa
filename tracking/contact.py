"""The organisers' phone number as walkers see it: never the event file's placeholder. Pure.

The bundled events ship `+32 3 000 00 00`-style numbers (a country code and zeros) until the
organisers fill in theirs. Such a number is not shown as a call button: walkers would call
nobody. The dashboard and `serve` warn the organisers instead.
"""

from __future__ import annotations

import re


def is_placeholder(phone: str) -> bool:
    """Empty, or a country and area code followed by zeros only (+32 3 000 00 00)."""
    digits = re.sub(r"\D", "", phone)
    return len(digits) < 6 or set(digits[3:]) <= {"0"}


def callable_phone(phone: str) -> str:
    """The number to offer walkers, or "" when there is none worth calling."""
    return "" if is_placeholder(phone) else phone


def placeholder_warning(phone: str, event_source: str) -> str | None:
    """What organisers are told when walkers get no number to call; None when all is well."""
    if not is_placeholder(phone):
        return None
    shown = f"the placeholder {phone}" if phone else "empty"
    return (
        f"Walkers see no organiser phone to call: organiser_phone in the event file "
        f"({event_source}) is {shown}. Put in the real number and restart the server."
    )
