"""The models one editor server may load: the bundled ones, or those given on the command line,
and the generators its inversions tuned (PTI) to an uploaded picture.

Nothing a client sends can name a file: clients pick a model by the id this catalog gives
it, and an imported edit state must name one of the models already offered. A tuned generator
is written by the server into its own temporary folder under an unguessable id, listed to no
one (``public_ids``), used by the session that made it, and dropped (file and model) once no
live session's history refers to it and room is needed; the folder goes when the server stops.
"""
from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from ..errors import UserError
from ..models import SteerModel, bundled_models, load_model
from .panels import panels_for


@dataclass
class CatalogEntry:
    id: str                  # what the page shows and sends
    source: str              # bundled name, or the absolute checkpoint path (what edit states record)
    description: str = ""
    tuned_from: Optional[str] = None     # a tuned generator: the id of the model it was tuned from
    root: Optional[str] = None           # ... and of the offered model at the start of that chain


class ModelCatalog:
    """id -> model, loaded once and shared by every session (generators are read-only here)."""

    def __init__(self, sources: Optional[Sequence[str]] = None, device: str = "cpu", eager: bool = True,
                 max_tuned: int = 16):
        bundled = bundled_models()
        self.max_tuned, self._tuned_dir = max_tuned, None
        self.device = device
        self.entries: dict[str, CatalogEntry] = {}
        for src in (list(sources) if sources else list(bundled)):
            if src in bundled:
                entry = CatalogEntry(src, src, bundled[src].get("description", ""))
            else:
                path = Path(src).expanduser()
                if not path.exists():
                    raise UserError(f"checkpoint {src} does not exist")
                path = path.resolve()
                entry = CatalogEntry(self._free_id(path.stem if path.is_file() else path.name), str(path))
            if any(e.source == entry.source for e in self.entries.values()):
                continue
            self.entries[entry.id] = entry
        if not self.entries:
            raise UserError("no models to serve: no bundled model is installed and no --ckpt was given")
        self._models: dict[str, SteerModel] = {}
        self._encoders: dict[str, object] = {}     # model id -> its inversion encoder (``add_encoder``)
        self._lock = threading.Lock()
        if eager:                      # a broken checkpoint fails at start-up, not on the first click
            for model_id in self.entries:
                self.get(model_id)

    def _free_id(self, stem: str) -> str:
        name, n = stem or "model", 2
        while name in self.entries:
            name, n = f"{stem}-{n}", n + 1
        return name

    @property
    def default_id(self) -> str:
        return next(iter(self.entries))

    def public_ids(self) -> list[str]:
        """The models offered to every page (tuned generators are not)."""
        return [i for i, e in self.entries.items() if e.tuned_from is None]

    def add_tuned(self, base_id: str, G, in_use: Iterable[str]) -> str:
        """Register ``G``, tuned from ``base_id``'s generator, as a new model: its fp16 file goes in
        the server's folder and the model is loaded back from that file, so what the editor renders
        is what the file holds. ``in_use``: ids some live session refers to; other tuned models
        are dropped first when ``max_tuned`` are held. Returns the new id."""
        from ..edit.invert import save_tuned
        base = self.get(base_id)
        with self._lock:
            self._make_room(set(in_use))
            if self._tuned_dir is None:
                self._tuned_dir = Path(tempfile.mkdtemp(prefix="steergan-tuned-"))
            model_id = f"{base_id}-pti-{secrets.token_hex(6)}"
            path = save_tuned(base, G, self._tuned_dir / f"{model_id}.safetensors").resolve()
            self._models[model_id] = load_model(str(path), device=self.device)
            self.entries[model_id] = CatalogEntry(model_id, str(path), f"{base_id} tuned to an uploaded image (PTI)",
                                                  tuned_from=base_id, root=self.entries[base_id].root or base_id)
        return model_id

    def _tuned_ids(self) -> list[str]:
        return [i for i, e in self.entries.items() if e.tuned_from is not None]      # oldest first

    def require_room(self, in_use: Iterable[str]) -> None:
        """Refuse (before the work) a tuning whose generator ``add_tuned`` could not keep."""
        with self._lock:
            self._refuse_if_full(set(self._tuned_ids()) & set(in_use))

    def _refuse_if_full(self, kept: set) -> None:
        if len(kept) >= self.max_tuned:
            raise UserError(f"this server holds {self.max_tuned} tuned generators that open sessions use; "
                            "close a tab, or open the image without tuning")

    def _make_room(self, keep: set) -> None:
        """Drop tuned generators no live session refers to, oldest first, until one more fits."""
        tuned = self._tuned_ids()
        for old in [i for i in tuned if i not in keep][:max(0, len(tuned) - self.max_tuned + 1)]:
            self._drop_tuned(old)
        self._refuse_if_full(set(self._tuned_ids()))

    def _drop_tuned(self, model_id: str) -> None:
        entry = self.entries.pop(model_id)
        self._models.pop(model_id, None)
        Path(entry.source).unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the tuned generators' folder (the server is stopping)."""
        with self._lock:
            if self._tuned_dir is not None:
                shutil.rmtree(self._tuned_dir, ignore_errors=True)
                self._tuned_dir = None
            for i in self._tuned_ids():
                self.entries.pop(i)
                self._models.pop(i, None)

    def add_encoder(self, model: str, path: str) -> None:
        """Give a model (its id, bundled name or path) an encoder (``steergan train-encoder``): Open
        image then starts from its guess. Checked to fit the model here, at start-up."""
        from ..edit.encoder import load_encoder
        model_id = self.id_for_state(model)
        if self.entries[model_id].tuned_from is not None:
            raise UserError(f"{model!r} is a tuned generator; give the encoder to the model it was tuned from")
        m = self.get(model_id)
        self._encoders[model_id] = load_encoder(Path(path).expanduser(), m).to(m.device)

    def encoder_for(self, source: str):
        """The encoder of the model whose edit states name ``source`` (None without one). A tuned
        generator keeps the one of the model its tuning started from: tuning changed it near one
        pivot only."""
        for model_id, e in list(self.entries.items()):        # another tab may add or drop one
            if e.source == source:
                return self._encoders.get(e.root or model_id)
        return None

    def get(self, model_id: str) -> SteerModel:
        if model_id not in self.entries:
            raise UserError(f"unknown model {model_id!r}; this server offers {', '.join(self.entries)}")
        with self._lock:
            if model_id not in self._models:
                self._models[model_id] = load_model(self.entries[model_id].source, device=self.device)
            return self._models[model_id]

    def id_for_state(self, name: str) -> str:
        """The catalog id an edit state's ``model`` field refers to (id, bundled name, or path)."""
        if not isinstance(name, str):
            raise UserError("edit state needs a model id")
        bare = name[len("bundled:"):] if name.startswith("bundled:") else name
        for e in list(self.entries.values()):                 # another tab may add or drop one
            if bare in (e.id, e.source):
                return e.id
        try:
            resolved = str(Path(bare).expanduser().resolve())
        except (OSError, RuntimeError, ValueError):
            resolved = None
        for e in list(self.entries.values()):
            if resolved == e.source:
                return e.id
        raise UserError(f"this edit state is for model {name!r}, which this server does not offer "
                        f"(it offers {', '.join(self.entries)})")

    def describe(self, model_id: str) -> dict:
        m, e = self.get(model_id), self.entries[model_id]
        caps = list(m.capabilities)
        return {"id": e.id, "source": e.source, "description": e.description, "method": m.method.name,
                "resolution": m.resolution, "capabilities": caps, "panels": panels_for(caps),
                "tuned_from": e.tuned_from, "encoder": (e.root or model_id) in self._encoders}

