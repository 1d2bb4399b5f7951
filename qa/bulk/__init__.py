"""Bulk indexing on a distributed engine (``ray_index.py``: ``qa index --ray [ADDRESS]``)."""
