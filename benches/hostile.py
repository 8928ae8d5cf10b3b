#!/usr/bin/env python3
"""Hostile clients against a running Roost, at bounded rates, with a bystander.

Run by benches/hostile.sh, which starts the server; this script only talks to
it over loopback and reads its /proc entries. For DURATION seconds it runs, at
once, each attack of the security review that a client can send (each from
an address of its own, given in X-Forwarded-For to a server that trusts the
loopback proxy, so that per-IP limits apply per attacker as they would):

  variables   documents with 115,000 variable definitions (964 KB), 2 a second
  multipart   slow multipart uploads, 30 connections: half trickle 2,000
              parts no `map` names, half one named file at 2 KiB a second
  apq         automatic persisted queries of 900 KiB texts with their hashes, 2 a second
  slowloris   connections that trickle their headers, 50 of them
  methods     requests with invented 4 KB HTTP methods, 20 a second
  websocket   one anonymous socket sending queries as fast as it is answered
  ranges      10 clients in a closed loop: half ask 100 listings' 366-day
              calendars, half the largest calendar query the cost limit accepts

and a bystander that runs an ordinary search page, one request at a time,
recording its latency. Every second it samples the server's resident memory
and open file descriptors. Writes a JSON report to stdout.

    hostile.py PORT PID CITY [DURATION]
"""

import asyncio
import base64
import hashlib
import json
import os
import random
import sys
import time

HOST = "127.0.0.1"


def post_json(path, body, ip, extra=b""):
    data = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Accept: application/graphql-response+json\r\nX-Forwarded-For: {ip}\r\n"
        f"Content-Length: {len(data)}\r\n".encode()
        + extra
        + b"\r\n"
        + data
    )


async def exchange(port, request, timeout=30):
    """Sends one request on a new connection; the status and body length."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await asyncio.wait_for(reader.readexactly(length), timeout)
        elif b"chunked" in head.lower():
            body = await asyncio.wait_for(reader.read(), timeout)
            length = len(body)
        return status, length
    finally:
        writer.close()


class Tally:
    def __init__(self):
        self.counts = {}

    def add(self, key):
        self.counts[str(key)] = self.counts.get(str(key), 0) + 1


async def paced(rate, deadline, one):
    """Starts `one()` `rate` times a second until the deadline (not waiting for each)."""
    tasks = set()
    interval = 1.0 / rate
    while time.monotonic() < deadline:
        t = asyncio.create_task(one())
        tasks.add(t)
        t.add_done_callback(tasks.discard)
        await asyncio.sleep(interval)
    for t in list(tasks):
        t.cancel()


async def guarded(tally, coro):
    try:
        status, _ = await coro
        tally.add(status)
    except asyncio.CancelledError:
        raise
    except Exception as e:  # a refused or reset connection is an answer too
        tally.add(type(e).__name__)


async def variables(port, deadline, tally):
    # Three-letter names of an unknown type: every definition is an error
    # of its own, and the document stays under the 1 MiB body limit.
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    names = (a + b + c for a in letters for b in letters for c in letters)
    defs = " ".join(f"${name}:X" for name, _ in zip(names, range(115_000)))
    request = post_json("/graphql", {"query": f"query({defs}){{__typename}}"}, "10.9.0.1")
    await paced(2, deadline, lambda: guarded(tally, exchange(port, request)))


async def read_status(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1])


async def slow_multipart(port, deadline, tally, n):
    """Even connections trickle parts `map` does not name (2,000 of them, as in
    the review); odd ones trickle one named file of 5 MiB at 2 KiB a second,
    which the server must hold until the body's deadline."""
    boundary = "roostbench"
    named = n % 2 == 1
    while time.monotonic() < deadline:
        answer = None
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            answer = asyncio.create_task(read_status(reader))
            ops = json.dumps({"query": "mutation($f: Upload!){ addPropertyPhoto(propertyId: \"x\", file: $f) { id } }", "variables": {"f": None}})
            head = (
                f"POST /graphql HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-For: 10.9.1.{n}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: 6000000\r\n\r\n"
            )
            writer.write(head.encode())
            writer.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{ops}\r\n".encode())
            writer.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\": [\"variables.f\"]}}\r\n".encode())
            if named:
                writer.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n".encode())
            for part in range(2000):
                if time.monotonic() > deadline or answer.done():
                    break
                if named:
                    writer.write(b"x" * 1024)
                else:
                    writer.write(
                        f"--{boundary}\r\nContent-Disposition: form-data; name=\"p{part}\"; filename=\"p{part}.png\"\r\n"
                        f"Content-Type: image/png\r\n\r\nxx\r\n".encode()
                    )
                await writer.drain()
                await asyncio.sleep(0.5 if named else 0.05)
            try:
                tally.add(await asyncio.wait_for(answer, 1))
            except Exception:
                tally.add("held to the end" if time.monotonic() > deadline else "closed without an answer")
                answer.cancel()
            writer.close()
        except Exception as e:
            # A write after the server answered and closed: count the answer.
            if answer is not None and answer.done() and not answer.cancelled() and answer.exception() is None:
                tally.add(answer.result())
            else:
                tally.add(type(e).__name__)
                await asyncio.sleep(0.2)


