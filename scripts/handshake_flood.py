#!/usr/bin/env python3
"""A handshake flood against a chat server on loopback: TOTAL connections, CONCURRENCY at a time, each
closed as soon as it is in (over TLS: its handshake done; in plaintext: the welcome line read). Unlike
`dschat bench idle`, whose clients stay and join the room, this costs the server the connections and the
handshakes only, not a room grown by a thousand members. Prints how long it took.

    scripts/handshake_flood.py PORT [--tls] [--total 1000] [--concurrency 64]"""

import argparse
import asyncio
import ssl
import sys
import time


async def flood(port, use_tls, total, concurrency):
    """Opens and closes total connections, concurrency at a time; returns the seconds it took."""
    context = None
    if use_tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # an ephemeral --tls certificate: the handshake is the load
    started = 0

    async def worker():
        nonlocal started
        while started < total:
            started += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
            if not use_tls:
                await reader.readline()  # the welcome: the server has taken the connection in
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass  # the server may close first

    start = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), timeout=120)
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--total", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    seconds = asyncio.run(flood(args.port, args.tls, args.total, args.concurrency))
    print(f"{args.total} connections in {seconds:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
