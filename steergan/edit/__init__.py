"""Editing on top of the methods: overlays and edit pipelines shared by the CLI and the editor."""
from .overlay import heatmap_overlay

__all__ = ["heatmap_overlay"]
