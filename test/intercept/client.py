"""A real WebSocket client for the intercept tests (Python websockets): runs the steps given
as JSON on the command line and prints one JSON line per result.
  client.py URL '[["send","hi"],["recv"],["ping","p"],["pong?"],["deflate?"]]' [--deflate]
"""
import asyncio
import json
import sys

import websockets


def say(obj):
    print(json.dumps(obj), flush=True)


async def main(url, steps, deflate):
    waiter = None
    async with websockets.connect(url, compression='deflate' if deflate else None, ping_interval=None, open_timeout=10) as ws:
        for step in steps:
            kind = step[0]
            if kind == 'send':
                await ws.send(step[1])
            elif kind == 'recv':
                try:
                    m = await asyncio.wait_for(ws.recv(), 10)
                    say({'recv': m if isinstance(m, str) else m.hex()})
                except websockets.ConnectionClosed as e:
                    rcvd = e.rcvd
                    say({'closed': rcvd.code if rcvd else None, 'reason': rcvd.reason if rcvd else None})
                    return
            elif kind == 'ping':
                waiter = await ws.ping(step[1].encode())
            elif kind == 'pong?':
                # Asked after an answer the server sent after its pong would have: in order.
                say({'pong': waiter.done()})
            elif kind == 'extensions':
                say({'extensions': ws.response_headers.get('Sec-WebSocket-Extensions')})


asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]), '--deflate' in sys.argv[3:]))
