"""Running a prototype's matrix of profiles x models x cases: concurrent, ordered, cancellable. No Qt."""

from app.core.messages import build_messages, continue_messages, system_text
from app.core.placeholders import render_vars
from app.engine.engine import Engine, EventSink
from app.engine.plan import PlanError, RunPlan
from app.engine.thread import EngineThread
from app.engine.writer import ResultWriter

__all__ = [
    "Engine",
    "EngineThread",
    "EventSink",
    "PlanError",
    "ResultWriter",
    "RunPlan",
    "build_messages",
    "continue_messages",
    "render_vars",
    "system_text",
]
