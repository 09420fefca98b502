#!/usr/bin/env python3
"""The official Centrifugo Python client (centrifuge-python) against the xo-sim simulator.

Usage: scenarios.py HOST:PORT   (a running `xo-sim --ping-secs 1`, project 1001)

Each scenario prints `PASS python <name>` or `FAIL python <name>: <why>`; run.sh counts them.
The client is configured as Xsolla's SDKs would be: no Centrifugo `token`, only
`data: {"auth": <token>, "project_id": <int>}` in the connect command.
"""

import asyncio
import json
import logging
import sys
import time
import traceback
import urllib.request

from centrifuge import Client, ClientEventHandler

LANG = "python"
PROJECT = 1001
CHANNEL = f"orders:{PROJECT}"
MIN_DELAY = 0.1  # reconnect backoff floor (seconds), short to keep the suite fast
MAX_DELAY = 0.8

SIM = sys.argv[1]
BASE = f"http://{SIM}"
WS_URL = f"ws://{SIM}/connection/websocket"


# ---------------------------------------------------------------- simulator control API


def _request(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=5) as resp:
        answer = json.loads(resp.read())
    if not answer.get("ok"):
        raise RuntimeError(f"{method} {path} {body}: {answer}")
    return answer


async def sim_post(path, body):
    return await asyncio.to_thread(_request, "POST", path, body)


async def stats():
    return await asyncio.to_thread(_request, "GET", "/_sim/stats")


async def fault(name, **params):
    await sim_post("/_sim/fault", {"fault": name, **params})


