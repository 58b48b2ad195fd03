"""The tracking server: one FastAPI app over a TrackingStore and an ArtifactStore.

:func:`runtrack.server.app.create_app` is the only wiring point. Importing this
package is cheap; FastAPI is imported by :mod:`runtrack.server.app`.
"""
