"""Personal data: masking of personal numbers in free text, a resident's export, erasure and retention.

Masking applies for everyone but the asker and the assigned lawyer (pool lists, exports, logs,
dashboard). It finds mobile and landline numbers (with +86, spaces or dashes), 18-digit ID-card
numbers with a valid GB 11643 checksum and 15-digit ones with a valid birth date, bank-card numbers
of 16-19 digits passing Luhn, and e-mail addresses; full-width digits count as digits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import asyncpg

from fazhizhen.errors import NotFound
from fazhizhen.log import get_logger
from fazhizhen.repo import security as repo

log = get_logger("fazhizhen.privacy")

Record = dict[str, Any]

# full-width digits and at-sign -> ASCII, one character for one (positions are kept)
_WIDE = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "＠": "@", "．": "."})
# every pattern below needs a digit or an @ (ASCII or full-width): a string without one holds nothing to mask
_MAY_HOLD_PII = re.compile(r"[0-9\uff10-\uff19@\uff20]")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID_CARD = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
_ID_CARD_15 = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}(?![0-9])"
)
_BANK = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){15,18}(?![0-9])")
_PHONE = re.compile(r"(?<![0-9])((?:\+|00)?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9])(\(0[1-9][0-9]{1,2}\)[ -]?|0[1-9][0-9]{1,2}[ -])([0-9]{3,4})[ -]?([0-9]{4})(?![0-9])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_card_valid(number: str) -> bool:
    """GB 11643 checksum of an 18-character resident ID number."""
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(digits: str) -> bool:
    """The Luhn check digit test of a card number (digits only)."""
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


def _mask_id15(m: re.Match[str]) -> str:
    number = m.group(0)
    return number[:6] + "******" + number[-3:]


def _mask_bank(m: re.Match[str]) -> str:
    raw = m.group(0)
    digits = re.sub(r"[^0-9]", "", raw)
    if not 16 <= len(digits) <= 19 or not luhn_valid(digits):
        return raw
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _mask_email(m: re.Match[str]) -> str:
    local, _, domain = m.group(0).partition("@")
    return local[:1] + "***@" + domain


def _mask_phone(m: re.Match[str]) -> str:
    return f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}"


def _mask_landline(m: re.Match[str]) -> str:
    return f"{m.group(1)}****{m.group(3)}"


def mask_pii(text: str | None) -> str | None:
    """Text with ID-card, bank-card and phone numbers and e-mail addresses masked (e.g. 138****5678)."""
    if not text or not _MAY_HOLD_PII.search(text):
        return text  # every pattern needs a digit or an @: most strings skip the six regexes
    if not text.isascii():
        text = text.translate(_WIDE)
    text = _EMAIL.sub(_mask_email, text)
    text = _ID_CARD.sub(_mask_id, text)
    text = _BANK.sub(_mask_bank, text)
    text = _PHONE.sub(_mask_phone, text)
    text = _ID_CARD_15.sub(_mask_id15, text)
    return _LANDLINE.sub(_mask_landline, text)


def mask_value(value: Any) -> Any:
    """`mask_pii` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


# keys the logging pipeline itself fills in: never personal data
_LOG_OWN_KEYS = frozenset(("timestamp", "level", "logger"))


def mask_log_event(_logger: Any, _method: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """structlog processor: no personal number reaches a log line, whatever a caller passed."""
    return {
        k: mask_value(v) if k not in _LOG_OWN_KEYS and isinstance(v, str | dict | list | tuple) else v
        for k, v in event.items()
    }


async def export_resident(conn: asyncpg.Connection, resident_id: int) -> Record:
    """Everything stored about a resident (PIPL art. 45): profile, questions with threads, sessions."""
    resident = await repo.get_resident(conn, resident_id)
    if resident is None or resident["deleted_at"] is not None:
        raise NotFound("用户不存在")
    questions = await repo.resident_questions_all(conn, resident_id)
    threads: dict[int, list[Record]] = {q["id"]: [] for q in questions}
    for m in await repo.resident_messages_all(conn, resident_id):
        threads.setdefault(m["question_id"], []).append(m)
    log.info("resident_exported", resident_id=resident_id, questions=len(questions))
    return {
        "resident": resident,
        "questions": [{**q, "messages": threads.get(q["id"], [])} for q in questions],
        "sessions": await repo.resident_tokens(conn, resident_id),
    }


async def erase_resident(conn: asyncpg.Connection, resident_id: int) -> None:
    """Anonymise a resident: questions stay for statistics without content or identity."""
    if not await repo.anonymise_resident(conn, resident_id):
        raise NotFound("用户不存在")
    log.info("resident_erased", resident_id=resident_id)


async def purge(conn: asyncpg.Connection, older_than_days: int) -> int:
    """Anonymise content of questions older than `older_than_days`; returns how many."""
    count = await repo.purge_older_than(conn, older_than_days)
    log.info("content_purged", older_than_days=older_than_days, questions=count)
    return count
