"""A webhook receiver for trying push delivery locally. It prints each request it gets (the
webhook-id header and the body) and answers 200. Given the hook's secret (--secret), it
verifies each signature with the `standardwebhooks` library, as a real receiver must, and
answers 401 to a request whose signature it refuses (which triggerapi then retries).

    .venv/bin/python scripts/webhook_receiver.py [--port 9000] [--secret whsec_...]
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from standardwebhooks import Webhook, WebhookVerificationError


def make_server(host: str, port: int, secret: str | None, out: TextIO = sys.stdout) -> ThreadingHTTPServer:
    verifier = Webhook(secret) if secret else None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            code, verdict = 200, ""
            if verifier is not None:
                try:
                    verifier.verify(body, headers)
                    verdict = "  signature: verified"
                except WebhookVerificationError as exc:
                    code, verdict = 401, f"  signature: REFUSED ({exc}), answered 401"
            print(f"{self.command} {self.path}  webhook-id: {headers.get('webhook-id')}{verdict}", file=out, flush=True)
            try:
                shown = json.dumps(json.loads(body or b"null"))
            except ValueError:
                shown = f"(not JSON) {body[:200]!r}"
            print(f"  {shown}", file=out, flush=True)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> None:
    # The docstring's first paragraph, whole (argparse wraps it to the terminal).
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9000, help="the port to listen on (default: 9000)")
    parser.add_argument(
        "--secret", help="the hook's secret (whsec_...): verify every signature with it, answer 401 to a bad one"
    )
    args = parser.parse_args(argv)

    try:
        server = make_server(args.host, args.port, args.secret)
    except OSError as exc:
        # Most often a receiver started earlier still holds the port: say so, no traceback.
        sys.exit(
            f"webhook_receiver: cannot listen on {args.host}:{args.port} ({exc.strerror}): is another receiver "
            "still running? Stop it (kill $RECEIVER in the shell that started it) or pick another --port."
        )
    checking = "verifying signatures" if args.secret else "not verifying signatures (no --secret)"
    print(f"receiving webhooks on http://{args.host}:{server.server_port}/, {checking}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
