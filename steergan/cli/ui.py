"""``steergan ui``: serve the browser editor (loopback only unless --host says otherwise)."""
from __future__ import annotations

import ipaddress
import socket

import click

from ..errors import UserError
from .common import device_option


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> list[str] | None:
    """Host header names a loopback server answers (DNS-rebinding guard): the loopback names and
    the address it was started on, IPv6 in brackets as in a URL; None (no check) otherwise."""
    if not is_loopback(host):
        return None
    shown = f"[{host}]" if ":" in host else host
    return sorted({"localhost", "127.0.0.1", "[::1]", shown.lower()})


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a busy port is a one-line error, not a traceback."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as e:
        raise UserError(f"cannot listen on {host}:{port} ({e.strerror or e}); pick another --port or --host") from None
    return sock


def encoder_map(pairs) -> dict[str, str]:
    """``--encoder MODEL=FILE`` values -> {model: file}; one-line errors for malformed ones."""
    out: dict[str, str] = {}
    for pair in pairs:
        model, sep, path = pair.partition("=")
        if not sep or not model.strip() or not path.strip():
            raise UserError(f"--encoder takes MODEL=FILE (e.g. emoji=enc.safetensors), got {pair!r}")
        if model.strip() in out:
            raise UserError(f"--encoder gives model {model.strip()!r} two encoders")
        out[model.strip()] = path.strip()
    return out


@click.command()
@click.option("--ckpt", "ckpts", multiple=True, metavar="NAME|PATH",
              help="A model to offer: bundled name, generator .safetensors, checkpoint or run dir. "
                   "Repeat for several; default: every bundled model.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. The editor has no login: only leave loopback on a trusted network.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 = any free port).")
@click.option("--max-sessions", default=32, show_default=True, type=click.IntRange(1, 10_000),
              help="Editor sessions kept at once (the least recently used is dropped).")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 512),
              help="Torch threads per render. Renders of different requests run in parallel, so one "
                   "thread each avoids oversubscribing the cores (measured: p50 34 ms vs 61 ms with 2 on 2 cores).")
@click.option("--encoder", "encoders", multiple=True, metavar="MODEL=FILE",
              help="An encoder for one of the models (`steergan train-encoder`): Open image starts from its guess, "
                   "and with tuning the guess is the pivot. Repeat for several models.")
@device_option
def ui(ckpts, host, port, max_sessions, threads, encoders, device):
    """Serve the browser editor: heatmap edits, drags, undo/redo, PNG and edit-state export."""
    try:
        import uvicorn
        from ..ui import create_app
    except ImportError as e:
        raise UserError(f"the editor needs fastapi and uvicorn ({e.name} is missing): "
                        "pip install 'steergan[ui]'") from None
    loopback = is_loopback(host)
    allowed = allowed_hosts(host)
    import torch
    torch.set_num_threads(threads)
    app = create_app(list(ckpts) or None, device=device, max_sessions=max_sessions, allowed_hosts=allowed,
                     encoders=encoder_map(encoders))
    sock = bind(host, port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    models = ", ".join(app.state.catalog.entries)
    click.echo(f"steergan editor on http://{shown}:{port}/ (models: {models}); Ctrl+C to stop")
    if not loopback:
        click.echo(f"warning: listening on {host}, not loopback: anyone who can reach this port can use "
                   "the editor", err=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
