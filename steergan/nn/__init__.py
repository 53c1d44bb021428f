"""Backbone building blocks: StyleGAN2 in pure PyTorch, knowing nothing of control methods."""
from .adapters import AdapterFactory, LayerAdapter, LayerSpec
from .discriminator import Discriminator
from .discriminators import DEFAULT_DISCRIMINATOR, DISCRIMINATORS, build_discriminator, discriminator_kinds
from .generator import Generator
from .layers import EqualConv2d, EqualLinear
from .mapping import MappingNetwork
from .presets import PRESETS, ArchConfig, get_preset
from .synthesis import SynthesisNetwork

__all__ = ["AdapterFactory", "LayerAdapter", "LayerSpec", "Discriminator", "DEFAULT_DISCRIMINATOR", "DISCRIMINATORS", "build_discriminator",
           "discriminator_kinds", "Generator",
           "EqualConv2d", "EqualLinear", "MappingNetwork", "PRESETS", "ArchConfig",
           "get_preset", "SynthesisNetwork"]
