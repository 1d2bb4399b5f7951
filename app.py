#!/usr/bin/env python
"""Web chat over a folder of news articles: extractive answers with cited, highlighted spans.

    python app.py [--host 127.0.0.1] [--port 7860] [--corpus seeds] [--index-dir embeddings] [--share]

One Pipeline is built and warmed up before the server starts, so the first question is as fast as
the rest. The page has two tabs: the chat, and the article panel (list, upload, remove).
Binds to 127.0.0.1 unless told otherwise; a public share link only with --share.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

# Before gradio is imported: no telemetry, no model downloads (everything ships in packages).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa import auth, batching, chat, corpus_admin  # noqa: E402  (light: models and gradio load lazily, --help stays fast)
from qa.options import add_pipeline_arguments, build_pipeline  # noqa: E402
from qa.backends import IndexLocationError  # noqa: E402
from qa.filters import Filter, outlet_names  # noqa: E402
from qa.load import MAX_FILE_BYTES, MAX_PDF_BYTES, LoadError  # noqa: E402
from qa.conversation import Conversation, ConversationalAsker  # noqa: E402
from qa.pipeline import QuestionError  # noqa: E402
from qa.security import serving, uploads  # noqa: E402

log = logging.getLogger("qa.app")

ROOT = Path(__file__).resolve().parent
SEED_QUESTIONS = ROOT / "qa" / "eval" / "seed_questions.jsonl"
MAX_HISTORY_MESSAGES = 20  # keep the page (and every request carrying the history) bounded
BUSY = "The server is busy answering other questions right now; please try again in a moment."
NOT_ALLOWED = "Only administrators may add or remove articles."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Web chat over a folder of news articles. Answers are exact spans of the "
                    "articles, with citations; upload or remove articles in the Articles tab.")
    net = parser.add_argument_group("server")
    net.add_argument("--host", default="127.0.0.1",
                     help="interface to bind (default: %(default)s, this machine only)")
    net.add_argument("--port", type=int, default=7860, help="port (default: %(default)s)")
    net.add_argument("--share", action="store_true",
                     help="also create a public gradio.live link (off by default; needs internet)")
    net.add_argument("--queue-size", type=int, default=batching.MAX_WAITING, metavar="N",
                     help="questions waiting at most; beyond this the page asks to retry (default: %(default)s)")
    net.add_argument("--batch-size", type=int, default=batching.MAX_BATCH, metavar="N",
                     help="questions answered together at most, gathered as they arrive (qa/batching.py; "
                          "1 = one at a time; default: %(default)s)")
    access = parser.add_argument_group("access (required beyond this machine: --host other than loopback, --share)")
    access.add_argument("--users", metavar="FILE", default=None,
                        help=f"log in with the users of FILE (create it with 'qa users add NAME --admin --file FILE'; "
                             f"default: ${auth.ENV_FILE}); only admins may upload or remove articles")
    access.add_argument("--read-only", action="store_true", help="no uploading or removing articles, for anyone")
    serving.add_arguments(access)
    add_pipeline_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    return parser


def example_questions(pipeline, limit: int = 5) -> list[str]:
    """Answerable seed questions about articles that are in this corpus, one per article first."""
    present = {d.doc_id for d in pipeline.documents}
    try:
        rows = [json.loads(line) for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError):
        rows = []
    rows = [r for r in rows if r.get("answers") and r.get("doc_id") in present]
    picked: list[str] = []
    for doc_id in sorted(present):  # variety: the first question of each article, then the rest
        picked += [r["question"] for r in rows if r["doc_id"] == doc_id][:1]
    picked += [r["question"] for r in rows if r["question"] not in picked]
    return picked[:limit]  # a corpus with no seed articles gets no examples rather than wrong ones


def _text_or_none(value):
    """A filter field: None when empty; text stripped; anything else as it is (the Filter says why
    it is not a date)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    return value


