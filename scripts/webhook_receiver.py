"""A webhook receiver for trying push delivery locally: prints each request it gets (the
Standard Webhooks headers and the body) and answers 200. Given the hook's secret, it also
verifies each signature with the `standardwebhooks` library, as a real receiver must.

    .venv/bin/python scripts/webhook_receiver.py [--port 9000] [--secret whsec_...]
"""

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", help="the hook's secret: verify every signature with it")
    args = parser.parse_args()
    verifier = Webhook(args.secret) if args.secret else None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            verdict = ""
            if verifier is not None:
                try:
                    verifier.verify(body, headers)
                    verdict = "  signature: verified"
                except WebhookVerificationError as exc:
                    verdict = f"  signature: REFUSED ({exc})"
            print(f"{self.command} {self.path}  webhook-id: {headers.get('webhook-id')}{verdict}", flush=True)
            print(f"  {json.dumps(json.loads(body or b'null'))}", flush=True)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"receiving webhooks on http://{args.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