async def apq(port, deadline, tally):
    async def one():
        # Under the 1 MiB body limit, far over what a stored query needs.
        text = "query { __typename } # " + "x" * (900 * 1024) + str(random.random())
        digest = hashlib.sha256(text.encode()).hexdigest()
        body = {"query": text, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
        await guarded(tally, exchange(port, post_json("/graphql", body, "10.9.2.1")))

    await paced(2, deadline, one)


async def slowloris(port, deadline, tally, n):
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-For: 10.9.3.{n % 250}\r\n".encode())
            await writer.drain()
            while time.monotonic() < deadline:
                await asyncio.sleep(5)
                writer.write(b"X-Trickle: a\r\n")
                await writer.drain()
                if reader.at_eof():
                    tally.add("closed by the server")
                    break
            writer.close()
        except Exception as e:
            tally.add(type(e).__name__)
            await asyncio.sleep(1)


async def methods(port, deadline, tally):
    async def one():
        method = "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4096))
        request = f"{method} /graphql HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-For: 10.9.4.1\r\nContent-Length: 0\r\n\r\n".encode()
        await guarded(tally, exchange(port, request))

    await paced(20, deadline, one)


def ws_frame(text):
    data = text.encode()
    mask = os.urandom(4)
    head = bytes([0x81])
    if len(data) < 126:
        head += bytes([0x80 | len(data)])
    elif len(data) < 65536:
        head += bytes([0x80 | 126]) + len(data).to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + len(data).to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def ws_read(reader):
    """The next frame: (opcode, payload)."""
    first = await reader.readexactly(2)
    opcode, length = first[0] & 0x0F, first[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return opcode, await reader.readexactly(length)


async def websocket(port, deadline, tally):
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write(
                f"GET /graphql HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Protocol: graphql-transport-ws\r\nX-Forwarded-For: 10.9.5.1\r\n\r\n".encode()
            )
            await reader.readuntil(b"\r\n\r\n")
            writer.write(ws_frame(json.dumps({"type": "connection_init", "payload": {}})))
            await ws_read(reader)
            n = 0
            while time.monotonic() < deadline:
                n += 1
                writer.write(ws_frame(json.dumps({"id": str(n), "type": "subscribe", "payload": {"query": "{ amenities { code } }"}})))
                await writer.drain()
                while True:
                    opcode, payload = await asyncio.wait_for(ws_read(reader), 10)
                    if opcode == 8:
                        tally.add("closed")
                        raise ConnectionError("closed")
                    message = json.loads(payload) if opcode == 1 else {}
                    if message.get("type") == "next":
                        errors = message.get("payload", {}).get("errors") or []
                        tally.add(errors[0].get("extensions", {}).get("code", "error") if errors else "ok")
                    if message.get("type") in ("complete", "error"):
                        break
            writer.close()
        except Exception as e:
            tally.add(type(e).__name__)
            await asyncio.sleep(0.2)


async def ranges(port, deadline, tally, n, city):
    """Even clients ask 100 listings' 366-day calendars, as in the review;
    odd ones the largest calendar query the cost limit accepts (2 listings)."""
    first = 2 if n % 2 else 100
    start = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
    end = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 367 * 86400))
    query = f'{{ properties(first: {first}) {{ nodes {{ id calendar(from: "{start}", to: "{end}") {{ date available price {{ amount }} }} }} }} }}'
    request = post_json("/graphql", {"query": query}, f"10.9.6.{n}")
    while time.monotonic() < deadline:
        await guarded(tally, exchange(port, request))


