"""``steergan`` command: one small module per subcommand, errors as one line + exit 2."""
from __future__ import annotations

import logging
import sys
import warnings

import click
from PIL import Image
from safetensors import SafetensorError

from ..errors import UserError
from . import attention, data, demo, drag, edit, eval as eval_cmd, export, generate, info, resample, train
from . import compose, ui
from . import invert as invert_cmd
from . import train_encoder as train_encoder_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="steergan")
def cli() -> None:
    """Spatially steerable GANs: train, generate, edit and evaluate."""


cli.add_command(train.train)
cli.add_command(generate.generate)
cli.add_command(data.data)
cli.add_command(eval_cmd.evaluate)
cli.add_command(info.info)
cli.add_command(export.export)
cli.add_command(demo.demo)
cli.add_command(edit.edit)
cli.add_command(attention.attention)
cli.add_command(resample.resample)
cli.add_command(drag.drag)
cli.add_command(ui.ui)
cli.add_command(compose.compose)
cli.add_command(invert_cmd.invert)
cli.add_command(train_encoder_cmd.train_encoder)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings (skipped unreadable files...) as one line, without the source line Python adds."""
    return f"warning: {message}".replace("\n", " ") + "\n"


def _error(message: str) -> None:
    """The one stderr line of a refusal: a newline inside it (a file name can hold one) is shown
    escaped, so the message stays one line whatever the user typed."""
    one = message.replace("\r", "\\r").replace("\n", "\\n")
    click.echo(f"error: {one}", err=True)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    warnings.formatwarning = _one_line_warning
    try:
        cli.main(args=argv, prog_name="steergan", standalone_mode=False)
    except UserError as e:
        _error(str(e))
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:  # usage errors too: one line, like every other error
        _error(e.format_message().replace("\n", " "))
        sys.exit(2 if isinstance(e, click.UsageError) else e.exit_code)
    except Image.DecompressionBombError as e:   # a file no loader caught (each should): still one line
        _error(f"image too large: {e}")
        sys.exit(2)
    except SafetensorError as e:  # a write that failed inside safetensors (disk full) or a corrupt file
        _error(f"safetensors: {e}")
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except OSError as e:  # disk full, permission denied...: still one line, and nothing deleted
        _error(f"{e.strerror or e}: {getattr(e, 'filename', '') or ''}".rstrip(": "))
        sys.exit(2)


if __name__ == "__main__":
    main()
