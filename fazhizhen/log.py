"""structlog configured once: contextvars first; JSON in production, console in development."""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger for the whole process."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            _mask_pii,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    _route_stdlib_logging(renderer)


def _route_stdlib_logging(renderer: structlog.typing.Processor) -> None:
    """Libraries' stdlib records (apscheduler, asyncio, aiohttp) in the same format, one JSON object a line."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("fazhizhen")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "fazhizhen"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def _mask_pii(logger: Any, method: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    from fazhizhen.services.privacy import mask_log_event

    return mask_log_event(logger, method, event)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """A logger bound to a component name."""
    return structlog.get_logger(name)  # type: ignore[no-any-return]
