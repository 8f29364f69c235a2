"""Service plumbing shared by every golden-path FastAPI service.

Nothing in here knows about the service's own feature: that lives in ``app/features.py``
and ``app/settings.py``, which plug into the factory in ``app/main.py``.
"""
