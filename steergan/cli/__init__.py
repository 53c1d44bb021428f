"""Command-line interface (top layer: may import everything below it)."""
