"""A provider that answers like a real one, for the delivery benchmark: an HTTP/1.1
server with keep-alive that takes a webhook POST or a Twilio Messages API call, waits
the provider's latency, and answers; it counts every request by its idempotency key
(or its message id) and the most requests it held at once.

With ``--smtp-port``, the same process is also an SMTP server (aiosmtpd) that waits
the latency on every command (EHLO, MAIL, RCPT, DATA, NOOP, RSET), counting each
message by its X-Flowcast-Message header and the connections opened.

Run as its own process (one asyncio loop, so thousands of waiting requests cost
nothing): ``python -m bench.delivery.provider PORT LATENCY_MS [--twilio-limit N]
[--smtp-port PORT]``.
``GET /stats`` answers the counts as JSON; ``POST /reset`` clears them. With
``--twilio-limit``, a call past that many in flight is refused as Twilio refuses it:
429, error code 20429.
"""

import argparse
import asyncio
import json
import time
from collections import Counter
from email import message_from_bytes
from typing import Any
from urllib.parse import parse_qs


class Provider:
    def __init__(self, latency: float, twilio_limit: int | None) -> None:
        self.latency, self.twilio_limit = latency, twilio_limit
        self.keys: Counter[str] = Counter()
        self.in_flight = self.peak = self.refused = 0
        self.connections = 0
        # The time-weighted sum of requests held, from the first to the last.
        self.held = 0.0
        self.first = self.last = 0.0

    def count(self, change: int) -> None:
        now = time.monotonic()
        if self.first == 0.0:
            self.first = now
        self.held += self.in_flight * (now - (self.last or now))
        self.last = now
        self.in_flight += change
        self.peak = max(self.peak, self.in_flight)

    def stats(self) -> dict[str, float]:
        return {
            "requests": sum(self.keys.values()),
            "keys": len(self.keys),
            "seen_twice": sum(1 for n in self.keys.values() if n > 1),
            "peak_in_flight": self.peak,
            "refused_429": self.refused,
            "connections": self.connections,
            "mean_in_flight": round(self.held / (self.last - self.first), 1)
            if self.last > self.first
            else 0,
        }

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        try:
            while True:
                request = await self.read(reader)
                if request is None:
                    return
                status, body = await self.answer(*request)
                payload = json.dumps(body).encode()
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    @staticmethod
    async def read(
        reader: asyncio.StreamReader,
    ) -> tuple[str, str, dict[str, str], bytes] | None:
        line = await reader.readline()
        if not line:
            return None
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        return method, path, headers, body

    async def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[str, dict[str, object]]:
        if method == "GET" and path.startswith("/stats"):
            return "200 OK", dict(self.stats())
        if method == "POST" and path.startswith("/reset"):
            self.keys.clear()
            self.peak = self.refused = self.connections = 0
            self.held = self.first = self.last = 0.0
            return "200 OK", {}
        twilio = "/Messages.json" in path
        if twilio and self.twilio_limit and self.in_flight >= self.twilio_limit:
            self.refused += 1
            return "429 Too Many Requests", {
                "code": 20429,
                "message": "Too Many Requests",
            }
        self.count(+1)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.count(-1)
        key = headers.get("idempotency-key", "")
        if not key:
            if twilio:
                key = parse_qs(body.decode()).get("To", [""])[0]
            else:
                key = str(json.loads(body or b"{}").get("id", ""))
        self.keys[key] += 1
        if twilio:
            return "201 Created", {"sid": f"SM{key}", "status": "queued"}
        return "200 OK", {"id": f"hook-{key}"}


class Mailbox:
    """aiosmtpd's handler: every command waits the latency; messages are counted."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    async def slow(self) -> None:
        await asyncio.sleep(self.provider.latency)

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: Any
    ) -> Any:
        await self.slow()
        session.host_name = hostname
        return responses

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await self.slow()
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await self.slow()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.provider.count(+1)
        try:
            await self.slow()
        finally:
            self.provider.count(-1)
        message = message_from_bytes(envelope.original_content or envelope.content)
        self.provider.keys[str(message.get("X-Flowcast-Message", ""))] += 1
        return "250 OK"

    async def handle_NOOP(
        self, server: Any, session: Any, envelope: Any, arg: str
    ) -> str:  # noqa: N802
        await self.slow()
        return "250 OK"

    async def handle_RSET(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await self.slow()
        return "250 OK"


async def main(
    port: int, latency: float, twilio_limit: int | None, smtp_port: int | None
) -> None:
    provider = Provider(latency, twilio_limit)
    server = await asyncio.start_server(provider.serve, "127.0.0.1", port, backlog=1024)
    if smtp_port:
        from aiosmtpd.smtp import SMTP

        mailbox = Mailbox(provider)

        class Counting(SMTP):
            def connection_made(self, transport: Any) -> None:
                provider.connections += 1
                super().connection_made(transport)

        loop = asyncio.get_running_loop()
        await loop.create_server(
            lambda: Counting(mailbox, hostname="bench.local"),
            "127.0.0.1",
            smtp_port,
            backlog=1024,
        )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("latency_ms", type=float)
    parser.add_argument("--twilio-limit", type=int, default=None)
    parser.add_argument("--smtp-port", type=int, default=None)
    args = parser.parse_args()
    asyncio.run(
        main(args.port, args.latency_ms / 1000, args.twilio_limit, args.smtp_port)
    )
