"""Editing on top of the methods: overlays and edit pipelines shared by the CLI and the editor."""
from .drag import DragOptions, DragSession, initial_state
from .overlay import heatmap_overlay

__all__ = ["heatmap_overlay", "DragOptions", "DragSession", "initial_state"]
