"""Masking of personal numbers in free text for everyone but the asker and the assigned lawyer."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_ID_CARD = re.compile(r"(?<![0-9])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9Xx])")
_PHONE = re.compile(r"(?<![0-9])(1[3-9]\d)(\d{4})(\d{4})(?![0-9])")
_BANK = re.compile(r"(?<![0-9])(\d{4})((?:[ -]?\d){8,11})([ -]?\d{4})(?![0-9])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_card_valid(number: str) -> bool:
    """GB 11643 checksum of an 18-character resident ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_id(m: re.Match[str]) -> str:
    number = m.group(0)
    if not id_card_valid(number):
        return number
    return number[:6] + "********" + number[-4:]


def _mask_bank(m: re.Match[str]) -> str:
    raw = m.group(0)
    digits = re.sub(r"\D", "", raw)
    if not 16 <= len(digits) <= 19 or not _luhn(digits):
        return raw
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _mask_email(m: re.Match[str]) -> str:
    local, _, domain = m.group(0).partition("@")
    return local[:1] + "***@" + domain


def mask_pii(text: str | None) -> str | None:
    """Text with ID-card, bank-card and phone numbers and e-mail addresses masked (e.g. 138****5678)."""
    if not text:
        return text
    text = _EMAIL.sub(_mask_email, text)
    text = _ID_CARD.sub(_mask_id, text)
    text = _BANK.sub(_mask_bank, text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
