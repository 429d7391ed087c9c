"""A webhook receiver that verifies Standard Webhooks signatures with the PyPI `standardwebhooks` package:
the independent implementation the notification tests check the orchestrator's signatures against.

    python3 test/support/webhook_verifier.py '["whsec_...", ...]'   # prints the port it listens on

POST /hook        verify with any of the secrets; 200 when valid, 401 otherwise (the request is kept either way)
GET  /received    every request so far: webhook-id, timestamp, signature, body, verified, error
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRETS = json.loads(sys.argv[1])
RECEIVED = []
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/received":
            with LOCK:
                return self._answer(200, RECEIVED)
        return self._answer(404, {"error": "not found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified, error = False, None
        for secret in SECRETS:
            try:
                Webhook(secret).verify(body, headers)
                verified, error = True, None
                break
            except WebhookVerificationError as e:
                error = str(e)
        with LOCK:
            RECEIVED.append({
                "webhook_id": headers.get("webhook-id"),
                "webhook_timestamp": headers.get("webhook-timestamp"),
                "webhook_signature": headers.get("webhook-signature"),
                "body": body.decode("utf-8", "replace"),
                "verified": verified,
                "error": error,
            })
        self._answer(200 if verified else 401, {"verified": verified, "error": error})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