async def bystander(port, deadline, city, latencies):
    body = {"query": "query($c: String!) { properties(filter: { city: $c }, orderBy: PRICE_ASC, first: 20) { nodes { id title pricePerNight { amount currency } rating { average count } } } }", "variables": {"c": city}}
    request = post_json("/graphql", body, "10.8.0.1")
    reader, writer = await asyncio.open_connection(HOST, port)
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = next(int(l.split(b":", 1)[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            status = int(head.split(b" ", 2)[1])
            latencies.append((time.monotonic(), (time.monotonic() - started) * 1000, status))
        except Exception:
            latencies.append((time.monotonic(), (time.monotonic() - started) * 1000, 0))
            writer.close()
            reader, writer = await asyncio.open_connection(HOST, port)
        await asyncio.sleep(0.02)


def proc_sample(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) // 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


async def sampler(pid, deadline, samples):
    while time.monotonic() < deadline:
        try:
            samples.append((time.monotonic(),) + proc_sample(pid))
        except OSError:
            samples.append((time.monotonic(), -1, -1))
        await asyncio.sleep(1)


def p99(values):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1)


async def main():
    port, pid, city = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    duration = int(sys.argv[4]) if len(sys.argv) > 4 else 60
    start = time.monotonic()
    deadline = start + duration
    tallies = {name: Tally() for name in ["variables", "multipart", "apq", "slowloris", "methods", "websocket", "ranges"]}
    latencies, samples = [], []
    baseline = proc_sample(pid)
    tasks = [
        variables(port, deadline, tallies["variables"]),
        apq(port, deadline, tallies["apq"]),
        methods(port, deadline, tallies["methods"]),
        websocket(port, deadline, tallies["websocket"]),
        bystander(port, deadline, city, latencies),
        sampler(pid, deadline, samples),
    ]
    tasks += [slow_multipart(port, deadline, tallies["multipart"], n) for n in range(30)]
    tasks += [slowloris(port, deadline, tallies["slowloris"], n) for n in range(50)]
    tasks += [ranges(port, deadline, tallies["ranges"], n, city) for n in range(10)]
    await asyncio.gather(*[asyncio.wait_for(t, duration + 30) for t in tasks], return_exceptions=True)

    windows = []
    for w in range(0, duration, 10):
        inside = [ms for (t, ms, _) in latencies if start + w <= t < start + w + 10]
        windows.append({"from_s": w, "requests": len(inside), "p99_ms": p99(inside)})
    report = {
        "duration_s": duration,
        "baseline": {"rss_mib": baseline[0], "fds": baseline[1]},
        "max_rss_mib": max((s[1] for s in samples), default=None),
        "max_fds": max((s[2] for s in samples), default=None),
        "samples": [{"t_s": round(t - start, 1), "rss_mib": r, "fds": f} for (t, r, f) in samples],
        "bystander": {
            "requests": len(latencies),
            "failed": sum(1 for (_, _, s) in latencies if s != 200),
            "p50_ms": round(sorted(ms for (_, ms, _) in latencies)[len(latencies) // 2], 1) if latencies else None,
            "p99_ms": p99([ms for (_, ms, _) in latencies]),
            "windows": windows,
        },
        "attacks": {name: t.counts for name, t in tallies.items()},
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    asyncio.run(main())