class ChatApp:
    """The handlers behind the page; plain methods on a Pipeline, so tests can call them directly."""

    def __init__(self, pipeline, batcher: batching.QuestionBatcher | None = None,
                 access: auth.Access | None = None) -> None:
        self.pipeline = pipeline
        self.batcher = batcher  # concurrent questions answered in batches (None: one at a time)
        self.access = access or auth.Access(users=None, read_only=False)
        self.asker = ConversationalAsker(pipeline)  # holds no conversation: each browser session has its own
        # Gradio's upload folder: an upload read from there is deleted once handled (added or refused).
        self.upload_folder: str | None = None

    # ----------------------------------------------------------------- chat

    def articles(self) -> dict:
        return {d.doc_id: chat.ArticleView(d.title, d.path, d.text, d.source, d.published)
                for d in self.pipeline.documents}

    def outlets(self) -> list[str]:
        """The outlets of the indexed articles, for the chat's outlet picker."""
        return sorted({d.source for d in self.pipeline.documents if d.source}, key=str.casefold)

    def reply(self, question, conversation: Conversation | None = None, restrict: Filter | None = None,
              scope: str = "") -> str:
        """The assistant's HTML for one question (never raises: every failure becomes a message)."""
        return self.converse(question, conversation, restrict, scope)[0]

    def converse(self, question, conversation: Conversation | None = None, restrict: Filter | None = None,
                 scope: str = "") -> tuple[str, Conversation | None]:
        """(HTML, the conversation with this turn) for a question asked in ``conversation``: a follow-up
        is read against it and its reply says how ("Interpreted as: …"). ``restrict`` limits the
        articles searched; ``scope`` says which, in words. On an error the conversation is returned
        unchanged."""
        try:
            closest = None
            answer_alone = None
            if self.batcher is not None:  # a question read without its history joins the batch
                def answer_alone(q, restrict_to):
                    nonlocal closest
                    answers, closest = self.batcher.ask(q, filter=restrict_to)
                    return answers
            r = self.asker.ask(question, conversation, filter=restrict, answer=answer_alone)
            articles = self.articles()
            note = chat.render_interpretation(r.resolution)
            if r.answers:
                return chat.render_answers(r.answers, articles) + note, r.conversation
            if not articles:
                return chat.render_error("No articles are indexed yet: add some in the Articles tab, "
                                         "then ask again."), conversation
            if restrict is not None and not any(restrict.matches(d) for d in self.pipeline.documents):
                return chat.render_error(f"No indexed article is {scope}; widen the dates or choose other "
                                         "outlets in “Filter the articles”."), conversation
            if closest is None:
                closest = self.pipeline.closest_passages(r.interpreted_as, 3, filter=restrict)
            return chat.render_no_answer(closest, articles, scope=scope) + note, r.conversation
        except QuestionError as exc:
            return chat.render_error(str(exc)), conversation
        except batching.Busy:
            return chat.render_error(BUSY), conversation
        except Exception:  # the user gets a sentence, the log gets the traceback
            log.exception("answering %r failed", str(question)[:200])
            return chat.render_error("Sorry, something went wrong while answering; please try again. "
                                     "The articles and the index are unchanged."), conversation

    def respond(self, question, history, conversation: Conversation | None = None, since=None, until=None,
                sources=None):
        """Textbox submit: append the question and the reply to the chat, clear the textbox; the
        session's conversation (gr.State) comes in and goes out with this turn added. ``since``,
        ``until`` (ISO dates) and ``sources`` (outlets) are the chat's filter, empty for all articles."""
        history = list(history or [])[-(MAX_HISTORY_MESSAGES - 2):]
        history.append({"role": "user", "content": chat.render_question(question if question is not None else "")})
        try:
            sources = outlet_names(sources)  # one outlet sent as a string is one outlet, not its letters
            restrict = Filter.of(_text_or_none(since), _text_or_none(until), sources)
        except ValueError as exc:
            html = chat.render_error(f"{exc} (in “Filter the articles”).".replace("--since", "“Published since”")
                                     .replace("--until", "“Published until”"))
        else:
            scope = chat.scope_text(restrict.since, restrict.until, sources) if restrict else ""
            html, conversation = self.converse(question, conversation, restrict, scope)
        history.append({"role": "assistant", "content": html})
        return history, "", conversation

    # ----------------------------------------------------------------- articles

    def panel(self):
        """(article table HTML, dropdown update) for the current index."""
        import gradio as gr

        rows = corpus_admin.article_rows(self.pipeline)
        choices = [(f"{r.title} ({r.path})", r.doc_id) for r in rows]
        return chat.render_article_table(rows, self.pipeline.skipped), gr.update(choices=choices, value=None)

    def outlet_picker(self):
        import gradio as gr

        return gr.update(choices=self.outlets())

    def upload(self, files, progress=None, username: str | None = None):
        """Add uploaded files one by one; each gets its own ✓/✗ line; the index only ever grows by
        files that passed every check. Only those ``access`` lets edit may add."""
        if not self.access.may_edit(username):
            table, dropdown = self.panel()
            return chat.render_status([(False, NOT_ALLOWED)]), table, dropdown
        files = [f for f in (files or []) if f]
        lines: list[tuple[bool, str]] = []
        for i, f in enumerate(files):
            path = Path(getattr(f, "name", f))
            name = getattr(f, "orig_name", None) or path.name

            def say(fraction: float, message: str, i=i) -> None:
                if progress is not None:
                    progress((i + fraction) / len(files), desc=message)

            try:
                try:
                    content = corpus_admin.read_upload(path, name)
                finally:  # read or refused, the temporary upload is not needed any more
                    uploads.discard(path, self.upload_folder)
                added = corpus_admin.add_document(self.pipeline, name, content, say)
            except LoadError as exc:
                lines.append((False, f"{name}: not added: {exc}"))
            except Exception:
                log.exception("adding %s failed", name)
                lines.append((False, f"{name}: not added (internal error, see the server log); "
                                     "the index is unchanged"))
            else:
                r = added.report
                lines.append((True, f"{added.filename}: added “{added.title}” ({r.chunks_embedded} passages "
                                    f"indexed in {r.seconds:.1f} s); you can ask about it now"))
        if not files:
            lines.append((False, "no file received; choose .txt, .md, .html or .pdf articles"))
        table, dropdown = self.panel()
        return chat.render_status(lines), table, dropdown

    def confirm_removal(self, doc_id):
        """First step of removing: say exactly what will be deleted and wait for a second click."""
        import gradio as gr

        doc = next((d for d in self.pipeline.documents if d.doc_id == doc_id), None)
        if doc is None:
            return (chat.render_status([(False, "choose an article to remove first")]), gr.update(visible=False),
                    "", None)
        question = (f"Delete “{doc.title}” ({doc.path}) from the corpus folder and the index? "
                    "This deletes the file.")
        return "", gr.update(visible=True), chat.render_error(question), doc_id

    def remove(self, doc_id, progress=None, username: str | None = None):
        import gradio as gr

        if not self.access.may_edit(username):
            table, dropdown = self.panel()
            return chat.render_status([(False, NOT_ALLOWED)]), table, dropdown, gr.update(visible=False), None
        def say(fraction: float, message: str) -> None:
            if progress is not None:
                progress(fraction, desc=message)

        title = next((d.title for d in self.pipeline.documents if d.doc_id == doc_id), doc_id)
        try:
            report = corpus_admin.remove_document(self.pipeline, doc_id, say)
            status = [(True, f"removed “{title}”; {report.chunks_total} passages remain indexed")]
        except LoadError as exc:
            status = [(False, str(exc))]
        except Exception:
            log.exception("removing %s failed", doc_id)
            status = [(False, "could not remove the article (internal error, see the server log)")]
        table, dropdown = self.panel()
        return chat.render_status(status), table, dropdown, gr.update(visible=False), None


