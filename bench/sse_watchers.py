#!/usr/bin/env python3
"""N live-log watchers on one job: opens N SSE streams of
/api/v4/projects/P/jobs/J/trace/stream at once, reads each to its `end` event
and checks that every watcher received exactly the job's whole log.

usage: sse_watchers.py URL TOKEN PROJECT_ID JOB_ID N
prints: watchers=N complete=K bytes_each=B seconds=S
"""
import asyncio
import json
import sys
import time
from urllib.parse import urlparse


async def watch(host, port, path, token, results, connected):
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    writer.write(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nPRIVATE-TOKEN: %s\r\n\r\n"
                  % (path, host, port, token)).encode())
    await writer.drain()
    connected.append(1)
    text, ended = [], False
    await reader.readuntil(b"\r\n\r\n")
    while True:
        try:
            block = await reader.readuntil(b"\n\n")
        except asyncio.IncompleteReadError:
            break
        lines = block.decode().split("\n")
        if lines[0] == "event: append":
            text.append(json.loads(lines[2][len("data: "):]))
        elif lines[0] == "event: end":
            ended = True
    writer.close()
    results.append((ended, "".join(text)))


async def main():
    url, token, project, job, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    parsed = urlparse(url)
    path = "/api/v4/projects/%s/jobs/%s/trace/stream" % (project, job)
    results, connected = [], []
    start = time.monotonic()
    await asyncio.gather(*(watch(parsed.hostname, parsed.port, path, token, results, connected)
                           for _ in range(n)))
    seconds = time.monotonic() - start
    complete = [t for ended, t in results if ended]
    sizes = sorted(set(len(t.encode()) for t in complete))
    same = len(set(complete)) == 1
    print("watchers=%d complete=%d identical=%s bytes_each=%s seconds=%.1f"
          % (n, len(complete), same, ",".join(map(str, sizes)), seconds))
    return 0 if len(complete) == n and same else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
