"""What the HTTP layer adds around Gradio: security headers on every response, the API's
optional inputs filled in for callers that send only the message, and the page's own identity
(title, description, Open Graph tags, icon, ``lang``) in place of Gradio's, and ``/embed.js``,
the script with which a site's page lets the chat's iframe fit its content.

Both are plain ASGI middleware, given to Gradio's FastAPI app through ``launch(app_kwargs=…)``.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Awaitable, Callable, Mapping, Sequence
from urllib.parse import parse_qs

__all__ = ["SecurityHeaders", "ApiDefaults", "PageIdentity", "EmbedScript", "security_headers",
           "content_security_policy", "EMBED_JS", "HEIGHT_MESSAGE"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_API_BODY = 256 * 1024  # bytes: a message is at most a few thousand characters


def content_security_policy(frame_ancestors: str) -> str:
    """Everything from the chat's own origin only; framing only by ``frame_ancestors``.

    Gradio's page runs inline bootstrap code and the page's ``js=`` handlers through
    ``new Function``, so scripts need 'unsafe-inline' and 'unsafe-eval'; what keeps document
    text from running is the escaping in ``assistant.citations``, and this policy keeps any
    script from loading from, or sending anything to, another origin."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


def security_headers(frame_ancestors: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        # Sources open without telling their site that the reader came from a child-protection chat.
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }


class SecurityHeaders:
    """Sets ``security_headers(frame_ancestors)`` on every HTTP response (replacing Gradio's own
    values of the same names, and its X-Frame-Options, which frame-ancestors supersedes)."""

    def __init__(self, app: ASGIApp, *, frame_ancestors: str) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in security_headers(frame_ancestors).items()]
        self._replaced = {k for k, _ in self.headers} | {b"x-frame-options"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self._replaced]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ApiDefaults:
    """``POST …/gradio_api/call/<name>`` with fewer ``data`` values than the endpoint takes gets
    the documented defaults for the rest (Gradio itself refuses such a call with an empty
    error and a traceback in the log). ``defaults`` maps an endpoint name to every input's default."""

    def __init__(self, app: ASGIApp, *, defaults: dict[str, Sequence[Any]]) -> None:
        self.app = app
        self.defaults = {name: list(values) for name, values in defaults.items()}

    def _endpoint(self, scope: Scope) -> list[Any] | None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            return None
        path = scope.get("path", "").rstrip("/")
        for name, values in self.defaults.items():
            if path.endswith("/gradio_api/call/" + name):
                return values
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        defaults = self._endpoint(scope)
        if defaults is None:
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_API_BODY:
                await _json_response(send, 413, {"error": f"The request is larger than {MAX_API_BODY // 1024} KB."})
                return
        body = _filled(body, defaults)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.app({**scope, "headers": headers}, replay, send)


def _filled(body: bytes, defaults: list[Any]) -> bytes:
    try:
        payload = json.loads(body)
    except ValueError:
        return body  # Gradio answers malformed JSON itself
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        return body
    data = payload["data"]
    if len(data) >= len(defaults):
        return body
    payload["data"] = data + defaults[len(data):]
    return json.dumps(payload).encode()


async def _json_response(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# Gradio's page template carries its own og:/twitter: tags ("Gradio", "Click to try out the app!").
_FOREIGN_META = re.compile(r'<meta\s+(?:property|name)="(?:og|twitter):[^"]*"[^>]*>\s*|<title>[^<]*</title>\s*'
                           r'|<link\s+rel="(?:shortcut )?icon"[^>]*>\s*|<meta\s+name="description"[^>]*>\s*')
_HTML_TAG = re.compile(r"<html(\s[^>]*)?>")


class PageIdentity:
    """The chat page's ``<title>``, description, Open Graph tags and icon, in the page language
    (``?lang=``, else the browser's Accept-Language), instead of Gradio's generic ones.

    ``titles``/``descriptions`` map a locale to its text; ``negotiate(lang_param, accept_language)``
    returns the page's locale."""

    def __init__(self, app: ASGIApp, *, titles: Mapping[str, str], descriptions: Mapping[str, str],
                 negotiate: Callable[[str, str | None], str]) -> None:
        self.app = app
        self.titles, self.descriptions, self.negotiate = dict(titles), dict(descriptions), negotiate

    def head(self, locale: str) -> str:
        title, text = html.escape(self.titles[locale]), html.escape(self.descriptions[locale])
        return (f"<title>{title}</title>\n<meta name=\"description\" content=\"{text}\">\n"
                f"<meta property=\"og:title\" content=\"{title}\">\n<meta property=\"og:description\" content=\"{text}\">\n"
                f"<meta property=\"og:type\" content=\"website\">\n<meta property=\"og:locale\" content=\"{locale}\">\n"
                "<link rel=\"icon\" href=\"favicon.ico\" type=\"image/svg+xml\">\n")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("path", "/").rstrip("/") != "":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        lang = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [""])[0]
        locale = self.negotiate(lang, headers.get("accept-language"))
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            kinds = {k.lower(): v for k, v in start.get("headers", [])}
            if b"text/html" in kinds.get(b"content-type", b"") and not kinds.get(b"content-encoding"):
                page = _FOREIGN_META.sub("", body.decode("utf-8"))
                page = _HTML_TAG.sub(f'<html lang="{locale}">', page, count=1)
                page = page.replace("</head>", self.head(locale) + "</head>", 1)
                body = page.encode("utf-8")
            kept = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": kept + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, rewrite)


HEIGHT_MESSAGE = "cbss-assistant:height"
# Served as /embed.js. The chat page, when framed, posts its height (and nothing else); this
# script, on the embedding page, sets the height of the iframe that sent it. Only messages from
# the chat's origin and from the iframe's own window are believed.
EMBED_JS = """(() => {
  const TYPE = "%s";
  const origin = new URL(document.currentScript.src).origin;
  window.addEventListener("message", (event) => {
    if (event.origin !== origin || !event.data || event.data.type !== TYPE) return;
    const height = Number(event.data.height);
    if (!Number.isFinite(height) || height < 100 || height > 100000) return;
    for (const frame of document.querySelectorAll("iframe[data-cbss-assistant]")) {
      if (frame.contentWindow === event.source) frame.style.height = Math.ceil(height) + "px";
    }
  });
})();
""" % HEIGHT_MESSAGE


class EmbedScript:
    """``GET /embed.js``: ``EMBED_JS``, from the chat's own origin (no CDN)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.body = EMBED_JS.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or \
                not scope.get("path", "").endswith("/embed.js"):
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/javascript; charset=utf-8"), (b"content-length", str(len(self.body)).encode()),
            (b"cache-control", b"public, max-age=3600"), (b"access-control-allow-origin", b"*")]})
        await send({"type": "http.response.body", "body": self.body if scope["method"] == "GET" else b""})
