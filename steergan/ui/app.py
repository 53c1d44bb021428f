"""The editor's web app: a JSON API over the library's edit functions, and the static page.

Every route calls the library (``methods.spatial.edits`` for heatmap ops and rendering,
``methods.link.edits`` / ``methods.semantic.edits`` for link and per-class ops and views,
``edit.drag`` for drags) and holds no edit logic. Errors are JSON ``{"error": "..."}``:
400 bad input (any ``UserError``), 404 unknown session or route, 409 a drag is running,
413 body too large, 422 malformed request, 429 too many drags at once.
"""
from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, Sequence

from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import UserError
from ..methods.state import EditState, start_state as method_start_state
from .catalog import ModelCatalog
from .checks import MAX_SEED, check_seed, check_state_fits, decode_mask, ws_rows
from .drag_jobs import DragJob, advanced_defaults, default_drag_factory
from .invert_jobs import MAX_INVERT_STEPS, MAX_PTI_STEPS, InversionSteps, decode_upload, invert_steps
from .method_views import VIEWS, model_info
from .middleware import MAX_BODY_BYTES, AllowedHosts, BodyLimit, SecurityHeaders
from .panels import apply_edit_ops, panels_for
from .sessions import SessionBusy, SessionNotFound, SessionStore
from .views import data_url, render_png, state_view

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
MAX_POINTS = 16


class TooBusy(Exception):
    pass


# ---------------------------------------------------------------------- request bodies

class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class NewSession(_Body):
    model: Optional[str] = Field(None, max_length=200)
    seed: int = Field(0, ge=0, lt=MAX_SEED)
    truncation: float = Field(1.0, ge=0.0, le=2.0)


class SeedBody(_Body):
    seed: int = Field(ge=0, lt=MAX_SEED)
    truncation: Optional[float] = Field(None, ge=0.0, le=2.0)


class LatentBody(_Body):
    seed: Optional[int] = Field(None, ge=0, lt=MAX_SEED)
    ws: Optional[list] = None               # W+ [num_ws][w_dim] or one w [w_dim]; checked against the model


class OpsBody(_Body):
    ops: list[dict]
    gesture: Optional[str] = Field(None, max_length=64)


Point = Annotated[list[float], Field(min_length=2, max_length=2)]     # (x, y) image pixels


class DragBody(_Body):
    handles: list[Point] = Field(min_length=1, max_length=MAX_POINTS)
    targets: list[Point] = Field(min_length=1, max_length=MAX_POINTS)
    mask: Optional[str] = None              # PNG data URL, R x R, painted = may move
    options: dict[str, Any] = Field(default_factory=dict)


class InvertBody(_Body):
    image: str = Field(max_length=MAX_BODY_BYTES)    # data:image/png|jpeg|webp;base64,...
    tune: bool = False                                  # then tune the generator (PTI)
    # None: the library's defaults (edit.invert), as the CLI has them
    steps: Optional[int] = Field(None, ge=0, le=MAX_INVERT_STEPS)     # 0: an encoder's guess is the pivot
    pti_steps: Optional[int] = Field(None, ge=0, le=MAX_PTI_STEPS)     # > 0 tunes, with or without ``tune``


# ---------------------------------------------------------------------- helpers

def start_state(model, seed: int, truncation: float, source: str) -> EditState:
    """A seed's latent, with the method's control (SpatialGAN: heatmaps) when it has one."""
    return method_start_state(model, seed, truncation, model_id=source)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    errs = exc.errors()
    if not errs:
        return "malformed request"
    e = errs[0]
    where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
    return f"{where}: {e.get('msg', 'invalid')}" + (f" (and {len(errs) - 1} more)" if len(errs) > 1 else "")


# ---------------------------------------------------------------------- the app

