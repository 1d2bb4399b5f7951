"""The command-line options every front end shares (``qa`` commands, ``qa evaluate``, the chat
app), and building the Pipeline they describe. Its own module so that the front ends import it,
not each other."""
from __future__ import annotations

import argparse
import sys

from .reader import READERS

DEFAULT_CORPUS = "seeds"
DEFAULT_INDEX = "embeddings"


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every command that builds a Pipeline shares."""
    group = parser.add_argument_group("corpus and models")
    group.add_argument("--corpus", default=DEFAULT_CORPUS, metavar="FOLDER",
                       help="folder of .txt/.md/.html/.pdf articles (default: %(default)s)")
    group.add_argument("--index-dir", default=DEFAULT_INDEX, metavar="DIR",
                       help="where the index is kept (default: %(default)s)")
    group.add_argument("--reader", choices=list(READERS), default=None,
                       help="answer reader: the trained span reader (default when shipped), span-fast (same "
                            "weights, int8, reads only the best sentences: faster, less accurate), span-tiny "
                            "(a 3-layer reader distilled from it: fastest, least accurate) or the baseline")
    group.add_argument("--retriever", choices=["hybrid", "bm25", "dense"], default="hybrid",
                       help="retrieval mode (default: %(default)s)")
    group.add_argument("--read-all", action="store_true",
                       help="read every retrieved passage, in full precision (default: the best first, the "
                            "rest only while they could still change the answer, in int8; qa/adaptive.py)")
    group.add_argument("--min-score", type=float, default=None, metavar="S",
                       help="answer only when P(right) is at least S (default: the verifier's calibrated threshold "
                            "for a 20%% unanswerable prior, README 'Confidence'; lower answers more, higher "
                            "abstains more)")
    add_backend_arguments(parser)


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the index lives (qa/backends/): ``--backend``, ``--milvus-uri``, ``--milvus-collection``."""
    group = parser.add_argument_group("index backend")
    group.add_argument("--backend", choices=["faiss", "milvus"], default="faiss",
                       help="faiss: FAISS + BM25 files in --index-dir (default); milvus: the index in Milvus "
                            "(Milvus Lite, embedded, or a Milvus server: see --milvus-uri)")
    group.add_argument("--milvus-uri", default=None, metavar="URI",
                       help="with --backend milvus: a Milvus Lite path ending in .db (default: INDEX_DIR/milvus.db) "
                            "or a server URL such as http://localhost:19530 (token from $MILVUS_TOKEN)")
    group.add_argument("--milvus-collection", default=None, metavar="NAME",
                       help="with --backend milvus: prefix of the collections (default: qa_news)")


def backend_from_args(args: argparse.Namespace):
    """The index backend the options name (qa/backends/make_backend)."""
    from .backends import make_backend

    return make_backend(getattr(args, "backend", "faiss"), args.index_dir, getattr(args, "milvus_uri", None),
                        getattr(args, "milvus_collection", None))


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """``--since`` / ``--until`` / ``--source``: which articles a question searches (qa/filters.py)."""
    group = parser.add_argument_group("which articles to search")
    group.add_argument("--since", default=None, metavar="DATE",
                       help="only articles published on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY)")
    group.add_argument("--until", default=None, metavar="DATE",
                       help="only articles published on or before DATE (a month or year covers all of it)")
    group.add_argument("--source", action="append", default=None, metavar="OUTLET",
                       help="only articles from this outlet (as listed by the chat's Articles tab; "
                            "case does not matter); repeat for several")


def filter_from_args(args: argparse.Namespace):
    """The ``Filter`` the options describe, None when they restrict nothing; ValueError (saying
    what to write instead) for a date that is not one or a range that is empty."""
    from .filters import Filter

    return Filter.of(getattr(args, "since", None), getattr(args, "until", None), getattr(args, "source", None))


def build_pipeline(args: argparse.Namespace, progress: bool = True):
    from .config import QAConfig
    from .pipeline import Pipeline

    config = QAConfig(adaptive_depth=not getattr(args, "read_all", False))
    pipeline = Pipeline(corpus_dir=args.corpus, index_dir=args.index_dir, reader=args.reader,
                        retriever=args.retriever, min_score=args.min_score, config=config,
                        backend=backend_from_args(args))
    pipeline.warm_up(progress=progress)
    report = pipeline.last_update
    if report is not None and report.changed:
        print(f"index: {report.summary()}", file=sys.stderr)
    for s in pipeline.skipped:
        print(s.line(), file=sys.stderr)
    if not pipeline.documents:
        print(f"note: the corpus {args.corpus} has no usable articles; add .txt, .md, .html or .pdf files "
              f"and run `qa index`.", file=sys.stderr)
    return pipeline
