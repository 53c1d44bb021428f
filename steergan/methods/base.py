"""The interface every control method implements, and the registry that finds them.

A method decides (1) which control state it samples for a batch (heatmaps, linked axes,
per-class codes), (2) how that state reaches synthesis layers (an adapter factory),
(3) which loss terms it adds to G and D, and (4) which edits it supports. The trainer,
checkpoints, metrics, CLI and editor are written once against this interface.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Optional

import torch
from torch import nn

from ..errors import UserError
from ..nn import DEFAULT_DISCRIMINATOR, AdapterFactory, ArchConfig, Generator, build_discriminator


@dataclass(frozen=True)
class EditOp:
    """One edit a method offers: an op dict ``{"op": name, ...}`` applied to an ``EditState``.

    ``capability``: what a model needs for it (a capability name, or a function of the op for
    ops whose need depends on an argument, e.g. set_code's "part"). ``apply``: "module:function"
    of the method's edit code, ``f(state, op, model) -> EditState``, imported when first used
    (edit code may import heavier things than the method). ``seeded``: the op's "seed" names a
    donor sample (checked to lie in [0, 2^32))."""

    name: str
    capability: Any
    apply: str
    seeded: bool = False

    def needs(self, op: dict) -> str:
        return self.capability(op) if callable(self.capability) else self.capability

    def __call__(self, state, op: dict, model):
        import importlib
        module, func = self.apply.split(":")
        return getattr(importlib.import_module(module), func)(state, op, model)


@dataclass
class LossContext:
    """What a method's loss terms can look at during one training phase."""

    G: nn.Module
    D: nn.Module
    step: int
    real: Optional[torch.Tensor] = None
    fake: Optional[torch.Tensor] = None
    ws: Optional[torch.Tensor] = None
    control: Any = None
    augment: Any = None            # callable image -> augmented image (or identity)
    extras: dict = field(default_factory=dict)


class Method:
    """Baseline behaviour (plain StyleGAN2); subclasses override what they add."""

    name: ClassVar[str] = "base"
    capabilities: ClassVar[tuple[str, ...]] = ()
    edit_ops: ClassVar[tuple[EditOp, ...]] = ()     # the edits this method owns (see EditOp)
    # the pictures of a state the editor draws for this method, by name (the ui layer renders
    # each: ui/method_views.VIEWS); heatmap centres come with every state view
    views: ClassVar[tuple[str, ...]] = ()
    has_heatmaps: ClassVar[bool] = False            # its control (and edit state) carries heatmaps

    def __init__(self, **options):
        if options:
            raise UserError(f"method {self.name!r} takes no options, got {sorted(options)}")

    # --- configuration ---
    def options(self) -> dict:
        return {}

    def to_dict(self) -> dict:
        return {"name": self.name, "options": self.options()}

    # --- networks ---
    def adapter_factory(self, arch: ArchConfig) -> Optional[AdapterFactory]:
        return None

    def build_generator(self, arch: ArchConfig) -> Generator:
        return Generator(arch, self.adapter_factory(arch))

    def d_cond_channels(self) -> int:
        """Control planes D sees after RGB (``real_for_d`` / ``fake_for_d``); 0: the image alone."""
        return 0

    def load_training_aids(self, device) -> None:
        """Load the frozen networks this method's losses read (segmenters), so that a bad file is
        a ``UserError`` before a training writes anything. Default: none."""

    def check_discriminator(self, kind: str) -> None:
        """Raise ``UserError`` if this method's losses cannot work with D of this kind (e.g.
        GradCAM alignment reads the StyleGAN2 D's block features)."""

    def build_discriminator(self, arch: ArchConfig, kind: str = DEFAULT_DISCRIMINATOR) -> nn.Module:
        self.check_discriminator(kind)
        return build_discriminator(kind, arch, self.d_cond_channels())

    # --- control state ---
    def sample_control(self, batch: int, G: Generator, device: torch.device,
                       generator: Optional[torch.Generator] = None) -> Any:
        return None

    def start_control(self, model, seed: int, truncation: float = 1.0) -> Any:
        """The editable control of a seed's edit state (``methods.state.start_state``), on the CPU;
        None for methods whose edits live in W+ alone."""
        return None

    def collate_control(self, controls: list) -> Any:
        """Stack per-sample control states (from ``sample_control(1, ...)``) into a batch."""
        return None

    # --- what D judges; the defaults (D sees the image alone) are StyleGAN2's ---
    uses_masks: ClassVar[bool] = False   # the trainer loads the dataset's label maps for real_for_d
    mask_kind: ClassVar[str] = "semantic"   # which maps: "semantic" (class ids) or "instances"

    def training_masks(self, load: Callable[[str], tuple[torch.Tensor, list[str]]]) -> torch.Tensor:
        """The maps ``real_for_d`` reads, uint8 [N, R, R], from the dataset's ``load(kind) -> (maps,
        class names)``; by default the ``mask_kind`` maps (and ``bind_classes`` for semantic ones)."""
        masks, classes = load(self.mask_kind)
        if self.mask_kind == "semantic":
            self.bind_classes(list(classes))
        return masks

    def bind_classes(self, classes: list[str]) -> None:
        """The class names of the dataset's label maps (called when ``uses_masks``)."""

    def bind_masks(self, masks: torch.Tensor) -> None:
        """Every label map of the dataset, uint8 [N, R, R] (called once when ``uses_masks``),
        for methods that draw their control states from the data's statistics."""

    def real_for_d(self, images: torch.Tensor, masks: Optional[torch.Tensor]) -> torch.Tensor:
        """A real batch as D sees it: images [N, 3, R, R] in [-1, 1] and, when ``uses_masks``,
        label maps [N, R, R] (class ids). Extra channels go after RGB; augmentation applies its
        geometric ops to every channel and its colour ops to RGB only."""
        return images

    def fake_for_d(self, G: nn.Module, ws: torch.Tensor, control: Any) -> tuple[torch.Tensor, dict]:
        """G's output as D sees it, and extra outputs for the loss terms (``LossContext.extras``)."""
        return G.synthesis(ws, control), {}

    def r1_penalty(self, real_logits: torch.Tensor, real: torch.Tensor,
                   gamma: float) -> Optional[tuple[torch.Tensor, dict[str, float]]]:
        """(weighted R1 penalty, values to log) for D inputs that need more than StyleGAN2's
        gamma/2 * ||grad D||^2; None lets the trainer compute that one."""
        return None

    # --- losses: each returns {name: scalar tensor}, added to the phase's loss ---
    # (g_losses may also return plain floats: monitors, logged but not added to the loss)
    def g_losses(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        return {}

    def d_losses(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        return {}


_REGISTRY: dict[str, type[Method]] = {}


def register(cls: type[Method]) -> type[Method]:
    _REGISTRY[cls.name] = cls
    return cls


def method_names() -> list[str]:
    return sorted(_REGISTRY)


def build_method(name: str, options: Optional[dict] = None) -> Method:
    if name not in _REGISTRY:
        raise UserError(f"unknown method {name!r}; available: {', '.join(method_names())}")
    return _REGISTRY[name](**(options or {}))


def method_from_dict(d: dict) -> Method:
    return build_method(d["name"], d.get("options"))


def registered_edit_ops() -> dict[str, EditOp]:
    """Every edit op of every registered method, by op name (an op name belongs to one method)."""
    ops: dict[str, EditOp] = {}
    for cls in _REGISTRY.values():
        for op in cls.edit_ops:
            if ops.setdefault(op.name, op) is not op:
                raise RuntimeError(f"edit op {op.name!r} is declared by two methods")
    return ops


def describe(method: Method) -> dict:
    return {"name": method.name, "capabilities": list(method.capabilities), "options": method.options()}


__all__ = ["EditOp", "LossContext", "Method", "registered_edit_ops", "register", "method_names", "build_method", "method_from_dict",
           "describe"]
