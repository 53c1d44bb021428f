"""The models one editor server may load: the bundled ones, or those given on the command line.

Nothing a client sends can name a file: clients pick a model by the id this catalog gives
it, and an imported edit state must name one of the models already offered.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from ..errors import UserError
from ..models import SteerModel, bundled_models, load_model
from .panels import panels_for


@dataclass
class CatalogEntry:
    id: str                  # what the page shows and sends
    source: str              # bundled name, or the absolute checkpoint path (what edit states record)
    description: str = ""


class ModelCatalog:
    """id -> model, loaded once and shared by every session (generators are read-only here)."""

    def __init__(self, sources: Optional[Sequence[str]] = None, device: str = "cpu", eager: bool = True):
        bundled = bundled_models()
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
        for e in self.entries.values():
            if bare in (e.id, e.source):
                return e.id
        try:
            resolved = str(Path(bare).expanduser().resolve())
        except (OSError, RuntimeError, ValueError):
            resolved = None
        for e in self.entries.values():
            if resolved == e.source:
                return e.id
        raise UserError(f"this edit state is for model {name!r}, which this server does not offer "
                        f"(it offers {', '.join(self.entries)})")

    def describe(self, model_id: str) -> dict:
        m, e = self.get(model_id), self.entries[model_id]
        caps = list(m.capabilities)
        return {"id": e.id, "source": e.source, "description": e.description, "method": m.method.name,
                "resolution": m.resolution, "capabilities": caps, "panels": panels_for(caps)}

    def describe_all(self) -> list[dict]:
        return [self.describe(i) for i in self.entries]
