"""Real servers on 127.0.0.1 for delivery tests: a webhook server that records requests (and can
verify DingTalk / Feishu signatures the way those platforms do), and a tiny SMTP sink."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import socketserver
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class RecordedRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: dict | str = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    hang: bool = False  # never answer (until the server stops): the client times out


class WebhookServer:
    """Answers each POST with the next scripted `Reply` (then the default one) and records it.

    With `dingtalk_secret`, checks `timestamp` and `sign` in the query like DingTalk: the sign
    must be base64(HMAC-SHA256(secret, "timestamp\\nsecret")) and the timestamp within an hour;
    otherwise answers errcode 310000. With `feishu_secret`, checks the body's timestamp/sign
    like Feishu (key "timestamp\\nsecret", empty message) and answers code 19021 on mismatch.
    """

    def __init__(
        self,
        replies: list[Reply] | None = None,
        *,
        default: Reply | None = None,
        dingtalk_secret: str = "",
        feishu_secret: str = "",
    ) -> None:
        self.replies = list(replies or [])
        self.default = default or Reply()
        self.dingtalk_secret = dingtalk_secret
        self.feishu_secret = feishu_secret
        self.requests: list[RecordedRequest] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                parts = urllib.parse.urlsplit(self.path)
                recorded = RecordedRequest(
                    path=parts.path,
                    query=dict(urllib.parse.parse_qsl(parts.query)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = outer._next_reply(recorded)
                if reply.hang:
                    outer.release.wait(10)
                    return
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode("utf-8")
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _next_reply(self, recorded: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            scripted = self.replies.pop(0) if self.replies else None
        if self.dingtalk_secret and not self._dingtalk_signed(recorded):
            return Reply(200, {"errcode": 310000, "errmsg": "sign not match"})
        if self.feishu_secret and not self._feishu_signed(recorded):
            return Reply(200, {"code": 19021, "msg": "sign match fail", "data": {}})
        return scripted or self.default

    def _dingtalk_signed(self, recorded: RecordedRequest) -> bool:
        timestamp = recorded.query.get("timestamp", "")
        sign = recorded.query.get("sign", "")  # parse_qsl already url-decoded it
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600_000:
            return False
        expected = base64.b64encode(
            hmac.new(
                self.dingtalk_secret.encode(),
                f"{timestamp}\n{self.dingtalk_secret}".encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        return hmac.compare_digest(sign, expected)

    def _feishu_signed(self, recorded: RecordedRequest) -> bool:
        body = recorded.json
        timestamp = str(body.get("timestamp", ""))
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 3600:
            return False
        key = f"{timestamp}\n{self.feishu_secret}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        return hmac.compare_digest(str(body.get("sign", "")), expected)

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/robot/send"


# --- SMTP ---------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


class SmtpSink:
    """Enough of SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
    `fail_data` makes the next N messages fail at DATA with 451 (a temporary error)."""

    def __init__(self, *, fail_data: int = 0) -> None:
        self.messages: list[ReceivedMail] = []
        self.fail_data = fail_data
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 sink.local ESMTP ready")
                sender, recipients = "", []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    verb = line[:4].upper()
                    if verb == "EHLO":
                        self.reply("250-sink.local")
                        self.reply("250-8BITMIME")
                        self.reply("250 SMTPUTF8")
                    elif verb == "HELO":
                        self.reply("250 sink.local")
                    elif verb == "MAIL":
                        sender, recipients = (
                            line.split(":", 1)[1].strip().split()[0].strip("<>"),
                            [],
                        )
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(line.split(":", 1)[1].strip().split()[0].strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        lines = []
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b".\n", b""):
                                break
                            lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        if outer.fail_data > 0:
                            outer.fail_data -= 1
                            self.reply("451 4.3.0 Try again later")
                            continue
                        outer.messages.append(ReceivedMail(sender, recipients, b"".join(lines)))
                        self.reply("250 OK queued")
                    elif verb == "RSET":
                        sender, recipients = "", []
                        self.reply("250 OK")
                    elif verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 Command not implemented")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def __enter__(self) -> SmtpSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
