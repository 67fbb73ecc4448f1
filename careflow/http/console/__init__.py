"""The agents' console: server-rendered pages on the API port (``/``) to work the queue.

Templates and the one script are files of this package, so the console works offline. The
routes are ``careflow.http.console.routes``; the sessions ``session``; what the pages show
``views``.
"""

from careflow.http.console.routes import console_routes

__all__ = ["console_routes"]
