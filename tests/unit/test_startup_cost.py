"""Start-up stays cheap: importing the app hashes no password (argon2 at the production cost is a second)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import argon2
def refuse(*args, **kwargs):
    raise SystemExit("hashed at import")
argon2.PasswordHasher.hash = refuse
import fazhizhen.app
import fazhizhen.__main__
"""


def test_importing_the_app_hashes_nothing() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
