"""No `asyncio.wait_for` in the service: on Python 3.11 it can swallow a cancellation that arrives as the
awaited operation completes (cpython#86296), so a stopping task would run on. `asyncio.timeout` does not."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent.parent / "fazhizhen"


def test_the_package_uses_asyncio_timeout_not_wait_for() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bwait_for\(", line)
    ]
    assert offenders == [], f"use `async with asyncio.timeout(...)` instead: {offenders}"
