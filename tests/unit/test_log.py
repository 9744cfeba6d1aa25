"""Logging: with FAZHIZHEN_LOG_FORMAT=json every line on stderr is one JSON object, libraries' too."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import logging
from fazhizhen.log import configure_logging, get_logger
configure_logging("json", "INFO")
get_logger("t").info("own_event", question_id=1)
logging.getLogger("apscheduler.scheduler").warning("Execution of job %s skipped", "sweep")
try:
    raise RuntimeError("boom")
except RuntimeError:
    logging.getLogger("asyncio").exception("Task exception was never retrieved")
"""


def test_json_format_covers_stdlib_loggers() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    lines = [json.loads(line) for line in out.stderr.splitlines()]  # every line parses
    assert [x["event"] for x in lines] == [
        "own_event",
        "Execution of job sweep skipped",
        "Task exception was never retrieved",
    ]
    assert lines[1]["level"] == "warning" and lines[1]["logger"] == "apscheduler.scheduler"
    assert "timestamp" in lines[1]
    assert "RuntimeError: boom" in lines[2]["exception"]
