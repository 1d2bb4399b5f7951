"""Extractors: one kind of file's raw bytes in, the article text and its metadata out.

``text`` (.txt/.md with optional front matter), ``html`` (saved pages, trafilatura), ``pdf``
(pypdf), plus ``sidecar`` (metadata kept beside files), ``feed`` (RSS/Atom entries written into the
corpus folder; ``fetch`` gets feeds and their pages over http(s),
from public addresses only: ``addresses``) and ``dates`` (publication dates
as ISO strings). ``qa/load.py`` picks one by type.
Each module imports its library only when it is used.
"""
from .base import Extracted, LoadError, Metadata

__all__ = ["Extracted", "LoadError", "Metadata"]
