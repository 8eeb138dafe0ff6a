"""The two ceilings the app is measured against, each a plain broadcast and nothing else.

- `raw_broadcast_app`: an ASGI app with no Django, run under daphne. Every text
  frame a client sends goes to every connected client.
- `python -m bench.ceilings --port N`: the same on a bare `websockets` server.

Both greet each reader with a `hello` frame, as the app does once a reader is
subscribed, so the reconnecting client (bench/live.py) can tell "in" the same way
everywhere. Both run with the app's garbage-collector settings (and tell its QuietCollector
of each socket they open, as the app does), so a ratio measures
the app's own work, not a collector pause that one side has and the other does not.
"""

from __future__ import annotations

import argparse
import asyncio

from asgi_blog.gc_tuning import quiet_collector, tune_for_long_lived_sockets

HELLO = '{"type":"hello","user":null,"can_comment":false,"can_moderate":false}'

_clients: set = set()


async def raw_broadcast_app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    quiet_collector.socket_opened()
    await send({"type": "websocket.send", "text": HELLO})
    _clients.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is not None:
                for client in tuple(_clients):
                    await client({"type": "websocket.send", "text": text})
    finally:
        _clients.discard(send)


async def serve_websockets(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    connected = set()

    async def handler(websocket) -> None:
        quiet_collector.socket_opened()
        await websocket.send(HELLO)
        connected.add(websocket)
        try:
            async for message in websocket:
                broadcast(connected, message)
        finally:
            connected.discard(websocket)

    async with serve(handler, "127.0.0.1", port, max_size=65536, ping_interval=None):
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    import websockets.asyncio.server  # noqa: F401 - loaded before the collector is tuned, as daphne's modules are

    tune_for_long_lived_sockets()
    asyncio.run(serve_websockets(port))
else:
    # daphne imports this module to find raw_broadcast_app, after its own: tune once they are loaded.
    tune_for_long_lived_sockets()
