"""The web pages: server-rendered Jinja2 templates, small JS modules, Plotly charts.

:func:`mount` is called by :func:`runtrack.server.app.create_app` (the plug-in
convention of :data:`runtrack.server.app.PLUGIN_PACKAGES`). It adds

* the ``/api/v1/views`` router (:mod:`runtrack.server.api.views`): each page's JSON
  twin, and the streamed run archive;
* the page routes of :mod:`runtrack.server.pages.views`;
* ``/static`` (this package's ``static/`` folder) and ``/vendor/plotly.min.js``, the
  Plotly.js bundle shipped inside the installed ``plotly`` package (no CDN, no Node).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    from runtrack.server.api import views as api_views
    from runtrack.server.app import API_PREFIX
    from runtrack.server.pages import views

    app.include_router(api_views.router, prefix=API_PREFIX)
    app.include_router(views.router)
    from runtrack.server.pages import diagnostics

    app.include_router(diagnostics.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