def create_app(models: Optional[Sequence[str]] = None, *, catalog: Optional[ModelCatalog] = None,
               device: str = "cpu", drag_factory: Any = "default", max_sessions: int = 32,
               max_drags: int = 2, drag_abandon_s: Optional[float] = 120.0, max_body_bytes: int = MAX_BODY_BYTES,
               allowed_hosts: Optional[Sequence[str]] = None, encoders: Optional[dict[str, str]] = None) -> FastAPI:
    """The editor app for ``models`` (bundled names or checkpoint paths; default: every bundled
    model). ``drag_factory(model, state, handles, targets, mask, options) -> DragSession``;
    "default" uses ``steergan.edit.drag``, None disables drags. ``allowed_hosts`` guards a
    loopback server against DNS rebinding (the CLI passes the host it binds). A drag nobody polls
    for ``drag_abandon_s`` seconds stops (its page went away without closing its session)."""
    catalog = catalog or ModelCatalog(models, device=device)
    for model_name, path in (encoders or {}).items():      # Open image starts from their guesses
        catalog.add_encoder(model_name, path)
    if drag_factory == "default":
        drag_factory = default_drag_factory()
    store = SessionStore(max_sessions=max_sessions)
    drag_start_lock = threading.Lock()
    off = () if drag_factory is not None else ("drag",)

    @asynccontextmanager
    async def lifespan(_app):
        yield
        store.close()                       # stop running drags on shutdown
        catalog.close()                     # and remove the generators tuned to uploads

    app = FastAPI(title="steergan editor", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.catalog, app.state.store = catalog, store

    # -------------------------------------------------------------- errors -> JSON
    @app.exception_handler(UserError)
    async def _user_error(_r: Request, e: UserError):
        return _error(400, str(e))

    @app.exception_handler(SessionNotFound)
    async def _no_session(_r: Request, e: SessionNotFound):
        return _error(404, "no such session (it may have expired); reload the page")

    @app.exception_handler(SessionBusy)
    async def _busy(_r: Request, e: SessionBusy):
        return _error(409, str(e))

    @app.exception_handler(TooBusy)
    async def _too_busy(_r: Request, e: TooBusy):
        return _error(429, str(e))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, e: RequestValidationError):
        return _error(422, _validation_message(e))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, e: StarletteHTTPException):
        return _error(e.status_code, str(e.detail))

    @app.exception_handler(Exception)
    async def _bug(_r: Request, e: Exception):
        log.exception("unexpected error")
        return _error(500, f"internal error ({type(e).__name__})")

    # -------------------------------------------------------------- views
    def describe(model_id: str) -> dict:
        d = catalog.describe(model_id)
        d["panels"] = panels_for(d["capabilities"], off)
        d.update(model_info(catalog.get(model_id)))         # links / classes of the method panels
        return d

    def png_of(s) -> bytes:
        """The session's image, rendered once per state version."""
        if s.png is None or s.png[0] != s.version:
            s.png = (s.version, render_png(catalog.get(s.model_id), s.state))
        return s.png[1]

    def view(s) -> dict:
        with s.lock:
            return {"id": s.id, "version": s.version, "model": describe(s.model_id),
                    "can_undo": bool(s.undo_stack), "can_redo": bool(s.redo_stack),
                    "drag": None if s.drag is None else s.drag.view(since=1 << 62),
                    "state": state_view(s.state), "image": data_url(png_of(s))}

    def edit(sid: str, change: Callable, gesture: Optional[str] = None) -> dict:
        """Apply ``change(session, model) -> (model_id, state)`` and commit it (one undo step)."""
        s = store.get(sid)
        with s.lock:
            s.require_idle()
            model_id, state = change(s, catalog.get(s.model_id))
            check_state_fits(catalog.get(model_id), state)
            s.commit(model_id, state, gesture)
            return view(s)

    # -------------------------------------------------------------- page
    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC_DIR / "index.html", headers={"cache-control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz")
    def healthz():
        return {"ok": True, "sessions": len(store), "drags": store.running_drags()}

    @app.get("/api/models")
    def list_models():
        return {"models": [describe(i) for i in catalog.public_ids()], "default": catalog.default_id,
                "drag": drag_factory is not None, "drag_advanced": advanced_defaults() if drag_factory else {}}

    # -------------------------------------------------------------- sessions
    @app.post("/api/sessions", status_code=201)
    def new_session(body: NewSession = Body(default_factory=NewSession)):
        model_id = body.model or catalog.default_id
        model = catalog.get(model_id)
        state = start_state(model, body.seed, body.truncation, catalog.entries[model_id].source)
        return view(store.create(model_id, state))

    @app.get("/api/sessions/{sid}")
    def get_session(sid: str):
        return view(store.get(sid))

    @app.delete("/api/sessions/{sid}", status_code=204)
    def delete_session(sid: str):
        store.delete(sid)
        return Response(status_code=204)

    @app.post("/api/sessions/{sid}/close", status_code=204)
    def close_session(sid: str):
        """DELETE for ``navigator.sendBeacon`` (POST only): the page sends it when it goes away
        (reload, close, navigation), which also stops the session's drag."""
        store.delete(sid)
        return Response(status_code=204)

    @app.post("/api/sessions/{sid}/seed")
    def set_seed(sid: str, body: SeedBody):
        """A new image: the seed's latent and layout."""
        def change(s, model):
            t = s.state.truncation if body.truncation is None else body.truncation
            return s.model_id, start_state(model, body.seed, t, catalog.entries[s.model_id].source)
        return edit(sid, change)

    @app.post("/api/sessions/{sid}/latent")
    def set_latent(sid: str, body: LatentBody):
        """A new latent (a seed's, or uploaded W+), same layout (SpatialGAN Fig. 9c)."""
        if (body.seed is None) == (body.ws is None):
            raise UserError("give exactly one of seed and ws")

        def change(s, model):
            if body.seed is not None:
                return s.model_id, replace(s.state, seed=check_seed(body.seed), ws=None)
            return s.model_id, replace(s.state, seed=None, ws=ws_rows(model, body.ws))
        return edit(sid, change)

    @app.post("/api/sessions/{sid}/ops")
    def apply_ops(sid: str, body: OpsBody):
        """Edit ops (heatmap, ``resample_link``, ``set_code``; ``panels``); ops sharing a ``gesture``
        are one undo step."""
        return edit(sid, lambda s, model: (s.model_id, apply_edit_ops(model, s.state, body.ops)), body.gesture)

    def step_history(sid: str, move: str):
        """Undo or redo (``Session.undo`` / ``redo``) once no job runs on the session."""
        s = store.get(sid)
        with s.lock:
            s.require_idle()
            getattr(s, move)()
            return view(s)

    @app.post("/api/sessions/{sid}/undo")
    def undo(sid: str):
        return step_history(sid, "undo")

    @app.post("/api/sessions/{sid}/redo")
    def redo(sid: str):
        return step_history(sid, "redo")

    @app.get("/api/sessions/{sid}/image.png")
    def image_png(sid: str):
        s = store.get(sid)
        with s.lock:
            png = png_of(s)
        return Response(png, media_type="image/png", headers={
            "cache-control": "no-store", "content-disposition": f'inline; filename="steergan-{s.model_id}.png"'})

    @app.get("/api/sessions/{sid}/state")
    def export_state(sid: str):
        """The edit state JSON, the same format ``steergan edit --state`` reads."""
        s = store.get(sid)
        with s.lock:
            return JSONResponse(s.state.to_dict(), headers={
                "cache-control": "no-store", "content-disposition": 'attachment; filename="state.json"'})

    @app.put("/api/sessions/{sid}/state")
    def import_state(sid: str, body: Any = Body(...)):
        def change(s, _model):
            state = EditState.from_dict(body)
            model_id = catalog.id_for_state(state.model)
            return model_id, replace(state, model=catalog.entries[model_id].source)
        return edit(sid, change)

    # -------------------------------------------------------------- method panels (views of the state)
    def method_view(sid: str, name: str, make: Callable) -> dict:
        """``make(model, state)`` for the session's current state, once per state version."""
        s = store.get(sid)
        with s.lock:
            value = s.cached(name, lambda: make(catalog.get(s.model_id), s.state))
            return {"version": s.version, **value}

    @app.get("/api/sessions/{sid}/views/{name}")
    def state_view_route(sid: str, name: str):
        """A picture of the current state that the model's method declares (``Method.views``:
        LinkGAN's link regions, SemanticStyleGAN's class layers and build-up), once per state version."""
        s = store.get(sid)
        declared = catalog.get(s.model_id).method.views
        if name not in declared or name not in VIEWS:
            raise UserError(f"this model has no view {name!r}; its views: {', '.join(declared) or 'none'}")
        return method_view(sid, name, VIEWS[name])

    # the routes before the generic one (kept for clients of the earlier API)
    @app.get("/api/sessions/{sid}/link/regions")
    def link_regions_view(sid: str):
        return state_view_route(sid, "link_regions")

    @app.get("/api/sessions/{sid}/semantic/layers")
    def semantic_layers_view(sid: str):
        return state_view_route(sid, "semantic_layers")

    @app.get("/api/sessions/{sid}/semantic/build_up")
    def build_up_view(sid: str):
        return state_view_route(sid, "build_up")

    # -------------------------------------------------------------- stepped jobs: drags and inversions
    def start_job(sid: str, build: Callable, handles: list, targets: list, max_steps: Optional[int] = None,
                  finish: Optional[Callable] = None) -> dict:
        """Run ``build(model, source) -> stepped session`` as the session's job (one per session,
        ``max_drags`` per server); its final state commits as one undo step, on the session's model
        or on the one ``finish(job, model_id, source) -> (model_id, source)`` names."""
        s = store.get(sid)
        with s.lock, drag_start_lock:
            s.require_idle()
            if store.running_drags() >= max_drags:
                raise TooBusy(f"{max_drags} drags are running on this server (an inversion counts as one); "
                              "try again when one ends")
            model_id, source = s.model_id, catalog.entries[s.model_id].source
            job = build(catalog.get(model_id), source)

            def commit(state: EditState) -> None:
                mid, src = (model_id, source) if finish is None else finish(job, model_id, source)
                s.commit(mid, replace(state, model=src))
            steps = getattr(job, "total_steps", None) or getattr(getattr(job, "options", None), "max_steps", max_steps)
            s.drag = DragJob(job, commit, s.lock, handles, targets, steps, drag_abandon_s).start()
            if sid not in store:              # closed while the job was being built (page reloaded)
                s.drag.stop()
            return s.drag.view()

    @app.post("/api/sessions/{sid}/drag", status_code=202)
    def drag_start(sid: str, body: DragBody):
        if drag_factory is None:
            raise UserError("drag editing is not available in this installation")

        def build(model, source):
            mask = decode_mask(body.mask, model.resolution)
            return drag_factory(model, store.get(sid).state, body.handles, body.targets, mask, dict(body.options))
        return start_job(sid, build, body.handles, body.targets, body.options.get("max_steps"))

    @app.post("/api/sessions/{sid}/invert", status_code=202)
    def invert_start(sid: str, body: InvertBody):
        """Open image: invert an uploaded picture into the session's model as a stoppable job."""
        def on_tuned_model(job, model_id, source):
            """With PTI, the state renders with the tuned generator: a new model of this server."""
            G = job.tuned()
            if G is None:
                return model_id, source
            new_id = catalog.add_tuned(model_id, G, store.model_ids_in_use())
            return new_id, catalog.entries[new_id].source

        def build(model, source):
            encoder = catalog.encoder_for(source)
            pti_steps, steps = invert_steps(body.tune, body.steps, body.pti_steps, encoder is not None)
            if pti_steps:
                catalog.require_room(store.model_ids_in_use())
            return InversionSteps(model, decode_upload(body.image, model.resolution), steps, source, pti_steps,
                                  encoder)
        return start_job(sid, build, [], [], None, on_tuned_model)

    @app.get("/api/sessions/{sid}/generator")
    def tuned_generator(sid: str):
        """The generator an Open image with tuning made (fp16 safetensors, ``steergan`` reads it);
        save it next to the exported state (same folder) and the CLI finds it."""
        s = store.get(sid)
        with s.lock:
            entry = catalog.entries.get(s.model_id)
        if entry is None or entry.tuned_from is None:
            raise UserError("this session's model is not a generator tuned to an uploaded image "
                            "(Open image with tuning makes one)")
        path = Path(entry.source)
        return FileResponse(path, media_type="application/octet-stream", filename=path.name,
                            headers={"cache-control": "no-store"})

    @app.get("/api/sessions/{sid}/invert")
    def invert_status(sid: str, since: Optional[int] = None):
        return drag_status(sid, since)

    @app.post("/api/sessions/{sid}/invert/stop")
    def invert_stop(sid: str):
        return drag_stop(sid)

    @app.get("/api/sessions/{sid}/drag/animation.gif")
    def drag_gif(sid: str):
        """The last drag (or inversion) of the session, step by step, as a GIF."""
        s = store.get(sid)
        if s.drag is None:
            raise UserError("this session has not run a drag yet")
        return Response(s.drag.gif(), media_type="image/gif",
                        headers={"Content-Disposition": 'attachment; filename="steergan-drag.gif"'})

    @app.get("/api/sessions/{sid}/drag")
    def drag_status(sid: str, since: Optional[int] = None):
        s = store.get(sid)
        return {"status": "idle"} if s.drag is None else s.drag.view(since)

    @app.post("/api/sessions/{sid}/drag/stop")
    def drag_stop(sid: str):
        s = store.get(sid)
        if s.drag is None:
            return {"status": "idle"}
        s.drag.stop()
        return s.drag.view()

    # -------------------------------------------------------------- middleware (outermost last)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    if allowed_hosts:
        app.add_middleware(AllowedHosts, hosts=list(allowed_hosts))
    app.add_middleware(SecurityHeaders)
    return app
