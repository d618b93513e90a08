"""An example Alertmanager webhook receiver: logs each notification it is sent.

Alertmanager POSTs its webhook JSON (version 4) to the receiver URLs in
deploy/alertmanager/alertmanager.yml; replace this with your paging or
ticketing integration. Standard library only, so it runs in a bare Python image.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(length))
            alerts = body["alerts"]
        except (ValueError, KeyError, TypeError):
            self.send_error(400, "expected Alertmanager webhook JSON")
            return
        for alert in alerts:
            labels = alert.get("labels", {})
            summary = alert.get("annotations", {}).get("summary", "")
            line = f"{self.path} {alert.get('status')} {labels.get('alertname')} {summary}"
            print(line, file=sys.stdout, flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per alert is printed above


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    host = os.environ.get("HOST", "0.0.0.0")  # noqa: S104 (a container's own port)
    ThreadingHTTPServer((host, port), Receiver).serve_forever()


if __name__ == "__main__":
    main()
