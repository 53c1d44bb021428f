"""Drag edits (and inversions) off the request thread: a worker steps a ``DragSession`` (or an
``invert_jobs.InversionSteps``) until done or stopped.

The session object is built in the request (so bad points, masks or modes are a 400 at once)
and follows ``steergan.edit.drag.DragSession``: ``step() -> {"step", "done", "handles",
"distance"}``, ``done``, ``image() -> uint8 [3, R, R]``, ``state() -> EditState``. After every
step the job keeps the latest PNG for the page's polls; when it ends (done, stopped or
failed) it commits the final state to the editor session as one undo step, with its outcome
(reached / stalled / lost / step cap / stopped / abandoned). A drag nobody has asked about for
``abandon_after`` seconds (its page is gone without saying so) stops by itself.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import fields
from typing import Callable, Optional

from ..errors import UserError
from .views import data_url, png_bytes

log = logging.getLogger(__name__)
MAX_DRAG_STEPS = 2000
MAX_FRAMES = 120                  # frames kept for the drag's GIF (evenly thinned beyond this)


def default_drag_factory() -> Optional[Callable]:
    """(model, state, handles, targets, mask, options: dict) -> DragSession, or None when the
    drag module is not installed (the page then hides the drag panel)."""
    try:
        from ..edit.drag import DragOptions, DragSession
    except ImportError:
        return None

    def make(model, state, handles, targets, mask, options: dict):
        known = {f.name for f in fields(DragOptions)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UserError(f"unknown drag option(s) {unknown}; known: {', '.join(sorted(known))}")
        steps = options.get("max_steps", DragOptions.max_steps)
        if isinstance(steps, int) and steps > MAX_DRAG_STEPS:
            raise UserError(f"max_steps is at most {MAX_DRAG_STEPS} in the editor, got {steps}")
        return DragSession(model, state, handles, targets, mask, DragOptions(**options))

    return make


# the drag options a researcher tunes, offered under "advanced" in the page (defaults from DragOptions)
ADVANCED = {"lr": "step size (Adam on W+)", "r1": "motion supervision radius, px",
            "r2": "tracking window half-size, px", "tolerance": "done within, px",
            "lambda_mask": "weight of keeping the unmasked area", "max_jump": "lost if tracking jumps more than, px"}


def advanced_defaults() -> dict:
    """{option: {"default", "label"}} for the page's advanced drag options (empty without edit.drag)."""
    try:
        from ..edit.drag import DragOptions
    except ImportError:
        return {}
    d = DragOptions()
    return {k: {"default": getattr(d, k), "label": label} for k, label in ADVANCED.items()}


class DragJob:
    """One drag running in a daemon thread; ``stop()`` takes effect between two steps."""

    def __init__(self, drag_session, commit: Callable, lock: threading.RLock,
                 handles: list, targets: list, max_steps: Optional[int] = None,
                 abandon_after: Optional[float] = None):
        self._ds, self._commit, self._session_lock = drag_session, commit, lock
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.status = "running"               # running | done | stopped | error
        self.outcome = None                   # when over: reached | stalled | lost | step cap | ended | stopped | abandoned
        self.step, self.distance, self.error = 0, None, None
        self.extra: dict = {}                 # what else a step reports (an inversion's "psnr")
        self.abandon_after, self._seen, self._abandoned = abandon_after, time.monotonic(), False
        self.handles, self.targets, self.max_steps = handles, targets, max_steps
        self.requested = [list(h) for h in handles]      # the arrows the GIF draws
        first = drag_session.image()
        self._png = png_bytes(first)
        self.frames = [first.cpu()]           # uint8 [3, R, R] per step, for the GIF download
        self._thread = threading.Thread(target=self._run, name="steergan-drag", daemon=True)

    def start(self) -> "DragJob":
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self.status == "running"

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: Optional[float] = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        ds = self._ds
        try:
            while not self._stop.is_set() and not ds.done:
                if self.abandon_after and time.monotonic() - self._seen > self.abandon_after:
                    self._abandoned = True
                    self._stop.set()
                    break
                info = ds.step()
                img = ds.image()
                png = png_bytes(img)
                with self._lock:
                    self.step = int(info["step"])
                    self.distance = None if info.get("distance") is None else float(info["distance"])
                    self.handles, self._png = info["handles"], png
                    self.frames.append(img.cpu())
                    if len(self.frames) > MAX_FRAMES:    # keep the first, every other one, and the newest
                        self.frames = self.frames[:1] + self.frames[2::2]
                    self.extra = {k: v for k, v in info.items() if k not in ("step", "done", "handles", "distance")}
            final = ds.state()
            stopped = self._stop.is_set() and not ds.done
            outcome = ("abandoned" if self._abandoned else "stopped") if stopped else self._outcome(ds)
            with self._session_lock:          # commit and finish together: no edit slips between
                self._commit(final)
                self.outcome = outcome
                self.status = "stopped" if stopped else "done"
        except UserError as e:
            self._fail(str(e))
        except Exception as e:                # a bug in a drag must not take the server down
            log.exception("drag failed")
            self._fail(f"the drag failed ({type(e).__name__}: {e})")

    def _outcome(self, ds) -> str:
        """How a drag that ended by itself ended (``DragSession.summary``; "ended" without one)."""
        summary = getattr(ds, "summary", None)
        if not callable(summary):
            return "ended"
        s = summary()
        if s.get("outcome"):                  # a job that names its own ending (an inversion)
            return str(s["outcome"])
        if s.get("lost"):
            return "lost"
        if s.get("reached"):
            return "reached"
        if s.get("stalled"):
            return "stalled"
        if self.max_steps is not None and self.step >= self.max_steps:
            return "step cap"
        return "ended"

    def _fail(self, message: str) -> None:
        with self._session_lock:
            self.error, self.status = message, "error"

    def gif(self, scale: int = 4) -> bytes:
        """The job's steps as a looping GIF, handles and targets drawn (``edit.animation``)."""
        import io
        from ..edit.animation import drag_frame, save_gif
        with self._lock:
            frames = list(self.frames)
        buf = io.BytesIO()
        save_gif([drag_frame(f, self.requested, self.targets, scale) for f in frames], buf)
        return buf.getvalue()

    def view(self, since: Optional[int] = None) -> dict:
        """Progress for a poll; the image only when newer than step ``since``."""
        with self._lock:
            self._seen = time.monotonic()
            out = {"status": self.status, "step": self.step, "max_steps": self.max_steps,
                   "distance": self.distance, "handles": self.handles, "targets": self.targets,
                   "error": self.error, "outcome": self.outcome, **self.extra}
            if since is None or self.step > since or not self.running:
                out["image"] = data_url(self._png)
        return out
