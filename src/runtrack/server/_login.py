"""Browser login for ``runtrack server --auth``: a token form that sets the cookie.

:class:`runtrack.server.auth.TokenAuthMiddleware` hands three kinds of request here:

* ``GET /login`` shows the form; ``POST /login`` checks the pasted token and, when it is
  valid, sets the ``runtrack_token`` cookie (``HttpOnly``, ``SameSite=Strict``, ``Path=/``,
  plus ``Secure`` over https) and redirects to the page asked for (``next``, a local path);
* ``GET /logout`` clears the cookie and shows the form again;
* a page request (``GET`` of a non-API path whose ``Accept`` names HTML) without a valid
  token is redirected to ``/login?next=<path>`` instead of answering 401 JSON.

The page is self-contained (inline style, no script), so it needs no static route that
auth would have to let through.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs, quote

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
_MAX_FORM_BYTES = 8192

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>runtrack: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0;display:flex;
justify-content:center;align-items:center;min-height:100vh}}
form{{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:24rem}}
h1{{font-size:1.2rem;margin:0 0 1rem}} input{{width:100%;box-sizing:border-box;padding:.5rem;
margin:.5rem 0 1rem;font-family:monospace}} button{{padding:.5rem 1.2rem}}
.error{{color:#b00020}} p{{color:#555;font-size:.9rem}}
</style></head>
<body><form method="post" action="{login}">
<h1>runtrack: sign in</h1>
{message}
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="off" required autofocus
 placeholder="rt_…">
<input type="hidden" name="next" value="{next}">
<button type="submit">Sign in</button>
<p>This server requires a token. Ask its administrator for one
(<code>runtrack token create</code> on the server). It is kept in an HttpOnly cookie of
this browser until you <a href="{logout}">sign out</a>.</p>
</form></body></html>
"""


def is_page_request(scope: dict[str, Any]) -> bool:
    """A browser asking for a page (not the API, not a script's request)."""
    if scope.get("method") != "GET" or str(scope.get("path", "")).startswith("/api/"):
        return False
    for key, value in scope.get("headers", ()):
        if key == b"accept":
            return b"text/html" in value
    return False


def safe_next(value: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _query_next(scope: dict[str, Any]) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return safe_next(query.get("next", ["/"])[0])


async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_form(send: Any, status: int, next_path: str, message: str = "",
                    extra: list[tuple[bytes, bytes]] | None = None) -> None:
    note = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    body = _PAGE.format(login=LOGIN_PATH, logout=LOGOUT_PATH, message=note,
                        next=html.escape(next_path, quote=True)).encode()
    await _send(send, status, body,
                [(b"content-type", b"text/html; charset=utf-8"), *(extra or [])])


async def redirect(send: Any, location: str, extra: list[tuple[bytes, bytes]] | None = None
                   ) -> None:
    await _send(send, 303, b"", [(b"location", location.encode("latin-1")), *(extra or [])])


async def to_login(scope: dict[str, Any], send: Any) -> None:
    path = scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    target = path + (f"?{query}" if query else "")
    await redirect(send, f"{LOGIN_PATH}?next={quote(safe_next(target), safe='')}")


def _cookie(scope: dict[str, Any], cookie_name: str, value: str, max_age: int | None) -> bytes:
    parts = [f"{cookie_name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if scope.get("scheme") == "https":
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")


async def _read_form(receive: Any) -> dict[str, str] | None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > _MAX_FORM_BYTES:
            return None
        if not message.get("more_body"):
            break
    fields = parse_qs(body.decode("utf-8", "replace"))
    return {k: v[0] for k, v in fields.items()}


async def handle(scope: dict[str, Any], receive: Any, send: Any, cookie_name: str,
                 is_valid: Any) -> None:
    """Answer ``/login`` (GET, POST) and ``/logout``; ``is_valid(token) -> bool``."""
    path, method = scope.get("path"), scope.get("method")
    if path == LOGOUT_PATH:
        clear = [(b"set-cookie", _cookie(scope, cookie_name, "", 0))]
        await send_form(send, 200, "/", "You are signed out.", clear)
        return
    if method != "POST":
        await send_form(send, 200, _query_next(scope))
        return
    form = await _read_form(receive)
    if form is None:
        await send_form(send, 413, "/", "That form was too large.")
        return
    token = form.get("token", "").strip()
    next_path = safe_next(form.get("next"))
    if not token or not is_valid(token):
        await send_form(send, 401, next_path,
                        "That token is not valid on this server: check it, or ask for a new one.")
        return
    await redirect(send, next_path, [(b"set-cookie", _cookie(scope, cookie_name, token, None))])
