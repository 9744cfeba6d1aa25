"""The peer: django-helpdesk (PyPI) in its own virtualenv under var/bench-django, on its own database
of the same PostgreSQL. `ensure_venv()` builds the virtualenv; `measure()` runs bench/peer/run_peer.py
there and returns its JSON (ticket creations per second, `escalate_tickets` escalations per second)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.harness import ROOT, Bench

VENV = ROOT / "var" / "bench-django"
PEER_PY = VENV / "bin" / "python"
PACKAGES = ["django-helpdesk", "psycopg[binary]"]


def ensure_venv() -> str | None:
    """Create the peer's virtualenv if missing; None when ready, else why it cannot be."""
    if PEER_PY.exists():
        ok = subprocess.run([str(PEER_PY), "-c", "import helpdesk, psycopg"], capture_output=True, check=False)
        if ok.returncode == 0:
            return None
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True)
        subprocess.run(
            [str(PEER_PY), "-m", "pip", "install", "-q", *PACKAGES],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        err = getattr(exc, "stderr", b"") or b""
        return f"pip install {' '.join(PACKAGES)} failed: {err.decode(errors='replace')[-300:]}"
    return None


def _db_env(dsn: str) -> dict[str, str]:
    parts = urlsplit(dsn)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    return {
        "PEER_DB_NAME": parts.path.lstrip("/"),
        "PEER_DB_HOST": host,
        "PEER_DB_PORT": str(parts.port or query.get("port", ["5432"])[0]),
        "PEER_DB_USER": parts.username or "postgres",
        "PEER_DB_PASSWORD": parts.password or "",
    }


async def measure(bench: Bench, create_n: int, escalate_n: int) -> dict[str, Any]:
    """Run the peer on a fresh database; {'error': why} when it cannot run."""
    reason = await asyncio.to_thread(ensure_venv)
    if reason:
        return {"error": reason}
    dsn = await bench.fresh_database("django")  # our schema too; harmless, django uses its own tables
    env = {**os.environ, **_db_env(dsn)}
    env.pop("PYTHONASYNCIODEBUG", None)
    proc = await asyncio.create_subprocess_exec(
        str(PEER_PY),
        str(ROOT / "bench" / "peer" / "run_peer.py"),
        str(create_n),
        str(escalate_n),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        return {"error": f"run_peer.py failed: {err.decode(errors='replace')[-500:]}"}
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    from bench.harness import bench_context

    async def go() -> None:
        async with bench_context(quick="--quick" in sys.argv) as b:
            print(json.dumps(await measure(b, 50, 50), indent=2))

    asyncio.run(go())
