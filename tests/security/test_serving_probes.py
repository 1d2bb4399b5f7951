"""Served host and origin probes: which names and origins the chat answers, and which address counts
as "this machine only". In-process (TestClient) for the header matrix, and one real server on a
random 127.0.0.1 port for what only a socket can send (no Host, two Hosts, HTTP/1.0).

Each probe asserts a clear refusal (403 and a sentence, never a 500), nothing written (the upload
folder stays empty, the throttle untouched), and no hang (every socket has a timeout)."""
from __future__ import annotations

import socket

import pytest

from qa import auth
from qa.security.hosts import ServedNames

from ..chat_helpers import free_port
from ..security_helpers import guarded

FILES = {"files": ("note.txt", b"Harbour news\n\nThe ferry sailed.")}


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    """No login (loopback): the server the Host/Origin checks matter most for."""
    return guarded(tmp_path_factory.mktemp("serving"), login=False)


@pytest.fixture
def g(open_server, tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    open_server.upload_folder = folder
    open_server.app.uploaded_file_dir = str(folder)
    return open_server


REFUSED_HOSTS = ["evil.example", "evil.example:7860", "127.0.0.1.nip.io:7860", "127.evil.example",
                 "localhost.evil.example", "127.0.0.1@evil.example", "0.0.0.0:7860", "10.0.0.1:7860", "[::2]:7860",
                 "127.0.0.1:notaport", "xn--80ak6aa92e.com", "LOCALHOST.evil", "127.0.0.2:7860", "evil.example/x",
                 "127.0.0.1 evil.example", "", "[::1"]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_foreign_host_is_refused_on_every_route(g, host):
    for method, path in (("GET", "/"), ("GET", "/config"), ("POST", "/gradio_api/upload")):
        kwargs = {"files": FILES} if method == "POST" else {}
        r = g.client.request(method, path, headers={"host": host}, **kwargs)
        assert r.status_code == 403, (host, path, r.status_code)
        assert "Host" in r.json()["detail"] or "does not answer to the name" in r.json()["detail"]
    assert list(g.upload_folder.iterdir()) == []


@pytest.mark.parametrize("host", ["127.0.0.1:7860", "localhost:7860", "LOCALHOST:7860", "[::1]:7860", "127.0.0.1",
                                  "localhost.:7860"])
def test_this_machine_s_names_are_served(g, host):
    assert g.client.get("/config", headers={"host": host}).status_code == 200


REFUSED_ORIGINS = ["null", "http://evil.example", "http://127.0.0.1:3000", "https://evil.example:7860",
                   "http://localhost:7860", "file://", "http://127.0.0.1:7860.evil.example", "chrome-extension://abcdef",
                   "http://127.0.0.1:7860/path", "ftp://127.0.0.1:7860", "http://evil.example:7860", "javascript:alert(1)",
                   "http://[::1]:7860", "http://127.0.0.1:7861"]


@pytest.mark.parametrize("origin", REFUSED_ORIGINS)
def test_a_cross_origin_upload_is_refused_and_writes_nothing(g, origin):
    r = g.client.post("/gradio_api/upload", files=FILES, headers={"origin": origin})
    assert r.status_code == 403 and ("origin" in r.json()["detail"])
    assert list(g.upload_folder.iterdir()) == []


# https on the same host and port: the page behind a TLS proxy, which talks plain http to the app
# (no page elsewhere can have this origin: the port is the app's own).
@pytest.mark.parametrize("origin", ["http://127.0.0.1:7860", "https://127.0.0.1:7860"])
def test_a_same_origin_upload_is_accepted(g, origin):
    r = g.client.post("/gradio_api/upload", files=FILES, headers={"origin": origin})
    assert r.status_code == 200 and len(list(g.upload_folder.rglob("note.txt"))) == 1


@pytest.mark.parametrize("site, status", [("cross-site", 403), ("same-origin", 200), ("none", 200)])
def test_a_cross_site_post_without_origin_is_refused(g, site, status):
    r = g.client.post("/gradio_api/upload", files=FILES, headers={"sec-fetch-site": site})
    assert r.status_code == status


@pytest.mark.parametrize("path", ["/gradio_api/component_server", "/gradio_api/process_recording",
                                  "/gradio_api/queue/join", "/gradio_api/upload_progress", "/config"])
def test_files_go_through_the_upload_route_only(g, path, tmp_path):
    r = g.client.post(path, files={"video": ("a.mp4", b"x" * 1000), "files": ("b.txt", b"y")})
    assert r.status_code == 415 and "upload route" in r.json()["detail"]
    assert list(g.upload_folder.iterdir()) == []


def test_an_oversized_request_body_is_refused(g):
    r = g.client.post("/gradio_api/queue/join", content=b"{" + b" " * 8_000_001 + b"}",
                      headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than 8 MB" in r.json()["detail"]


def test_a_foreign_host_is_refused_before_the_password_is_checked(tmp_path):
    g = guarded(tmp_path)
    r = g.client.post("/login", data={"username": "ana", "password": "guess"}, headers={"host": "evil.example"})
    assert r.status_code == 403 and g.guard.throttle.check("ana", "testclient").allowed
    assert g.guard.throttle._failures == {}


@pytest.mark.parametrize("bind, host, local, allowed", [
    ("0.0.0.0", "192.0.2.10:7860", "192.0.2.10", True),      # a client typed this interface's address
    ("0.0.0.0", "192.0.2.11:7860", "192.0.2.10", False),     # another address
    ("0.0.0.0", "qa.newsroom.example", "192.0.2.10", False),  # a name nobody allowed
    ("192.0.2.10", "192.0.2.10:7860", "192.0.2.10", True),
])
def test_an_interface_address_is_served_only_as_itself(bind, host, local, allowed):
    names = ServedNames.for_server(bind)
    assert (names.refusal(host, None, local) is None) is allowed
    assert ServedNames.for_server(bind, ["qa.newsroom.example"]).refusal("qa.newsroom.example", None, local) is None


@pytest.mark.parametrize("host", ["127.evil.example", "127.0.0.1.nip.io", "localhost.localdomain", "0x7f.0.0.1",
                                  "2130706433", "127.1", "0177.0.0.1", "::", "0.0.0.0", "", " 127.0.0.1", "127.0.0.1\n",
                                  "localhost:7860", "127.0.0.1.", "localhost."])
def test_a_host_that_is_not_a_loopback_address_needs_a_login(host):
    def resolve(name):
        assert name == "localhost", f"{name!r} must not be looked up"
        return ["127.0.0.1"]

    with pytest.raises(auth.UsersError, match="needs a login"):
        auth.server_access(host, False, None, read_only=False, resolve=resolve)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1", "LOCALHOST", "127.8.9.10"])
def test_a_loopback_address_needs_no_login(host):
    assert auth.server_access(host, False, None, read_only=False, resolve=lambda name: ["127.0.0.1", "::1"]).users is None


# ------------------------------------------------------------------ a real server, raw requests

@pytest.fixture(scope="module")
def live(tmp_path_factory):
    import gradio as gr

    from qa.security import serving
    from qa.security.guard import Guard

    guard = Guard(names=ServedNames.for_server("127.0.0.1"))
    with gr.Blocks(analytics_enabled=False) as demo:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(lambda x: x, box, out, api_name="echo")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **serving.launch_kwargs(guard))
    yield port
    demo.close()


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and len(b"".join(chunks)) > 64:
                break
    return b"".join(chunks)


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /config HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", b"200"),
    (b"GET /config HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", b"403"),
    (b"GET /config HTTP/1.0\r\n\r\n", b"403"),  # no Host at all
    (b"GET /config HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", b"4"),
    (b"GET http://evil.example/config HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", b"403"),
    (b"POST /gradio_api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
     b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", b"403"),
])
def test_raw_requests_to_a_real_server(live, request_bytes, status):
    answer = _raw(live, request_bytes)
    assert answer.split(b" ", 2)[1].startswith(status), answer[:200]
