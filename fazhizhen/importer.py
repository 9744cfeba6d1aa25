"""Reading the bureau's spreadsheets: CSV in UTF-8 or GBK (as Excel exports them) or .xlsx, row checks.

Every row is checked before anything is written; each bad row is reported with its line number
and the reason. Headers may be Chinese (as the bureau's own templates) or English.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fazhizhen.services.categories import CATEGORIES

KINDS = ("communities", "lawyers", "rosters", "pools")

# canonical column -> accepted header spellings (compared without spaces, case-insensitive)
HEADERS: dict[str, tuple[str, ...]] = {
    "district": ("区", "区县", "区名称", "所属区", "district"),
    "street": ("街道", "街道（乡镇）", "街道(乡镇)", "乡镇", "street"),
    "community": ("社区", "社区名称", "村（社区）", "community"),
    "name": ("姓名", "律师姓名", "name"),
    "username": ("用户名", "账号", "登录名", "律师用户名", "律师账号", "username", "lawyer_username"),
    "password": ("初始密码", "密码", "password"),
    "firm": ("律所", "律师事务所", "执业机构", "firm"),
    "license_no": ("执业证号", "执业证书号", "律师执业证号", "license_no"),
    "phone": ("手机", "手机号", "电话", "联系电话", "phone"),
    "specialties": ("擅长领域", "擅长", "专长", "specialties"),
    "weekday": ("星期", "值班日", "weekday"),
    "start": ("开始", "开始时间", "start"),
    "end": ("结束", "结束时间", "end"),
    "pool": ("服务团", "律师服务团", "服务团名称", "pool"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "communities": ("district", "street", "community"),
    "lawyers": ("name", "username"),
    "rosters": ("district", "street", "community", "username"),
    "pools": ("pool", "username"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "communities": (),
    "lawyers": ("password", "firm", "license_no", "phone", "specialties"),
    "rosters": ("weekday", "start", "end"),
    "pools": ("district",),
}
WEEKDAYS = {
    **{str(i + 1): i for i in range(7)},
    **{w: i for i, w in enumerate(("周一", "周二", "周三", "周四", "周五", "周六", "周日"))},
    **{w: i for i, w in enumerate(("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"))},
    **{w: i for i, w in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    "周天": 6,
    "星期天": 6,
}
EVERY_DAY = {"", "每天", "全天", "every", "daily", "*"}
_NAMES = {name: code for code, name in CATEGORIES.items()}
_HHMM = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")
_SPLIT = re.compile(r"[,，、;；/\s]+")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


class ImportFileError(Exception):
    """The file cannot be read at all (encoding, format, missing columns)."""


@dataclass
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class Parsed:
    """The checked rows (each with its line number) and the errors found."""

    kind: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030, the superset of the GBK Excel writes on Chinese Windows."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"neither UTF-8 nor GBK text (byte {exc.start})") from None


def read_table(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every line of a .csv or the first sheet of an .xlsx, header included."""
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    text = decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    return [(reader.line_num, row) for row in reader]


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a corrupt or foreign file: say so, not a traceback
        raise ImportFileError(f"not a readable .xlsx file: {exc}") from None
    try:
        sheet = book.worksheets[0]
        out = []
        for n, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            out.append((n, ["" if v is None else _cell(v) for v in values]))
        return out
    finally:
        book.close()


def _cell(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "strftime") and hasattr(v, "hour") and not hasattr(v, "year"):
        return str(v.strftime("%H:%M"))
    return str(v)


def _columns(header: list[str], kind: str) -> dict[str, int]:
    spelled = {h: canon for canon, names in HEADERS.items() for h in names}
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = re.sub(r"\s+", "", cell).lower()
        canon = spelled.get(key) or next((c for s, c in spelled.items() if s.lower() == key), None)
        if canon and canon not in found:
            found[canon] = i
    missing = [c for c in REQUIRED[kind] if c not in found]
    if missing:
        want = ", ".join(f"{c} ({HEADERS[c][0]})" for c in missing)
        raise ImportFileError(f"missing column(s): {want}; header was: {', '.join(header)}")
    return {c: i for c, i in found.items() if c in REQUIRED[kind] or c in OPTIONAL[kind]}


