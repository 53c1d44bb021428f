"""The steergan browser editor: a FastAPI app over the library's edit functions + a static page.

``create_app(models)`` builds the app; ``steergan ui`` serves it with uvicorn on loopback.
"""
from .app import create_app

__all__ = ["create_app"]
