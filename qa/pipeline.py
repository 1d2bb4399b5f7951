"""Pipeline: the one object behind the chat, the CLI and the evaluation.

>>> p = Pipeline(corpus_dir="seeds", index_dir="embeddings")        # doctest: +SKIP
>>> p.warm_up()                                                     # doctest: +SKIP
>>> [a.text for a in p.ask("How many troops did Canada commit?")]   # doctest: +SKIP
['850 troops']
"""
from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .config import QAConfig
from .embed import Encoder, MiniLMEncoder
from .filters import Filter
from .load import Skipped, load_corpus
from .reader import Reader, make_reader
from .retrieve import MODES, HybridRetriever
from .backends import Backend, ChunkIndex, UpdateReport, make_backend
from . import rank
from .rank import AnswerRanker
from .reader.verify import AnswerVerifier
from .types import Answer, Citation, Document, Hit, Passage, ReaderOutput
from .metrics import normalize_answer
from .news.changed import newer_passages, reports_over_time
from .news.headline import headline_spans_in_body
from .news.question_time import read_question_time
from .news.timex import within

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000

# A retrieval step in place of HybridRetriever.retrieve: (retriever, question, mode=, top_k=, filter=) -> hits
Search = Callable[..., list[Hit]]


class QuestionError(ValueError):
    """A question that cannot be asked as it is; the message tells the user what to change."""


def clean_question(question: object) -> str:
    """Validate a user's question and return it tidied (control characters dropped, spaces collapsed)."""
    if isinstance(question, bytes):
        question = question.decode("utf-8", errors="replace")
    if not isinstance(question, str):
        raise QuestionError("The question must be text.")
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("Please type a question, e.g. \"How many troops did Canada commit?\"")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"The question is {len(text):,} characters long; please keep it under "
                            f"{MAX_QUESTION_CHARS:,} characters.")
    if not re.search(r"\w", text):
        raise QuestionError("The question has no words to search for; please ask it in words.")
    return text


def default_reader_name() -> str:
    """The trained span reader when its weights ship with the package, else the baseline."""
    weights = Path(__file__).parent / "reader" / "weights" / "reader.json"
    return "span" if weights.is_file() else "heuristic"


@dataclass(frozen=True)
class Reading:
    """What retrieval + reading found for one question, before answers are made of it."""

    hits: list[Hit]  # retrieved chunks, best first
    passages: list[Passage]  # what the reader read, in hit order (passage i = hits[i])
    output: ReaderOutput | None  # the reader's spans; None when nothing was retrieved
    documents: Mapping[str, Document]  # doc_id -> Document of the index the hits came from
    timings: dict[str, float]
    passages_read: int | None = None  # how many of the passages the reader read (adaptive depth)


