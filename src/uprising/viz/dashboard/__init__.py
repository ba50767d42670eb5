"""`uprising dashboard`: a local web app to move a scenario's levers and watch the run.

A standard-library HTTP server (`server`) answers a page of plain HTML, CSS and JavaScript
(`static/`, nothing from the internet) and a small JSON API; a job (`jobs`) runs one scenario
day by day in a background thread, streaming each day to the page, then a quick ensemble for
outcome probabilities. Levers and limits are in `levers`. See docs/dashboard.md.
"""

from __future__ import annotations

import logging
import threading
import webbrowser

from uprising.viz.dashboard.levers import Limits
from uprising.viz.dashboard.server import DashboardServer, is_loopback, make_server

__all__ = ["DashboardServer", "Limits", "is_loopback", "make_server", "serve"]


def serve(server: DashboardServer, open_browser: bool = False) -> None:
    """Answer until interrupted (Ctrl-C), then cancel any job and close."""
    logging.getLogger("uprising.viz.dashboard").setLevel(logging.WARNING)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(server.url,)).start()
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.runner.cancel_all()
        server.server_close()
