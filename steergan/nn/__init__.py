"""Backbone building blocks: StyleGAN2 in pure PyTorch, knowing nothing of control methods."""
from .adapters import AdapterFactory, LayerAdapter, LayerSpec
from .discriminator import Discriminator
from .generator import Generator
from .layers import EqualConv2d, EqualLinear
from .mapping import MappingNetwork
from .presets import PRESETS, ArchConfig, get_preset
from .synthesis import SynthesisNetwork

__all__ = ["AdapterFactory", "LayerAdapter", "LayerSpec", "Discriminator", "Generator",
           "EqualConv2d", "EqualLinear", "MappingNetwork", "PRESETS", "ArchConfig",
           "get_preset", "SynthesisNetwork"]
