"""Opening image files people hand us: one place that refuses what would hang or exhaust memory.

A PNG header can claim 100000x100000 pixels in 68 bytes; Pillow only warns below twice its
own limit and raises an exception that is no ``OSError`` above it. ``open_image`` checks the
claimed size before any pixel is decoded, and ``UNREADABLE`` lists every exception a bad file
can raise, so callers skip and count it (datasets) or report it in one line (single files).
"""
from __future__ import annotations

import io
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000    # 6300 x 6300: far above anything steergan trains or edits at

UNREADABLE = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, zipfile.BadZipFile,
              Image.DecompressionBombError)


class ImageTooLarge(ValueError):
    """The header claims more than ``MAX_PIXELS`` pixels (counts as unreadable)."""


@contextmanager
def open_image(source: Union[str, Path, bytes]) -> Iterator[Image.Image]:
    """``Image.open`` for a path or bytes, refusing claimed sizes above ``MAX_PIXELS``."""
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(fp)
        except Image.DecompressionBombWarning as e:   # a Warning raised as an error: no OSError
            raise ImageTooLarge(str(e)) from None
        with img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise ImageTooLarge(f"{w}x{h} pixels is more than the {MAX_PIXELS:,} steergan reads")
            yield img