def build_ui(app: ChatApp, examples: list[str], ask_concurrency: int = batching.MAX_WAITING):
    """The page. ``ask_concurrency``: questions handed to the batcher at once (the rest wait in
    Gradio's queue); with ``app.batcher`` the batcher's own bound answers "busy" past it."""
    import gradio as gr

    # delete_cache: uploads never handed to the chat (sent straight to the upload route) go after an hour.
    with gr.Blocks(title="Ask the news", analytics_enabled=False, delete_cache=(900, 3600)) as demo:
        gr.HTML("<h2 style='margin:0.2em 0'>Ask the news articles</h2><p style='margin:0'>Answers are quoted "
                "from the articles, with the sentence they come from. Press Enter to ask.</p>")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                # render_markdown=False: messages are our own escaped HTML (qa/chat.py); Markdown or
                # LaTeX would re-interpret article text. The sanitizer stays on as a second guard.
                chatbot = gr.Chatbot(
                    elem_id="chatbot", show_label=False, render_markdown=False, sanitize_html=True,
                    latex_delimiters=[], allow_tags=False, buttons=[], feedback_options=None,
                    height="62vh", min_height=260, layout="panel",
                    placeholder="Ask about the articles, e.g. one of the examples below.")
                with gr.Row(equal_height=True):
                    question = gr.Textbox(elem_id="question", label="Question", show_label=False, scale=6, min_width=200,
                                          lines=1, max_lines=4, autofocus=True, submit_btn=False,
                                          placeholder="Type a question and press Enter")
                    ask = gr.Button("Ask", elem_id="ask", variant="primary", scale=1, min_width=70)
                    new_conversation = gr.Button("New conversation", elem_id="new-conversation", scale=1,
                                                 min_width=110)
                conversation = gr.State(None)  # this browser session's turns (qa.conversation.Conversation)
                with gr.Accordion("Filter the articles", open=False, elem_id="filters"):
                    with gr.Row():
                        since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD, YYYY-MM or YYYY",
                                           elem_id="since", max_lines=1, min_width=150)
                        until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD, YYYY-MM or YYYY",
                                           elem_id="until", max_lines=1, min_width=150)
                        # Choices arrive on load (logged in): the anonymous login page embeds the API's
                        # description, which would list them. Custom values: an unknown outlet matches nothing.
                        outlets = gr.Dropdown(label="Outlets (none chosen: all)", choices=[], value=[],
                                              multiselect=True, allow_custom_value=True, elem_id="outlets",
                                              min_width=200)
                if examples:
                    gr.Examples(examples=[[q] for q in examples], inputs=[question], label="Example questions")
            with gr.Tab("Articles", id="articles"):
                table = gr.HTML(elem_id="article-table")
                # Upload and removal: shown to those allowed to edit (ChatApp.access), checked again
                # in the handlers, since a hidden control's event can still be sent.
                files = gr.File(label="Add articles (.txt, .md, .html up to 5 MB, UTF-8; .pdf up to 50 MB)",
                                file_count="multiple", file_types=[".txt", ".md", ".html", ".pdf"],
                                type="filepath", elem_id="upload")
                status = gr.HTML(elem_id="article-status")
                with gr.Row() as remove_row:
                    choice = gr.Dropdown(label="Remove an article", choices=[], value=None,
                                         elem_id="remove-choice", scale=4, min_width=200)
                    remove = gr.Button("Remove…", variant="stop", elem_id="remove", scale=1, min_width=90)
                with gr.Row(visible=False) as confirm_row:
                    confirm_text = gr.HTML()
                    confirm = gr.Button("Yes, delete it", variant="stop", elem_id="remove-confirm", min_width=90)
                    cancel = gr.Button("Cancel", elem_id="remove-cancel", min_width=90)
                pending = gr.State(None)  # the doc_id shown in the confirmation, not whatever is selected later

        # Gradio hands the gr.Request (who is logged in) to a parameter annotated with it; in this
        # module annotations are strings (__future__) naming a lazy import, so they are set here.
        def with_request(fn):
            fn.__annotations__["request"] = gr.Request
            return fn

        @with_request
        def on_upload(paths, request, progress=gr.Progress(track_tqdm=True)):
            message, table_html, dropdown = app.upload(paths, progress, username=request.username)
            return message, table_html, dropdown, None  # None clears the file box for the next upload

        @with_request
        def on_remove(doc_id, request, progress=gr.Progress(track_tqdm=True)):
            return app.remove(doc_id, progress, username=request.username)

        @with_request
        def on_load(request):
            table_html, dropdown = app.panel()
            editor = gr.update(visible=app.access.may_edit(request.username))
            return table_html, dropdown, editor, editor

        # Enter in the textbox and the button do the same; only the submit is exposed as /ask (API).
        # One concurrency group for both: every question waiting is inside the batcher, which
        # answers them together and says "busy" beyond its bound.
        asked = [question, chatbot, conversation, since, until, outlets]
        question.submit(app.respond, asked, [chatbot, question, conversation], api_name="ask",
                        concurrency_limit=ask_concurrency, concurrency_id="ask")
        ask.click(app.respond, asked, [chatbot, question, conversation], api_name=False,
                  concurrency_limit=ask_concurrency, concurrency_id="ask")
        new_conversation.click(lambda: ([], "", None), None, [chatbot, question, conversation], api_name=False)
        files.upload(on_upload, [files], [status, table, choice, files], api_name=False,
                     concurrency_limit=1, concurrency_id="corpus").then(
            app.outlet_picker, None, [outlets], api_name=False)
        remove.click(app.confirm_removal, [choice], [status, confirm_row, confirm_text, pending], api_name=False)
        confirm.click(on_remove, [pending], [status, table, choice, confirm_row, pending], api_name=False,
                      concurrency_limit=1, concurrency_id="corpus").then(
            app.outlet_picker, None, [outlets], api_name=False)
        cancel.click(lambda: (gr.update(visible=False), None), None, [confirm_row, pending], api_name=False)
        demo.load(on_load, None, [table, choice, files, remove_row], api_name=False)
        demo.load(app.outlet_picker, None, [outlets], api_name=False)
    return demo


