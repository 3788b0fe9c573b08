#!/usr/bin/env python3
"""A chat server the way a Python course teaches it: asyncio streams, one coroutine per client, and every
line a client sends is written to every other client, prefixed with the sender's address.

    python3 py_chat_server.py PORT [HOST]      (HOST defaults to 127.0.0.1)

A reference to measure dschat against (scripts/bench-compare), not part of dschat: it writes to the other
clients one after the other and waits for each one's drain(), so one client that stops reading holds up
the whole room -- which is what the comparison shows."""

import asyncio
import sys

clients = set()  # the StreamWriter of every connected client


async def handle_client(reader, writer):
    host, port = writer.get_extra_info("peername")[:2]
    name = f"{host}:{port}"  # what the others see before each of its lines
    clients.add(writer)
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            if not line.endswith(b"\n"):
                line += b"\n"
            message = f"{name}: ".encode() + line
            for other in list(clients):
                if other is writer:
                    continue
                try:
                    other.write(message)
                    await other.drain()
                except ConnectionError:
                    clients.discard(other)
    except ConnectionError:
        pass
    finally:
        clients.discard(writer)
        writer.close()


async def main():
    port = int(sys.argv[1])
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    server = await asyncio.start_server(handle_client, host, port)
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: py_chat_server.py PORT [HOST]")
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