class Pipeline:
    def __init__(self, corpus_dir: str | Path = "seeds", index_dir: str | Path = "embeddings",
                 reader: str | Reader | None = None, retriever: str = "hybrid",
                 config: QAConfig | None = None, encoder: Encoder | None = None,
                 min_score: float | None = None, backend: str | Backend = "faiss",
                 milvus_uri: str | None = None) -> None:
        if retriever not in MODES:
            raise ValueError(f"unknown retriever {retriever!r}; choose one of {', '.join(MODES)}")
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        # Where the index lives (qa/backends/): a FAISS + bm25s folder, or Milvus (Lite file or server).
        self.backend: Backend = (make_backend(backend, self.index_dir, milvus_uri) if isinstance(backend, str)
                                 else backend)
        self.config = config or QAConfig()
        self.encoder = encoder if encoder is not None else MiniLMEncoder(self.config.encode_batch_size)
        if reader is None:
            reader = default_reader_name()
        self.reader: Reader = make_reader(reader) if isinstance(reader, str) else reader
        self.mode = retriever
        self.min_score = min_score  # None = the reader's own calibrated threshold
        self.skipped: list[Skipped] = []
        self.last_timings: dict[str, float] = {}
        self.last_passages_read: int | None = None  # by the last ask (adaptive depth reads fewer)
        self.last_update: UpdateReport | None = None
        self._index: ChunkIndex | None = None
        self._retriever: HybridRetriever | None = None
        self._write_lock = threading.Lock()  # one index update at a time
        self._model_lock = threading.Lock()  # torch models: one forward pass at a time (2 cores)

    # ------------------------------------------------------------ set-up

    def warm_up(self, progress: bool = False) -> None:
        """Load the models and make sure the index matches the corpus (idempotent)."""
        if hasattr(self.encoder, "warm_up"):
            self.encoder.warm_up()
        self.reader.warm_up()
        if self._index is None:
            self.index(progress=progress)

    def index(self, progress: bool = True) -> UpdateReport:
        """Re-scan the corpus folder and update the persisted index incrementally."""
        with self._write_lock:
            documents, self.skipped = load_corpus(self.corpus_dir, progress=progress)
            index, report = self.backend.update(documents, self.encoder, self.config, progress=progress)
            self._install(index)
            self.last_update = report
            return report

    def _install(self, index: ChunkIndex) -> None:
        # Readers keep a reference to the old retriever until they finish: swap, never mutate.
        self._retriever = HybridRetriever(index, self.encoder, depth=self.config.depth, rrf_k=self.config.rrf_k)
        self._index = index

    @property
    def documents(self) -> list[Document]:
        self._require_index()
        return list(self._index.documents.values())

    @property
    def manifest(self) -> dict:
        """The live index's manifest (read-only view: encoder, chunking, per-article records)."""
        self._require_index()
        return dict(self._index.manifest)

    @property
    def corpus_index(self) -> CorpusIndex:
        """The live index (read it, never change it: updates install a new one)."""
        self._require_index()
        return self._index

    @property
    def chunk_count(self) -> int:
        return self._index.chunk_count if self._index is not None else 0

    def _require_index(self) -> HybridRetriever:
        if self._retriever is None:
            self.warm_up()
        return self._retriever

    # ------------------------------------------------------------ questions

    def retrieve(self, question: str, mode: str | None = None, depth: int | None = None,
                 top_k: int | None = None, filter: Filter | None = None) -> list[Hit]:
        retriever = self._require_index()
        question = clean_question(question)
        with self._model_lock:
            return retriever.retrieve(question, mode=mode or self.mode, depth=depth, top_k=top_k, filter=filter)

    def read(self, question: str, top_k: int = 6, mode: str | None = None, filter: Filter | None = None,
             min_score: float | None = None, search: Search | None = None) -> Reading:
        """Retrieve and read, nothing more (see ``Reading``). ``ask`` turns the result into answers;
        ``scripts/fit_ranker.py`` learns from it. ``search`` replaces the retrieval step: called as
        ``search(retriever, question, mode=, top_k=, filter=)`` under the model lock (a follow-up's
        history-aware retrieval, qa/conversation/search.py)."""
        return self.read_many([question], top_k, mode, filter, min_score, search)[0]

    def read_many(self, questions, top_k: int = 6, mode: str | None = None, filter: Filter | None = None,
                  min_score: float | None = None, search: Search | None = None) -> list[Reading]:
        """``read`` for several questions at once: one batch of query embeddings, and the reader
        reads the windows of all of them together (qa/batching.py gathers a server's questions so).
        Each Reading's timings are the batch's: what each of its questions waited. ``min_score``
        is the threshold adaptive reading keeps an answer above (default: the calibrated one)."""
        retriever = self._require_index()
        questions = [clean_question(q) for q in questions]
        with self._model_lock:
            t0 = time.perf_counter()
            if len(questions) > 1 and hasattr(retriever, "embed_queries"):
                retriever.embed_queries(questions)  # one encoder pass; retrieve() finds them cached
            batch_encode = time.perf_counter() - t0
            found = []
            for question in questions:
                hits = (search or HybridRetriever.retrieve)(retriever, question, mode=mode or self.mode,
                                                            top_k=self.config.passages, filter=filter)
                found.append((hits, dict(retriever.timings),
                              [Passage(h.chunk.doc_id, h.chunk.doc_start, h.chunk.text) for h in hits]))
            t0 = time.perf_counter()
            outputs = self._read_passages(questions, found, top_k, min_score)
            read_seconds = time.perf_counter() - t0
        readings = []
        for (hits, timings, passages), (output, passages_read) in zip(found, outputs):
            timings["encode"] = timings.get("encode", 0.0) + batch_encode
            timings["read"] = read_seconds
            readings.append(Reading(hits, passages, output, retriever.index.documents, timings, passages_read))
        self.last_timings = readings[-1].timings if readings else {}
        return readings

    def _read_passages(self, questions, found, top_k: int, min_score: float | None):
        """(ReaderOutput or None, passages read) per question (qa/adaptive.py: ``read_passages``)."""
        from .adaptive import read_passages

        jobs = [(q, passages, hits) for q, (hits, _, passages) in zip(questions, found) if passages]
        threshold = min_score if min_score is not None else self._threshold(self.ranker)
        documents = self._index.documents if self._index is not None else {}
        results = iter(read_passages(self.reader, self.ranker if self.config.adaptive_depth else None,
                                     threshold, jobs, top_k, rivals=lambda ps, best: newer_passages(ps, best, documents)))
        out = []
        for _, _, passages in found:  # a question that retrieved nothing was not read
            r = next(results) if passages else None
            out.append((r.output, r.passages_read) if r else (None, 0))
        return out

    @property
    def ranker(self) -> AnswerRanker | None:
        """How answers are scored when retrieval is involved: the reader's answer ranker (reader
        score + retrieval evidence, qa/rank.py) when it ships one, else the reader's own score."""
        return getattr(self.reader, "ranker", None)

    @property
    def verifier(self) -> AnswerVerifier | None:
        """The second opinion on answerability (qa/reader/verify.py) that the reader ships, fitted
        with its ranker: its P(right) is the score people see. None: the ranker's score is shown."""
        return getattr(self.reader, "verifier", None) if self.ranker is not None else None

    @property
    def answer_threshold(self) -> float:
        """Answers scoring below this are withheld: the ``min_score`` given to the pipeline, else the
        verifier's calibrated threshold, else the ranker's, else the reader's."""
        if self.min_score is None and self.verifier is not None:
            return self.verifier.min_score
        return self._threshold(self.ranker)

    def _answer_threshold(self, ranker: AnswerRanker | None, verifier: AnswerVerifier | None) -> float:
        if self.min_score is None and verifier is not None:
            return verifier.min_score
        return self._threshold(ranker)

    def _threshold(self, ranker: AnswerRanker | None) -> float:
        # the pipeline's own min_score wins; else the threshold calibrated for the score in use
        if self.min_score is not None:
            return self.min_score
        return (ranker or self.reader).min_score

    def ask(self, question: str, top_k: int | None = None, min_score: float | None = None,
            mode: str | None = None, filter: Filter | None = None, search: Search | None = None,
            newest_first: bool = True) -> list[Answer]:
        """Distinct answers, best first; ``[]`` when the articles do not answer the question.
        ``filter`` (qa/filters.py) restricts the articles searched; ``search``: see ``read``.
        ``newest_first``: when reports of different dates disagree, the newest leads (pass False
        for a question that names a period; qa/news/changed.py).
        Follow-up questions go through ``qa.conversation.ConversationalAsker``, which calls this.

        A period the question names ("in 2024", "last year") is preferred and "latest", "now" put the
        newest reports first (qa/news/question_time.py).

        Raises ``QuestionError`` for an empty, wordless or over-long question.
        """
        when = read_question_time(question)
        if when is not None:
            # a question that names a period wants that period's answer, not the newest one
            newest = newest_first and not when.has_period
            return when.apply(lambda f: self._ask(question, top_k, min_score, mode, f, search, newest), filter)
        return self._ask(question, top_k, min_score, mode, filter, search, newest_first)

    def _ask(self, question, top_k, min_score, mode, filter, search, newest_first=True) -> list[Answer]:
        if top_k is None:
            top_k = self.config.top_k
        started = time.perf_counter()
        r = self.read(question, top_k=self._spans_wanted(top_k), mode=mode, filter=filter,
                      min_score=min_score, search=search)
        answers = (self._answers(r.output, r.passages, r.hits, r.documents, top_k, min_score, self.ranker,
                                 newest_first, question=question) if r.output else [])
        self.last_timings = {**r.timings, "total": time.perf_counter() - started}
        self.last_passages_read = r.passages_read
        return answers

    def ask_many(self, questions, top_k: int | None = None, min_score: float | None = None,
                 mode: str | None = None, filter: Filter | None = None,
                 newest_first: bool = True) -> list[list[Answer]]:
        """``ask`` for several questions in one batch (``read_many``): the answers of each, in order.
        Raises ``QuestionError`` if any question cannot be asked (check them with ``clean_question``)."""
        questions = list(questions)
        timed = {i for i, q in enumerate(questions) if read_question_time(q) is not None}
        if timed:  # a question that names a period searches its own articles: asked on its own
            for i in timed:
                clean_question(questions[i])
            plain = [q for i, q in enumerate(questions) if i not in timed]
            batched = iter(self.ask_many(plain, top_k, min_score, mode, filter, newest_first) if plain else [])
            return [self.ask(q, top_k, min_score, mode, filter, newest_first=newest_first) if i in timed
                    else next(batched)
                    for i, q in enumerate(questions)]
        if top_k is None:
            top_k = self.config.top_k
        started = time.perf_counter()
        readings = self.read_many(questions, top_k=self._spans_wanted(top_k), mode=mode, filter=filter,
                                  min_score=min_score)
        out = [self._answers(r.output, r.passages, r.hits, r.documents, top_k, min_score, self.ranker,
                             newest_first, question=q) if r.output else [] for q, r in zip(questions, readings)]
        if readings:
            self.last_timings = {**readings[-1].timings, "total": time.perf_counter() - started}
        return out

    def _spans_wanted(self, top_k: int) -> int:
        # Ask for extra spans: answers with the same text merge into one, so some candidates fold away;
        # a ranker sees as many candidates as it was fitted on.
        return max(top_k * 2, rank.CANDIDATES) if self.ranker is not None else top_k * 2

    def ask_context(self, question: str, context: str, top_k: int | None = None,
                    min_score: float | None = None) -> list[Answer]:
        """Answer from ``context`` alone (SQuAD-style reader evaluation); citations use doc_id "context"."""
        if top_k is None:
            top_k = self.config.top_k
        question = clean_question(question)
        self.reader.warm_up()
        started = time.perf_counter()
        doc = Document("context", "context", "", context, "")
        from .chunk import split_sentences
        sentences = tuple(split_sentences(context))
        chunk_hit = Hit(chunk=_whole_text_chunk(doc, sentences), score=1.0)
        passages = [Passage("context", 0, context)]
        with self._model_lock:
            output = self.reader.read(question, passages, top_k=top_k)
        answers = self._answers(output, passages, [chunk_hit], {"context": doc}, top_k, min_score)
        self.last_timings = {"encode": 0.0, "search": 0.0, "read": time.perf_counter() - started,
                             "total": time.perf_counter() - started}
        return answers

    def closest_passages(self, question: str, n: int = 3, filter: Filter | None = None) -> list[Hit]:
        """What the chat shows when there is no answer: the best-matching chunks."""
        return self.retrieve(question, top_k=n, filter=filter)

    def _answers(self, output, passages, hits, documents, top_k, min_score, ranker=None,
                 newest_first: bool = True, question: str | None = None) -> list[Answer]:
        """Reader spans -> distinct ``Answer``s with citations; ``documents`` maps doc_id to the
        ``Document`` each passage was cut from (the index's, or the one ``ask_context`` text).
        With a ``ranker`` an answer's score is its probability of being right given the reader
        score and the passage's retrieval ranks, and answers are ordered by it; with the
        ``verifier`` too (and the ``question``), the score is the verifier's P(right)."""
        verifier = self.verifier if ranker is not None and question is not None else None
        if min_score is None:
            min_score = self._answer_threshold(ranker, verifier)
        scored = [(span.score, span) for span in output.spans]
        if ranker is not None:
            scored = [(ranker.score(span.score, span.passage_index, hits[span.passage_index].ranks,
                                    output.no_answer_score), span) for span in output.spans]
            scored.sort(key=lambda pair: -pair[0])  # stable: reader order breaks ties
        if verifier is not None:
            scored = verified_scores(verifier, clean_question(question), scored, passages)
        answers: list[Answer] = []
        by_text: dict[str, int] = {}
        in_headline = headline_spans_in_body(output.spans, passages, documents)
        for score, span in scored:
            if score < min_score:
                continue
            passage = passages[span.passage_index]
            chunk = hits[span.passage_index].chunk
            doc = documents[passage.doc_id]
            start, end = passage.doc_start + span.start, passage.doc_start + span.end
            # Trim whitespace the reader may include; the span stays a slice of the article.
            while start < end and doc.text[start].isspace():
                start += 1
            while end > start and doc.text[end - 1].isspace():
                end -= 1
            if end <= start:
                continue
            if span in in_headline:  # the answer is the body's words, not the headline's (qa/news/headline.py)
                if in_headline[span] is None:
                    continue
                start, end = in_headline[span]
                chunk = self._chunk_holding(doc.doc_id, start, end) or chunk
            s_start, s_end = _sentence_around(chunk.sentences, start, end)
            citation = Citation(doc_id=doc.doc_id, title=doc.title, path=doc.path, start=start, end=end,
                                text=doc.text[start:end], sentence=doc.text[s_start:s_end],
                                sentence_start=s_start, sentence_end=s_end, chunk_id=chunk.chunk_id,
                                source=doc.source, published=doc.published, url=doc.url, page=doc.page_at(start),
                                dates=tuple(within(doc.dates, doc.text, start, end)))
            key = normalize_answer(citation.text) or citation.text
            if key in by_text:  # the same answer again: it folds into the better-ranked one
                i = by_text[key]
                # Cited too only when the words are exactly the answer's ("the troops" and "troops"
                # normalise alike, but every citation must be a span reading exactly answer.text).
                if citation.text == answers[i].text and all(
                        (c.doc_id, c.start) != (citation.doc_id, citation.start) for c in answers[i].citations):
                    answers[i] = replace(answers[i], citations=[*answers[i].citations, citation])
                continue
            by_text[key] = len(answers)
            answers.append(Answer(text=citation.text, score=score, citations=[citation], reader=self.reader.name))
        return reports_over_time(answers, newest_first)[:top_k]

    def _chunk_holding(self, doc_id: str, start: int, end: int):
        """The indexed chunk of ``doc_id`` that holds ``[start, end)``, None when none does."""
        if self._index is None:
            return None
        return next((c for c in self._index.chunks_of(doc_id) if c.doc_start <= start and end <= c.doc_end), None)


def verified_scores(verifier: AnswerVerifier, question: str, scored, passages):
    """(P(right), span) by the verifier, best first, for ranker-scored ``(probability, span)`` pairs.
    Each answer's margin is taken against the best candidate with *other* words."""
    texts = [normalize_answer(passages[s.passage_index].text[s.start:s.end]) for _, s in scored]
    out = []
    for i, (p, span) in enumerate(scored):
        other = max((q for j, (q, _) in enumerate(scored) if texts[j] != texts[i]), default=None)
        out.append((verifier.score(question, passages[span.passage_index].text, span.start, span.end, p, other), span))
    out.sort(key=lambda pair: -pair[0])
    return out


def _sentence_around(sentences, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of a chunk that hold ``[start, end)``, in document offsets."""
    first = next((s for s in sentences if s[0] <= start < s[1]), None)
    last = next((s for s in sentences if s[0] < end <= s[1]), None)
    if first is None or last is None:
        return start, end
    return first[0], max(last[1], first[1])


def _whole_text_chunk(doc: Document, sentences):
    from .types import Chunk
    return Chunk("context#0", doc.doc_id, 0, len(doc.text), doc.text, sentences or ((0, len(doc.text)),))
