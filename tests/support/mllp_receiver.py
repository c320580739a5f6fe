"""A third-party MLLP receiver for file-back tests: python-hl7's asyncio server.

Usage: mllp_receiver.py PORT LOG MODE
  MODE aa           acknowledge every message AA
  MODE silent-first say nothing to the first message (the sender must send it again, same MSH-10), AA after
  MODE ar           answer AR (rejected) to every message
Each message received is appended to LOG as one JSON line: control id, type, segments.
"""
import asyncio
import json
import sys

import hl7
from hl7.mllp import start_hl7_server

PORT, LOG, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
seen = 0


async def handle(reader, writer):
    global seen
    try:
        while not writer.is_closing():
            msg = await reader.readmessage()
            seen += 1
            msh = msg.segment("MSH")
            record = {"control": str(msh[10]), "type": str(msh[9]), "segments": [str(s) for s in msg]}
            with open(LOG, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
            if MODE == "silent-first" and seen == 1:
                continue
            writer.writemessage(msg.create_ack("AR" if MODE == "ar" else "AA"))
            await writer.drain()
    except asyncio.IncompleteReadError:
        pass


async def main():
    server = await start_hl7_server(handle, "127.0.0.1", PORT, encoding="utf-8")
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