async def wait_stats(pred, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        s = await stats()
        if pred(s):
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; stats: {summary(s)}")
        await asyncio.sleep(0.025)


def summary(s):
    keys = [
        "centrifugo_connects",
        "centrifugo_connects_accepted",
        "centrifugo_handshakes_failed",
        "centrifugo_live",
        "pings_sent",
        "pongs_received",
        "pushes_sent",
    ]
    return {k: s[k] for k in keys}


def push(order_id, status, offset):
    return json.dumps(
        {
            "push": {
                "channel": CHANNEL,
                "pub": {"data": {"order_id": order_id, "status": status}, "offset": offset},
            }
        },
        separators=(",", ":"),
    )


# ---------------------------------------------------------------- client and its events


class Recorder(ClientEventHandler):
    """Keeps every client event as (monotonic time, kind, context)."""

    def __init__(self):
        self.events = []
        self.changed = asyncio.Event()

    def _add(self, kind, ctx):
        self.events.append((time.monotonic(), kind, ctx))
        self.changed.set()

    async def on_connecting(self, ctx):
        self._add("connecting", ctx)

    async def on_connected(self, ctx):
        self._add("connected", ctx)

    async def on_disconnected(self, ctx):
        self._add("disconnected", ctx)

    async def on_error(self, ctx):
        self._add("error", ctx)

    async def on_subscribed(self, ctx):
        self._add("subscribed", ctx)

    async def on_publication(self, ctx):
        self._add("publication", ctx)

    def of(self, kind):
        return [e for e in self.events if e[1] == kind]

    def reconnects(self):
        """`connecting` events other than the one connect() emits (code 0, "connect called")."""
        return [e for e in self.of("connecting") if e[2].code != 0]

    def publications(self):
        return [(c.pub.data, c.pub.offset, c.channel) for _, _, c in self.of("publication")]

    async def wait(self, pred, what, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not pred(self):
            left = deadline - time.monotonic()
            if left <= 0:
                kinds = [(k, getattr(c, "code", None)) for _, k, c in self.events]
                raise AssertionError(f"timed out waiting for {what}; events: {kinds}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass


def new_client(auth, project_id=PROJECT):
    rec = Recorder()
    client = Client(
        WS_URL,
        events=rec,
        data={"auth": auth, "project_id": project_id},
        timeout=1.0,
        max_server_ping_delay=0.5,
        min_reconnect_delay=MIN_DELAY,
        max_reconnect_delay=MAX_DELAY,
        proxy=None,
    )
    return client, rec


async def connected_client(auth):
    client, rec = new_client(auth)
    await client.connect()
    await rec.wait(lambda r: r.of("connected"), "the connected event")
    return client, rec


def check(cond, message):
    if not cond:
        raise AssertionError(message)


# ---------------------------------------------------------------- scenarios


async def connect_with_xsolla_data():
    """Connects with data {auth, project_id}; the reply lists the server-side subscription."""
    before = await stats()
    client, rec = await connected_client("tok-connect")
    try:
        ctx = rec.of("connected")[0][2]
        check(ctx.client, f"connect reply without a client id: {ctx}")
        await rec.wait(
            lambda r: [c for _, _, c in r.of("subscribed") if c.channel == CHANNEL],
            "the server-side subscription",
        )
        s = await stats()
        commands = s["centrifugo_connect_commands"][len(before["centrifugo_connect_commands"]) :]
        check(len(commands) == 1, f"one connect command, got {commands}")
        command = commands[0]
        check(
            command["connect"]["data"] == {"auth": "tok-connect", "project_id": PROJECT},
            f"data as Xsolla's SDKs send it: {command}",
        )
        check(isinstance(command["id"], int) and command["id"] > 0, f"positive id: {command}")
        check(s["centrifugo_connects_accepted"] == before["centrifugo_connects_accepted"] + 1, "accepted")
    finally:
        await client.disconnect()


async def answers_server_pings():
    """The server pings `{}` every second (`ping: 1, pong: true`); the client pongs `{}`."""
    client, rec = await connected_client("tok-ping")
    try:
        start = await stats()
        s = await wait_stats(
            lambda s: s["pongs_received"] >= start["pongs_received"] + 2,
            "two pongs",
            timeout=4.0,
        )
        frames = s["centrifugo_frames_received"][len(start["centrifugo_frames_received"]) :]
        check("{}" in frames, f"a pong frame is exactly '{{}}': {frames}")
        check(len(rec.of("connected")) == 1, "still on the first connection")
        check(not rec.reconnects(), f"no reconnect (e.g. 'no ping'): {rec.reconnects()}")
    finally:
        await client.disconnect()


async def receives_publications_for_its_order():
    """Status changes arrive as publications of the server-side channel, in order."""
    await sim_post("/_sim/order", {"order_id": 101, "status": "new"})
    client, rec = await connected_client("tok-pubs")
    try:
        await sim_post("/_sim/status", {"order_id": 101, "status": "paid"})
        await sim_post("/_sim/status", {"order_id": 101, "status": "done"})
        await rec.wait(lambda r: len(r.publications()) >= 2, "two publications")
        pubs = rec.publications()
        check(
            [p[0] for p in pubs] == [
                {"order_id": 101, "status": "paid"},
                {"order_id": 101, "status": "done"},
            ],
            f"publications: {pubs}",
        )
        check(all(p[2] == CHANNEL for p in pubs), f"channel: {pubs}")
        check(pubs[1][1] == pubs[0][1] + 1, f"offsets count up: {pubs}")
        # Why the connect reply must list the channel in `subs`: the client drops publications of
        # a channel it was not told about (the first push below), and delivers the listed one.
        other = push(101, "other-channel", 5).replace(CHANNEL, "orders:999")
        await fault("centrifugo_send_raw", text=other + "\n" + push(101, "listed-channel", 6))
        await rec.wait(lambda r: len(r.publications()) >= 3, "the publication of the listed channel")
        statuses = [p[0]["status"] for p in rec.publications()]
        check(statuses == ["paid", "done", "listed-channel"], f"statuses: {statuses}")
    finally:
        await client.disconnect()


async def batched_frames():
    """Several messages in one frame: a ping with a push, and two pushes with a trailing newline."""
    await sim_post("/_sim/order", {"order_id": 102, "status": "new"})
    client, rec = await connected_client("tok-batch")
    try:
        await fault("centrifugo_batch", on=True)
        start = await stats()
        await sim_post("/_sim/status", {"order_id": 102, "status": "paid"})  # "{}\n{push}"
        await rec.wait(lambda r: len(r.publications()) >= 1, "the batched publication")
        await wait_stats(
            lambda s: s["pongs_received"] > start["pongs_received"],
            "the pong for the batched ping",
        )
        await fault("centrifugo_batch", on=False)
        await fault("centrifugo_send_raw", text=push(102, "done", 900) + "\n" + push(102, "canceled", 901) + "\n")
        await rec.wait(lambda r: len(r.publications()) >= 3, "both publications of one frame")
        statuses = [p[0]["status"] for p in rec.publications()]
        check(statuses == ["paid", "done", "canceled"], f"statuses: {statuses}")
        check(rec.publications()[2][1] == 901, f"offset: {rec.publications()}")
        check(len(rec.of("connected")) == 1 and not rec.reconnects(), "stayed connected")
    finally:
        await fault("clear")
        await client.disconnect()


async def bad_token_is_terminal():
    """An empty token (101) and another project (103) end in `disconnected`, without retries."""
    for auth, project, code in [("", PROJECT, 101), ("tok-other", PROJECT + 1, 103)]:
        before = await stats()
        client, rec = new_client(auth, project)
        await client.connect()
        try:
            await rec.wait(lambda r: r.of("disconnected"), f"disconnected for code {code}")
            got = rec.of("disconnected")[0][2]
            check(got.code == code, f"disconnect code {got.code} ({got.reason}), want {code}")
            await asyncio.sleep(4 * MIN_DELAY)
            s = await stats()
            check(
                s["centrifugo_connects"] == before["centrifugo_connects"] + 1,
                f"no reconnect after code {code}: {summary(s)}",
            )
            check(not rec.of("connected"), "never connected")
        finally:
            await client.disconnect()


async def expired_token():
    """Expiry of a live token: close 3500, terminal. Connecting with it: error 109, token refresh."""
    client, rec = await connected_client("tok-expire")
    before = await stats()
    try:
        await sim_post("/_sim/expire_token", {"token": "tok-expire"})
        await rec.wait(lambda r: r.of("disconnected"), "disconnected")
        got = rec.of("disconnected")[0][2]
        check(got.code == 3500, f"close code {got.code} ({got.reason}), want 3500")
        await asyncio.sleep(4 * MIN_DELAY)
        s = await stats()
        check(s["centrifugo_connects"] == before["centrifugo_connects"], "no reconnect after 3500")
    finally:
        await client.disconnect()
    # 109 means "get a new token": without a way to get one the client stops as unauthorized.
    client, rec = new_client("tok-expire")
    await client.connect()
    try:
        await rec.wait(lambda r: r.of("disconnected"), "disconnected after 109")
        errors = [c.error for _, _, c in rec.of("error")]
        check(
            any(getattr(e, "code", None) == 109 for e in errors),
            f"the 109 reply reached the client: {errors}",
        )
        got = rec.of("disconnected")[0][2]
        check(got.code == 1, f"disconnected as unauthorized (1), got {got.code} ({got.reason})")
    finally:
        await client.disconnect()


async def disconnect_pushes():
    """`{"push":{"disconnect":...}}`: 3001 reconnects, 3503 is terminal (Centrifugo's code rule)."""
    client, rec = await connected_client("tok-disconnect")
    try:
        await fault("centrifugo_send_raw", text='{"push":{"disconnect":{"code":3001,"reason":"shutdown"}}}')
        await rec.wait(lambda r: len(r.of("connected")) >= 2, "reconnect after a 3001 push")
        check([c.code for _, _, c in rec.reconnects()] == [3001], f"reconnects: {rec.reconnects()}")
        before = await stats()
        await fault("centrifugo_send_raw", text='{"push":{"disconnect":{"code":3503,"reason":"force disconnect"}}}')
        await rec.wait(lambda r: r.of("disconnected"), "disconnected after a 3503 push")
        got = rec.of("disconnected")[0][2]
        check((got.code, got.reason) == (3503, "force disconnect"), f"disconnected with {got}")
        await asyncio.sleep(4 * MIN_DELAY)
        s = await stats()
        check(s["centrifugo_connects"] == before["centrifugo_connects"], "no reconnect after 3503")
    finally:
        await client.disconnect()


async def reconnects_with_backoff():
    """Dropped socket (reset, then refused upgrades): reconnect with growing jittered delays."""
    await sim_post("/_sim/order", {"order_id": 103, "status": "new"})
    client, rec = await connected_client("tok-reconnect")
    try:
        before = await stats()
        await fault("centrifugo_refuse", n=3)
        await fault("centrifugo_reset_all")
        await rec.wait(lambda r: len(r.of("connected")) >= 2, "the second connection", timeout=8.0)
        s = await stats()
        check(
            s["centrifugo_handshakes_failed"] == before["centrifugo_handshakes_failed"] + 3,
            f"three refused attempts: {summary(s)}",
        )
        lost_at = rec.reconnects()[0][0]
        attempts = [t for t, _, _ in rec.of("error")] + [rec.of("connected")[1][0]]
        check(len(attempts) == 4, f"3 failed attempts and a good one, got {len(attempts)}")
        times = [lost_at] + attempts
        gaps = [b - a for a, b in zip(times[1:], times[2:])]
        # Every retry waits at least the minimum delay (the first attempt after a loss may be
        # immediate); jitter is random, so only the floor and the cap are checked.
        check(
            all(MIN_DELAY * 0.9 <= g <= MAX_DELAY + 0.5 for g in gaps),
            f"retry gaps {['%.3f' % g for g in gaps]} outside [{MIN_DELAY}, {MAX_DELAY}]",
        )
        await sim_post("/_sim/status", {"order_id": 103, "status": "done"})
        await rec.wait(lambda r: r.publications(), "a publication after reconnecting")
        # A clean close with a non-terminal code (3001 shutdown) also reconnects.
        await fault("centrifugo_close_all", code=3001, reason="shutdown")
        await rec.wait(lambda r: len(r.of("connected")) >= 3, "reconnect after 3001", timeout=5.0)
        codes = [c.code for _, _, c in rec.reconnects()]
        check(3001 in codes, f"connecting codes: {codes}")
        check(not rec.of("disconnected"), "never disconnected for good")
    finally:
        await fault("clear")
        await client.disconnect()


async def silent_server_is_detected():
    """No frame for ping + max_server_ping_delay: the client reconnects ('no ping', code 2)."""
    client, rec = await connected_client("tok-silent")
    try:
        await fault("centrifugo_silent", on=True)
        await rec.wait(lambda r: r.reconnects(), "the 'no ping' reconnect", timeout=5.0)
        got = rec.reconnects()[0][2]
        check(got.code == 2, f"connecting code {got.code} ({got.reason}), want 2 (no ping)")
        await fault("centrifugo_silent", on=False)
        await rec.wait(lambda r: len(r.of("connected")) >= 2, "connected again", timeout=6.0)
    finally:
        await fault("clear")
        await client.disconnect()


SCENARIOS = [
    connect_with_xsolla_data,
    answers_server_pings,
    receives_publications_for_its_order,
    batched_frames,
    bad_token_is_terminal,
    expired_token,
    disconnect_pushes,
    reconnects_with_backoff,
    silent_server_is_detected,
]


async def main():
    logging.basicConfig(level=logging.CRITICAL)
    failed = 0
    for scenario in SCENARIOS:
        name = scenario.__name__
        started = time.monotonic()
        try:
            await asyncio.wait_for(scenario(), 20.0)
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            failed += 1
            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
            print(f"FAIL {LANG} {name}: {detail}", flush=True)
            try:
                await stats()
            except OSError:
                # The simulator is gone (run.sh ended): the remaining scenarios cannot run.
                print(f"FAIL {LANG} harness: the simulator at {SIM} is gone", flush=True)
                return failed + 1
        else:
            print(f"PASS {LANG} {name} ({time.monotonic() - started:.1f}s)", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main()) else 0)
