"""Check CryptoLens through nginx (deploy/nginx/ci.conf): static files served by nginx with
their cache headers, the app's security headers passed through, the client address the app
sees, and the body limit. Run by scripts/check_nginx.sh, which starts both servers.

The client address: /metrics is allowed from 127.0.0.2 only (METRICS_ALLOW), and the check
connects to nginx from 127.0.0.2 (allowed) and from 127.0.0.1 claiming 127.0.0.2 in
X-Forwarded-For (refused): the app sees the address nginx saw, never a client's claim.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ONE_MIB = 1024 * 1024
READY_SECONDS = 30.0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Checks:
    failures: list[str] = field(default_factory=list)
    passed: int = 0

    def expect(self, ok: bool, what: str) -> None:
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failures.append(what)
            print(f"FAIL {what}")


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def request(
    address: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    source: str | None = None,
    announce_only: int | None = None,
) -> Answer:
    """One request; ``announce_only`` sends a Content-Length of that many bytes and no body
    (nginx must refuse it from the headers alone)."""
    host, port = _split(address)
    connection = http.client.HTTPConnection(
        host, port, timeout=5, source_address=(source, 0) if source else None
    )
    try:
        if announce_only is not None:
            connection.putrequest(method, path)
            connection.putheader("Content-Length", str(announce_only))
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
        else:
            connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


def wait_ready(address: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            if request(address, "GET", "/api/health/live").status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"nothing answered /api/health/live at {address}")
        time.sleep(0.2)


def check_static(checks: Checks, nginx: str, app: str, root: Path) -> None:
    own = request(nginx, "GET", "/static/css/app.css")
    checks.expect(own.status == 200, "a static file is served through nginx (200)")
    checks.expect(
        own.body == (root / "css" / "app.css").read_bytes(), "its body is the package's file"
    )
    checks.expect(
        own.headers.get("cache-control") == "public, max-age=86400",
        f"the app's own CSS is cached a day (Cache-Control: {own.headers.get('cache-control')})",
    )
    checks.expect("etag" in own.headers, "it carries an ETag for revalidation")
    checks.expect(
        own.headers.get("x-content-type-options") == "nosniff", "nginx adds nosniff to it"
    )
    checks.expect(
        "x-request-id" not in own.headers, "it did not go through the app (no X-Request-ID)"
    )
    direct = request(app, "GET", "/static/css/app.css")
    checks.expect(
        "x-request-id" in direct.headers,
        "the same file from gunicorn has X-Request-ID (the marker)",
    )
    vendor = request(nginx, "HEAD", "/static/vendor/swagger-ui.css")
    checks.expect(
        vendor.status == 200 and vendor.headers.get("cache-control") == "public, max-age=2592000",
        f"a vendored file is cached 30 days (Cache-Control: {vendor.headers.get('cache-control')})",
    )
    again = request(
        nginx, "GET", "/static/css/app.css", headers={"If-None-Match": own.headers.get("etag", "")}
    )
    checks.expect(again.status == 304, f"a revalidation with its ETag is a 304 ({again.status})")
    missing = request(nginx, "GET", "/static/css/missing.css")
    checks.expect(
        missing.status == 404 and "x-request-id" not in missing.headers,
        f"a missing static file is nginx's 404 ({missing.status})",
    )


def check_app_headers(checks: Checks, nginx: str) -> None:
    page = request(nginx, "GET", "/", headers={"X-Forwarded-Proto": "https"})
    checks.expect(page.status < 500, f"the home page answers through nginx ({page.status})")
    checks.expect("x-request-id" in page.headers, "it came from the app (X-Request-ID)")
    for name, value in (
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
    ):
        checks.expect(page.headers.get(name) == value, f"the app's {name}: {value} passes through")
    checks.expect(
        "default-src" in page.headers.get("content-security-policy", ""),
        "the app's Content-Security-Policy passes through",
    )
    checks.expect(
        "strict-transport-security" not in page.headers,
        "a client's X-Forwarded-Proto: https is replaced by nginx's scheme (no HSTS over http)",
    )
    checks.expect(
        not page.headers.get("server", "").startswith("gunicorn/"), "no gunicorn version shown"
    )


def check_client_address(checks: Checks, nginx: str) -> None:
    allowed = request(nginx, "GET", "/metrics", source="127.0.0.2")
    checks.expect(
        allowed.status == 200 and b"cryptolens_http_requests_total" in allowed.body,
        f"the app sees the real client 127.0.0.2: /metrics allowed ({allowed.status})",
    )
    spoofed = request(
        nginx, "GET", "/metrics", source="127.0.0.1", headers={"X-Forwarded-For": "127.0.0.2"}
    )
    checks.expect(
        spoofed.status == 403,
        f"127.0.0.1 claiming 127.0.0.2 in X-Forwarded-For is refused ({spoofed.status})",
    )


def check_body_limit(checks: Checks, nginx: str) -> None:
    try:
        too_large = request(nginx, "POST", "/api/v1/alerts", announce_only=ONE_MIB + 1)
    except OSError as exc:  # nginx waited for the body it should have refused
        too_large = Answer(0, {"error": str(exc)}, b"")
    checks.expect(
        too_large.status == 413 and "x-request-id" not in too_large.headers,
        f"a body over 1 MiB is refused by nginx with 413 ({too_large.status})",
    )
    at_limit = request(nginx, "POST", "/api/v1/alerts", body=b"x" * ONE_MIB)
    checks.expect(
        at_limit.status != 413 and "x-request-id" in at_limit.headers,
        f"a body of exactly 1 MiB reaches the app ({at_limit.status})",
    )
    upload = request(nginx, "POST", "/portfolio/1/import", body=b"x" * (2 * ONE_MIB))
    checks.expect(
        "x-request-id" in upload.headers,
        f"the portfolio import takes more than 1 MiB through nginx ({upload.status} from the app)",
    )


def _open_stream(nginx: str, path: str, headers: dict[str, str]) -> socket.socket:
    host, port = _split(nginx)
    sock = socket.create_connection((host, port), timeout=5)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _read_until(sock: socket.socket, marker: bytes, seen: bytes, deadline: float) -> bytes:
    while marker not in seen:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        part = sock.recv(4096)
        if not part:
            break
        seen += part
    return seen


def check_stream(checks: Checks, nginx: str, key: str) -> None:
    """SSE through nginx comes through as it is written (the hello event, then a heartbeat a
    second later: nothing waits in a buffer), and the WebSocket handshake is passed on."""
    auth = {"Authorization": f"Bearer {key}"}
    sock = _open_stream(nginx, "/stream?channels=signals", auth)
    try:
        started = time.monotonic()
        seen = _read_until(sock, b"event: hello", b"", started + 5)
        hello_at = time.monotonic()
        seen = _read_until(sock, b": ping", seen, hello_at + 5)
        ping_after = time.monotonic() - hello_at
    except OSError as exc:
        seen, ping_after = str(exc).encode(), 99.0
    finally:
        sock.close()
    checks.expect(
        seen.startswith(b"HTTP/1.1 200") and b"text/event-stream" in seen,
        f"/stream answers an event stream through nginx ({seen[:15]!r})",
    )
    checks.expect(
        b"event: hello" in seen and b": ping" in seen and ping_after < 3.0,
        f"SSE comes through nginx unbuffered: a heartbeat {ping_after:.1f} s after hello",
    )
    upgrade = {
        **auth,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
    }
    sock = _open_stream(nginx, "/ws", upgrade)
    try:
        answer = _read_until(sock, b"\r\n\r\n", b"", time.monotonic() + 5)
    except OSError as exc:
        answer = str(exc).encode()
    finally:
        sock.close()
    checks.expect(
        answer.startswith(b"HTTP/1.1 101"),
        f"the WebSocket upgrade at /ws passes through nginx ({answer[:20]!r})",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nginx", required=True, help="host:port of nginx")
    parser.add_argument("--app", required=True, help="host:port of gunicorn")
    parser.add_argument("--static-root", required=True, type=Path)
    parser.add_argument("--stream-key-file", type=Path, help="a read:stream API key's file")
    args = parser.parse_args()
    started = time.monotonic()
    wait_ready(args.nginx)
    checks = Checks()
    check_static(checks, args.nginx, args.app, args.static_root)
    check_app_headers(checks, args.nginx)
    check_client_address(checks, args.nginx)
    check_body_limit(checks, args.nginx)
    if args.stream_key_file is not None:
        check_stream(checks, args.nginx, args.stream_key_file.read_text().strip())
    took = time.monotonic() - started
    if checks.failures:
        print(
            f"nginx check: {len(checks.failures)} of {checks.passed + len(checks.failures)} failed"
        )
        return 1
    print(f"nginx check: all {checks.passed} passed ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
