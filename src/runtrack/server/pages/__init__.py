"""The web pages: server-rendered Jinja2 templates, small JS modules, uPlot and Plotly charts.

:func:`mount` is called by :func:`runtrack.server.app.create_app` (the plug-in
convention of :data:`runtrack.server.app.PLUGIN_PACKAGES`). It adds

* the ``/api/v1/views`` router (:mod:`runtrack.server.api.views`): each page's JSON
  twin, and the streamed run archive;
* the compare workspace's routes (:mod:`runtrack.server.api.workspace`): saved views,
  run actions, hyperparameter rows;
* the page routes of :mod:`runtrack.server.pages.views` and :mod:`.models` (Models);
* the static files (this package's ``static/`` folder, uPlot vendored under
  ``static/vendor/uplot``) and the Plotly.js bundle shipped
  inside the installed ``plotly`` package (no CDN, no Node), gzip-compressed and under
  immutable URLs (:mod:`runtrack.server.pages._assets`).
"""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    from runtrack.server.api import views as api_views
    from runtrack.server.api import workspace as api_workspace
    from runtrack.server.app import API_PREFIX
    from runtrack.server.pages import _assets, diagnostics, models, views

    app.include_router(api_views.router, prefix=API_PREFIX)
    app.include_router(api_workspace.router, prefix=API_PREFIX)
    app.include_router(views.router)
    app.include_router(models.router)
    app.include_router(_assets.router)
    app.include_router(diagnostics.router)
