"""Editor sessions: one edit state per browser tab, with undo/redo, isolated by random ids.

A session's history holds ``(model id, EditState)`` snapshots. Consecutive edits sent with
the same ``gesture`` id (one mouse drag, one slider pull) replace each other, so a gesture is
one undo step however many frames it sent. The store keeps a bounded number of sessions
and drops the least recently used (stopping its drag) when full or idle too long.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

from ..errors import UserError
from ..methods.state import EditState

HISTORY = 100                      # undo steps kept per session


class SessionNotFound(Exception):
    pass


class SessionBusy(Exception):
    """The session is running a drag; edits wait until it is stopped or done."""


@dataclass
class Session:
    id: str
    model_id: str
    state: EditState
    undo_stack: list = field(default_factory=list)
    redo_stack: list = field(default_factory=list)
    gesture: Optional[str] = None
    version: int = 0                       # bumped on every change; the page drops older replies
    drag: object = None                    # the current or last DragJob
    png: Optional[tuple] = None            # (version, PNG bytes) of the last render
    views: dict = field(default_factory=dict)   # name -> (version, value): method views of the state
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def require_idle(self) -> None:
        if self.drag is not None and self.drag.running:
            raise SessionBusy("a drag is running in this session; stop it first")

    def cached(self, name: str, make):
        """``make()`` for the current state, computed once per state version (call under ``lock``)."""
        hit = self.views.get(name)
        if hit is None or hit[0] != self.version:
            self.views[name] = hit = (self.version, make())
        return hit[1]

    def commit(self, model_id: str, state: EditState, gesture: Optional[str] = None) -> None:
        """Make ``state`` current; a new undo step unless it continues the last gesture."""
        if gesture is None or gesture != self.gesture:
            self.undo_stack.append((self.model_id, self.state))
            del self.undo_stack[:-HISTORY]
        self.redo_stack.clear()
        self.model_id, self.state, self.gesture = model_id, state, gesture
        self.version += 1

    def undo(self) -> None:
        self._swap(self.undo_stack, self.redo_stack, "undo")

    def redo(self) -> None:
        self._swap(self.redo_stack, self.undo_stack, "redo")

    def _swap(self, source: list, dest: list, what: str) -> None:
        if not source:
            raise UserError(f"nothing to {what}")
        dest.append((self.model_id, self.state))
        self.model_id, self.state = source.pop()
        self.gesture = None
        self.version += 1


class SessionStore:
    def __init__(self, max_sessions: int = 32, idle_seconds: float = 3600.0):
        self.max_sessions, self.idle_seconds = max_sessions, idle_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, sid: str) -> bool:
        with self._lock:
            return sid in self._sessions

    def create(self, model_id: str, state: EditState) -> Session:
        s = Session(secrets.token_urlsafe(16), model_id, state)
        with self._lock:
            self._expire()
            while len(self._sessions) >= self.max_sessions:
                oldest = min(self._sessions.values(), key=lambda x: x.last_used)
                self._drop(oldest.id)
            self._sessions[s.id] = s
        return s

    def get(self, sid: str) -> Session:
        with self._lock:
            s = self._sessions.get(sid)
            if s is None:
                raise SessionNotFound(sid)
            s.last_used = time.monotonic()
            return s

    def delete(self, sid: str) -> None:
        with self._lock:
            if sid not in self._sessions:
                raise SessionNotFound(sid)
            self._drop(sid)

    def model_ids_in_use(self) -> set[str]:
        """Every model id a live session shows or can undo / redo to."""
        with self._lock:
            sessions = list(self._sessions.values())
        return {mid for s in sessions for mid in [s.model_id, *(m for m, _ in s.undo_stack + s.redo_stack)]}

    def running_drags(self) -> int:
        with self._lock:
            return sum(1 for s in self._sessions.values() if s.drag is not None and s.drag.running)

    def close(self, timeout: float = 10.0) -> None:
        """Drop every session; running drags stop after their current step (waited for)."""
        with self._lock:
            jobs = [s.drag for s in self._sessions.values() if s.drag is not None]
            for sid in list(self._sessions):
                self._drop(sid)
        for job in jobs:
            job.join(timeout)

    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [k for k, s in self._sessions.items() if now - s.last_used > self.idle_seconds]:
            self._drop(sid)

    def _drop(self, sid: str) -> None:
        s = self._sessions.pop(sid)
        if s.drag is not None:
            s.drag.stop()
