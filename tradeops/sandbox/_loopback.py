"""The one HTTP server both of the sandbox's servers are: threaded, on 127.0.0.1.

The control plane (`servers/control_plane.py`) and the OANDA simulator (`oanda/broker.py`)
answer clients that give up: the suite's deadline passes on a slow platform, a process
ends mid-request. socketserver prints a traceback for the write that then fails, into the
log and the output of whatever ran the sandbox, as if the server had broken. Standard
library only, like the servers themselves.
"""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer whose request threads never hold the process open, and for
    which a client that hung up before its answer was written is no error."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Every other error is still printed, as socketserver does."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)
