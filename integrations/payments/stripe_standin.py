"""A local stand-in for the parts of Stripe's API we use, for tests and development (no test touches
the internet): Checkout Sessions, Refunds, Idempotency-Key replays, a hosted "pay" page, and webhook
events signed exactly as Stripe signs them (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`).

Run it alone with `changxiang stripe-standin` (it forwards webhooks to the local server).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=1`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append(None)
                if last:
                    node[idx] = value
                else:
                    if node[idx] is None:
                        node[idx] = [] if nxt_is_index else {}
                    node = node[idx]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_index else {})
    return root


class StripeStandIn:
    def __init__(self, webhook_secret: str, webhook_url: str | None = None) -> None:
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self._idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._idempotency_lock = threading.Lock()  # one request per key at a time, as Stripe does
        # paths that answer this status instead (a Stripe in trouble on one endpoint), set by tests
        self.failing: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    # ---- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(
                self,
                status: int,
                body: Any,
                content_type: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                status, body, ctype, headers = standin.handle("GET", self.path, "", dict(self.headers))
                self._reply(status, body, ctype, headers)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                status, body, ctype, headers = standin.handle("POST", self.path, raw, dict(self.headers))
                self._reply(status, body, ctype, headers)

        self._server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- the API

    def handle(
        self, method: str, path: str, body: str, headers: dict[str, str]
    ) -> tuple[int, Any, str, dict[str, str]]:
        lower = {k.lower(): v for k, v in headers.items()}
        url = urlsplit(path)
        params = parse_form(body) if body else {}
        with self._lock:
            self.requests.append(
                {"method": method, "path": url.path, "params": params, "idempotency_key": lower.get("idempotency-key")}
            )
        if url.path.startswith("/v1/"):
            if not lower.get("authorization", "").startswith("Bearer sk_"):
                return (
                    401,
                    {"error": {"type": "invalid_request_error", "message": "no API key"}},
                    "application/json",
                    {},
                )
            failing = self.failing.get(url.path)
            if failing:
                return (
                    failing,
                    {"error": {"type": "api_error", "message": "stand-in told to fail"}},
                    "application/json",
                    {},
                )
            key = lower.get("idempotency-key")
            if method == "POST" and key:
                with self._idempotency_lock:  # a replay waits for the first request and gets its answer
                    if key in self._idempotent:
                        status, cached = self._idempotent[key]
                        return status, cached, "application/json", {"Idempotent-Replayed": "true"}
                    status, out = self._api(method, url.path, params)
                    if status < 500:
                        self._idempotent[key] = (status, out)
                    return status, out, "application/json", {}
            status, out = self._api(method, url.path, params)
            return status, out, "application/json", {}
        m = re.fullmatch(r"/checkout/(cs_[A-Za-z0-9_]+)(/pay|/cancel)?", url.path)
        if m and m.group(1) in self.sessions:
            session = self.sessions[m.group(1)]
            if method == "GET" and not m.group(2):
                return 200, self._page(session).encode(), "text/html; charset=utf-8", {}
            if method == "POST" and m.group(2) == "/pay":
                self.complete(session["id"], deliver=True)
                return 303, b"", "text/plain", {"Location": session["success_url"]}
            if method == "POST" and m.group(2) == "/cancel":
                return 303, b"", "text/plain", {"Location": session["cancel_url"]}
        return (
            404,
            {"error": {"type": "invalid_request_error", "message": f"no route {url.path}"}},
            "application/json",
            {},
        )

    def _api(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/checkout/sessions":
            items = params.get("line_items") or []
            amount = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
            expires_at = int(params.get("expires_at") or time.time() + 86400)
            if expires_at < time.time() + 30 * 60 - 5:
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "param": "expires_at",
                        "message": "expires_at must be at least 30 minutes from now",
                    }
                }
            sid = "cs_test_" + secrets.token_hex(12)
            session = {
                "id": sid,
                "object": "checkout.session",
                "mode": "payment",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount,
                "currency": (items[0]["price_data"]["currency"] if items else "cny"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "payment_intent": None,
                "expires_at": expires_at,
                "url": f"{self.base_url}/checkout/{sid}",
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "line_items": items,
                "created": int(time.time()),
            }
            self.sessions[sid] = session
            return 200, self._public(session)
        m = re.fullmatch(r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)", path)
        if method == "GET" and m:
            found = self.sessions.get(m.group(1))
            if found is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "No such checkout.session"}}
            return 200, self._public(found)
        if method == "POST" and path == "/v1/refunds":
            intent = params.get("payment_intent")
            paid = [s for s in self.sessions.values() if s["payment_intent"] == intent]
            if not paid:
                return 400, {"error": {"type": "invalid_request_error", "message": "No such payment_intent"}}
            amount = int(params.get("amount") or paid[0]["amount_total"])
            refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
            if refunded + amount > paid[0]["amount_total"]:
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "charge_already_refunded",
                        "message": "refund exceeds the charge",
                    }
                }
            rid = "re_test_" + secrets.token_hex(12)
            refund = {
                "id": rid,
                "object": "refund",
                "amount": amount,
                "currency": paid[0]["currency"],
                "payment_intent": intent,
                "status": "succeeded",
                "metadata": params.get("metadata", {}),
                "created": int(time.time()),
            }
            self.refunds[rid] = refund
            return 200, refund
        return 404, {"error": {"type": "invalid_request_error", "message": f"unrecognised {method} {path}"}}

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if k not in ("line_items",)}

    def _page(self, session: dict[str, Any]) -> str:
        yuan = session["amount_total"] / 100
        return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Stripe stand-in checkout</title></head>
<body style="font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:1rem">
<h1>测试支付 · Test checkout</h1><p>本页为本地模拟，不会扣款。This is a local stand-in: no money moves.</p>
<p style="font-size:1.6rem"><strong>¥{yuan:.2f}</strong></p>
<form method="post" action="/checkout/{session["id"]}/pay"><button style="font-size:1.2rem;padding:.6rem 1.2rem">
支付 Pay</button></form>
<form method="post" action="/checkout/{session["id"]}/cancel"><button>取消 Cancel</button></form></body></html>"""

    # ---- what the test (or the pay page) does on Stripe's side

    def event(self, event_type: str, session_id: str) -> bytes:
        session = self._public(self.sessions[session_id])
        payload = {
            "id": "evt_test_" + secrets.token_hex(12),
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "api_version": "2025-01-27.acacia",
            "livemode": False,
            "data": {"object": session},
        }
        return json.dumps(payload).encode()

    def complete(self, session_id: str, deliver: bool = False) -> bytes:
        session = self.sessions[session_id]
        session["status"], session["payment_status"] = "complete", "paid"
        session["payment_intent"] = session["payment_intent"] or "pi_test_" + secrets.token_hex(12)
        payload = self.event("checkout.session.completed", session_id)
        if deliver:
            self.deliver(payload)
        return payload

    def expire(self, session_id: str, deliver: bool = False) -> bytes:
        session = self.sessions[session_id]
        if session["status"] == "open":
            session["status"] = "expired"
        payload = self.event("checkout.session.expired", session_id)
        if deliver:
            self.deliver(payload)
        return payload

    def deliver(self, payload: bytes) -> int:
        """POST a signed event to the webhook URL, as Stripe would."""
        if not self.webhook_url:
            return 0
        request = urllib.request.Request(
            self.webhook_url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": sign_payload(payload, self.webhook_secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code


def start_test_mode(host: str, port: int) -> dict[str, str]:
    """Development with no Stripe keys (`make run` on a fresh clone, issue 21): start this stand-in in the
    server's process, webhooks to the server at `host:port`, and answer the environment that points the
    server at it in test mode (a test key, a fresh webhook secret). No real money moves; the app says so."""
    secret = "whsec_standin_" + secrets.token_hex(16)
    hook = f"http://{host}:{port}/api/v1/payments/stripe/webhook"
    base = StripeStandIn(webhook_secret=secret, webhook_url=hook).start(host=host)
    print(f"TEST MODE: payments go to the bundled Stripe stand-in at {base} (no real money moves)")
    print("set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET to take real payments")
    return {"STRIPE_API_BASE": base, "STRIPE_SECRET_KEY": "sk_test_standin", "STRIPE_WEBHOOK_SECRET": secret}
