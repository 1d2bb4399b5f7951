"""A Gradio app behind the serving guard (qa/security), in-process: Starlette's TestClient drives
it with no server, no socket and no model, so login, session, Host/Origin and upload checks run in
milliseconds. ``guarded(...)`` builds one; the users file is real (scrypt at a cheap cost)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from qa import auth
from qa.security.guard import Guard
from qa.security.hosts import ServedNames
from qa.security.sessions import LiveUsers, SessionBook
from qa.security.throttle import LoginThrottle
from qa.security.uploads import UploadBudget, UploadLimits

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: nothing leaves the machine

PASSWORD = "correct horse battery"
CHEAP = {"n": 2 ** 10}  # the guard, not scrypt, is under test: cheap hashes keep tests fast


def write_users(path: Path, admins=("ana",), readers=("ben",), password: str = PASSWORD) -> Path:
    users = auth.Users({})
    for name in admins:
        users = auth.Users({**users.entries, name: {"role": "admin", **auth.hash_password(password, **CHEAP)}})
    for name in readers:
        users = auth.Users({**users.entries, name: {"role": "user", **auth.hash_password(password, **CHEAP)}})
    users.save(path)
    return path


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Guarded:
    client: object
    app: object
    guard: Guard
    users_path: Path | None
    clock: Clock
    upload_folder: Path

    def reset(self, tmp_path: Path, lifetime: float = 3600.0, limits: UploadLimits | None = None,
              may_upload=None) -> "Guarded":
        """The same app with fresh state (users file, sessions, throttle, budget, clock, cookies,
        upload folder): building a Gradio app takes a second, resetting it nothing."""
        self.clock.now = 1000.0
        self.users_path = write_users(tmp_path / "users.json")
        users = LiveUsers(self.users_path)
        g = self.guard
        g.users = users
        g.may_upload = may_upload or (lambda name: users.is_admin(name))
        g.sessions = SessionBook(lifetime=lifetime, clock=self.clock)
        g.throttle = LoginThrottle(clock=self.clock)
        g.budget = UploadBudget(limits or UploadLimits(), clock=self.clock)
        self.app.tokens.clear()
        self.client.cookies.clear()
        self.upload_folder = tmp_path / "gradio-uploads"
        self.upload_folder.mkdir(exist_ok=True)
        self.app.uploaded_file_dir = str(self.upload_folder)
        return self

    def login(self, name: str = "ana", password: str = PASSWORD, **kwargs):
        return self.client.post("/login", data={"username": name, "password": password}, **kwargs)


def guarded(tmp_path: Path, login: bool = True, bind: str = "127.0.0.1", allowed=(), may_upload=None,
            limits: UploadLimits | None = None, lifetime: float = 3600.0, demo=None,
            base_url: str = "http://127.0.0.1:7860", throttle: LoginThrottle | None = None) -> Guarded:
    import gradio as gr
    from gradio.routes import App
    from starlette.testclient import TestClient

    clock = Clock()
    tmp_path.mkdir(parents=True, exist_ok=True)
    users_path = write_users(tmp_path / "users.json") if login else None
    users = LiveUsers(users_path) if login else None
    if may_upload is None:
        may_upload = (lambda name: users.is_admin(name)) if login else (lambda name: True)
    guard = Guard(names=ServedNames.for_server(bind, allowed), users=users, may_upload=may_upload,
                  sessions=SessionBook(lifetime=lifetime, clock=clock),
                  throttle=throttle or LoginThrottle(clock=clock),
                  budget=UploadBudget(limits or UploadLimits(), clock=clock))
    if demo is None:
        with gr.Blocks(analytics_enabled=False) as demo:
            box, out = gr.Textbox(), gr.Textbox()
            box.submit(lambda x: x, box, out, api_name="echo")
    demo.auth = guard.gradio_auth if login else None
    demo.auth_message = "Log in"
    demo.max_file_size = 50_000_000
    app = App.create_app(demo, app_kwargs={"middleware": [guard.middleware()]})
    folder = tmp_path / "gradio-uploads"
    folder.mkdir(exist_ok=True)
    app.uploaded_file_dir = str(folder)
    client = TestClient(app, base_url=base_url, raise_server_exceptions=False)
    return Guarded(client, app, guard, users_path, clock, folder)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())
