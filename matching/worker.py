"""The worker's former path, kept so that a deployment still naming
``matching.worker.FaceWorker`` keeps working: the worker is ``reunion.worker.PortalWorker``,
and matching's part of it (the face model at start, reconcile, retention, the outcome
refit) is registered in ``matching.apps``."""

from reunion.worker import PortalWorker as FaceWorker

__all__ = ["FaceWorker"]