def theme():
    import gradio as gr

    # System fonts: the default theme would fetch Google Fonts, and the app must work offline.
    return gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"],
                             font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:  # who may do what: refuse a public server without a login before loading anything
        users_path = auth.users_file(args.users)
        access = auth.server_access(args.host, args.share, users_path, args.read_only)
        problem = serving.check_arguments(args)
        if problem:
            raise ValueError(problem)
        access, guard = serving.guard_for(args, access, users_path)
    except (auth.UsersError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not 1 <= args.batch_size <= 256 or args.queue_size < 1:
        print("error: --batch-size must be 1-256 and --queue-size at least 1", file=sys.stderr)
        return 2
    if not Path(args.corpus).is_dir():  # say so before spending seconds loading models
        print(f"error: corpus folder not found: {args.corpus} (pass --corpus FOLDER with .txt/.md/.html/.pdf "
              "articles)", file=sys.stderr)
        return 1
    try:
        pipeline = build_pipeline(args, progress=True)  # loads models, brings the index up to date
    except (FileNotFoundError, IndexLocationError) as exc:  # a missing corpus, an unusable index location
        print(f"error: {exc}", file=sys.stderr)
        return 1
    examples = example_questions(pipeline)
    batcher = batching.QuestionBatcher(lambda questions, **options: batching.ask_with_fallback(pipeline, questions, **options),
                                       max_batch=args.batch_size, max_waiting=args.queue_size)
    app = ChatApp(pipeline, batcher, access)
    if examples:
        app.reply(examples[0])  # first forward passes allocate and tune kernels: pay that now
    # Every question asked goes into the batcher, which says "busy" past --queue-size waiting;
    # Gradio's own queue (uploads, and anything beyond) is bounded well above that.
    ask_concurrency = args.queue_size + args.batch_size + 8
    demo = build_ui(app, examples, ask_concurrency=ask_concurrency)
    from gradio.utils import get_upload_folder

    app.upload_folder = get_upload_folder()
    demo.queue(max_size=2 * ask_concurrency, default_concurrency_limit=1)
    login = "login required" if access.users else "no login (this machine only)"
    editing = "read-only" if access.read_only else ("admins edit articles" if access.users else "")
    print(f"serving {len(pipeline.documents)} articles from {args.corpus} on http://{args.host}:{args.port} "
          f"({', '.join(x for x in (login, editing) if x)})", file=sys.stderr, flush=True)
    try:
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, inbrowser=False,
                    max_file_size=max(MAX_FILE_BYTES, MAX_PDF_BYTES), css=chat.CSS, theme=theme(), show_error=False,
                    max_threads=ask_concurrency + 8,  # every question waiting holds a worker thread
                    **serving.launch_kwargs(guard))  # login throttling, sessions, Host/Origin, upload bounds
    finally:
        batcher.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