def _specialties(text: str) -> list[str]:
    out = []
    for part in _SPLIT.split(text.strip()):
        if not part:
            continue
        code = part if part in CATEGORIES else _NAMES.get(part)
        if code is None:
            raise ValueError(f"unknown specialty {part!r} (one of {', '.join(CATEGORIES.values())})")
        out.append(code)
    return list(dict.fromkeys(out))


def _hhmm(text: str) -> str:
    m = _HHMM.match(text.strip())
    if not m:
        raise ValueError(f"time {text!r} is not HH:MM")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _check(kind: str, row: dict[str, str]) -> dict[str, Any]:
    """One row's values, normalised; ValueError with the reason when it is bad."""
    for col in REQUIRED[kind]:
        if not row.get(col):
            raise ValueError(f"{col} ({HEADERS[col][0]}) is empty")
    for col in ("district", "street", "community", "name", "pool"):
        if len(row.get(col, "")) > 100:
            raise ValueError(f"{col} longer than 100 characters")
    out: dict[str, Any] = dict(row)
    if kind == "lawyers":
        if not _USERNAME.match(row["username"]):
            raise ValueError("username must be 3-64 letters, digits or _.@-")
        pw = row.get("password", "")
        if pw and (len(pw) < 10 or pw.lower() == row["username"].lower()):
            raise ValueError("password shorter than 10 characters or equal to the username")
        out["specialties"] = _specialties(row.get("specialties", ""))
        for col in ("firm", "license_no", "phone", "password"):
            out[col] = row.get(col) or None
    elif kind == "rosters":
        day = row.get("weekday", "").strip().lower()
        if day in EVERY_DAY:
            out["weekday"] = None
        elif day in WEEKDAYS:
            out["weekday"] = WEEKDAYS[day]
        else:
            raise ValueError(f"weekday {row['weekday']!r} is not 1-7, 周一-周日 or empty (every day)")
        start, end = row.get("start", ""), row.get("end", "")
        if bool(start) != bool(end):
            raise ValueError("start and end go together (both empty: the whole day)")
        out["start"], out["end"] = (_hhmm(start), _hhmm(end)) if start else (None, None)
        if out["start"] is not None and out["start"] == out["end"]:
            raise ValueError("start and end must differ")
    elif kind == "pools":
        out["district"] = row.get("district") or None
    return out


def parse(kind: str, table: list[tuple[int, list[str]]]) -> Parsed:
    """Check every row of a table whose first non-empty line is the header."""
    if kind not in KINDS:
        raise ImportFileError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    lines = [(n, [c.strip() for c in cells]) for n, cells in table if any(c.strip() for c in cells)]
    if not lines:
        raise ImportFileError("the file is empty")
    cols = _columns(lines[0][1], kind)
    parsed = Parsed(kind)
    for n, cells in lines[1:]:
        row = {c: (cells[i] if i < len(cells) else "") for c, i in cols.items()}
        try:
            checked = _check(kind, row)
        except ValueError as exc:
            parsed.errors.append(RowError(n, str(exc)))
            continue
        checked["line"] = n
        parsed.rows.append(checked)
    _duplicates(parsed)
    return parsed


def _duplicates(parsed: Parsed) -> None:
    key = {"lawyers": ("username",), "communities": ("district", "street", "community")}.get(parsed.kind)
    if key is None:
        return
    seen: dict[tuple[str, ...], int] = {}
    for row in parsed.rows:
        k = tuple(row[c] for c in key)
        if k in seen:
            parsed.errors.append(RowError(row["line"], f"same {'/'.join(key)} as line {seen[k]}"))
        else:
            seen[k] = row["line"]
    parsed.errors.sort(key=lambda e: e.line)
