#!/usr/bin/env node
// The official Centrifugo JavaScript client (centrifuge-js, npm `centrifuge`) against xo-sim.
//
// Usage: NODE_PATH=<dir>/node_modules node scenarios.js HOST:PORT
//        (a running `xo-sim --ping-secs 1`, project 1001)
//
// Each scenario prints `PASS node <name>` or `FAIL node <name>: <why>`; run.sh counts them.
// The client is configured as Xsolla's SDKs would be: no Centrifugo `token`, only
// `data: {auth: <token>, project_id: <int>}` in the connect command.
'use strict';

const { Centrifuge } = require('centrifuge');
const WebSocket = require('ws');

const LANG = 'node';
const PROJECT = 1001;
const CHANNEL = `orders:${PROJECT}`;
const MIN_DELAY = 100; // reconnect backoff floor (ms), short to keep the suite fast
const MAX_DELAY = 800;

const SIM = process.argv[2];
const BASE = `http://${SIM}`;
const WS_URL = `ws://${SIM}/connection/websocket`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();

// ------------------------------------------------------------ simulator control API

async function request(method, path, body) {
  const response = await fetch(BASE + path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!answer.ok) throw new Error(`${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer)}`);
  return answer;
}

const simPost = (path, body) => request('POST', path, body);
const stats = () => request('GET', '/_sim/stats');
const fault = (name, params = {}) => simPost('/_sim/fault', { fault: name, ...params });

function summary(s) {
  const keys = ['centrifugo_connects', 'centrifugo_connects_accepted', 'centrifugo_handshakes_failed',
    'centrifugo_live', 'pings_sent', 'pongs_received', 'pushes_sent'];
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, s[k]])));
}

async function waitStats(pred, what, timeout = 5000) {
  const deadline = now() + timeout;
  for (;;) {
    const s = await stats();
    if (pred(s)) return s;
    if (now() > deadline) throw new Error(`timed out waiting for ${what}; stats: ${summary(s)}`);
    await sleep(25);
  }
}

function push(orderId, status, offset) {
  return JSON.stringify({ push: { channel: CHANNEL, pub: { data: { order_id: orderId, status }, offset } } });
}

// ------------------------------------------------------------ client and its events

class Recorder {
  constructor(client) {
    this.events = [];
    this.waiters = new Set();
    for (const kind of ['connecting', 'connected', 'disconnected', 'error', 'subscribed', 'publication']) {
      client.on(kind, (ctx) => {
        this.events.push({ at: now(), kind, ctx });
        for (const wake of this.waiters) wake();
      });
    }
  }

  of(kind) {
    return this.events.filter((e) => e.kind === kind);
  }

  // `connecting` events other than the one connect() emits (code 0, "connect called").
  reconnects() {
    return this.of('connecting').filter((e) => e.ctx.code !== 0);
  }

  publications() {
    return this.of('publication').map((e) => ({ data: e.ctx.data, offset: e.ctx.offset, channel: e.ctx.channel }));
  }

  async wait(pred, what, timeout = 5000) {
    const deadline = now() + timeout;
    while (!pred(this)) {
      const left = deadline - now();
      if (left <= 0) {
        const kinds = this.events.map((e) => [e.kind, e.ctx && e.ctx.code]);
        throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(kinds)}`);
      }
      await new Promise((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }
}

function newClient(auth, projectId = PROJECT) {
  const client = new Centrifuge(WS_URL, {
    websocket: WebSocket,
    data: { auth, project_id: projectId },
    timeout: 1000,
    maxServerPingDelay: 500,
    minReconnectDelay: MIN_DELAY,
    maxReconnectDelay: MAX_DELAY,
  });
  return { client, rec: new Recorder(client) };
}

async function connectedClient(auth) {
  const { client, rec } = newClient(auth);
  client.connect();
  await rec.wait((r) => r.of('connected').length > 0, 'the connected event');
  return { client, rec };
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ------------------------------------------------------------ scenarios

// Connects with data {auth, project_id}; the reply lists the server-side subscription.
async function connect_with_xsolla_data() {
  const before = await stats();
  const { client, rec } = await connectedClient('tok-connect');
  try {
    check(rec.of('connected')[0].ctx.client, 'connect reply without a client id');
    await rec.wait((r) => r.of('subscribed').some((e) => e.ctx.channel === CHANNEL), 'the server-side subscription');
    const s = await stats();
    const commands = s.centrifugo_connect_commands.slice(before.centrifugo_connect_commands.length);
    check(commands.length === 1, `one connect command, got ${JSON.stringify(commands)}`);
    const command = commands[0];
    check(same(command.connect.data, { auth: 'tok-connect', project_id: PROJECT }),
      `data as Xsolla's SDKs send it: ${JSON.stringify(command)}`);
    check(Number.isInteger(command.id) && command.id > 0, `positive id: ${JSON.stringify(command)}`);
    check(s.centrifugo_connects_accepted === before.centrifugo_connects_accepted + 1, 'accepted');
  } finally {
    client.disconnect();
  }
}

// The server pings `{}` every second (`ping: 1, pong: true`); the client pongs `{}`.
async function answers_server_pings() {
  const { client, rec } = await connectedClient('tok-ping');
  try {
    const start = await stats();
    const s = await waitStats((s) => s.pongs_received >= start.pongs_received + 2, 'two pongs', 4000);
    const frames = s.centrifugo_frames_received.slice(start.centrifugo_frames_received.length);
    check(frames.includes('{}'), `a pong frame is exactly '{}': ${JSON.stringify(frames)}`);
    check(rec.of('connected').length === 1, 'still on the first connection');
    check(rec.reconnects().length === 0, `no reconnect (e.g. 'no ping'): ${JSON.stringify(rec.reconnects())}`);
  } finally {
    client.disconnect();
  }
}

// Status changes arrive as publications of the server-side channel, in order.
async function receives_publications_for_its_order() {
  await simPost('/_sim/order', { order_id: 201, status: 'new' });
  const { client, rec } = await connectedClient('tok-pubs');
  try {
    await simPost('/_sim/status', { order_id: 201, status: 'paid' });
    await simPost('/_sim/status', { order_id: 201, status: 'done' });
    await rec.wait((r) => r.publications().length >= 2, 'two publications');
    const pubs = rec.publications();
    check(same(pubs.map((p) => p.data), [{ order_id: 201, status: 'paid' }, { order_id: 201, status: 'done' }]),
      `publications: ${JSON.stringify(pubs)}`);
    check(pubs.every((p) => p.channel === CHANNEL), `channel: ${JSON.stringify(pubs)}`);
    check(pubs[1].offset === pubs[0].offset + 1, `offsets count up: ${JSON.stringify(pubs)}`);
    // Why the connect reply must list the channel in `subs`: the client drops publications of
    // a channel it was not told about (the first push below), and delivers the listed one.
    const other = push(201, 'other-channel', 5).replace(CHANNEL, 'orders:999');
    await fault('centrifugo_send_raw', { text: `${other}\n${push(201, 'listed-channel', 6)}` });
    await rec.wait((r) => r.publications().length >= 3, 'the publication of the listed channel');
    const statuses = rec.publications().map((p) => p.data.status);
    check(same(statuses, ['paid', 'done', 'listed-channel']), `statuses: ${JSON.stringify(statuses)}`);
  } finally {
    client.disconnect();
  }
}

// Several messages in one frame: a ping with a push, and two pushes with a trailing newline.
async function batched_frames() {
  await simPost('/_sim/order', { order_id: 202, status: 'new' });
  const { client, rec } = await connectedClient('tok-batch');
  try {
    await fault('centrifugo_batch', { on: true });
    const start = await stats();
    await simPost('/_sim/status', { order_id: 202, status: 'paid' }); // "{}\n{push}"
    await rec.wait((r) => r.publications().length >= 1, 'the batched publication');
    await waitStats((s) => s.pongs_received > start.pongs_received, 'the pong for the batched ping');
    await fault('centrifugo_batch', { on: false });
    await fault('centrifugo_send_raw', { text: `${push(202, 'done', 900)}\n${push(202, 'canceled', 901)}\n` });
    await rec.wait((r) => r.publications().length >= 3, 'both publications of one frame');
    const statuses = rec.publications().map((p) => p.data.status);
    check(same(statuses, ['paid', 'done', 'canceled']), `statuses: ${JSON.stringify(statuses)}`);
    check(rec.publications()[2].offset === 901, `offset: ${JSON.stringify(rec.publications())}`);
    check(rec.of('connected').length === 1 && rec.reconnects().length === 0, 'stayed connected');
  } finally {
    await fault('clear');
    client.disconnect();
  }
}

// An empty token (101) and another project (103) end in `disconnected`, without retries.
async function bad_token_is_terminal() {
  for (const [auth, project, code] of [['', PROJECT, 101], ['tok-other', PROJECT + 1, 103]]) {
    const before = await stats();
    const { client, rec } = newClient(auth, project);
    client.connect();
    try {
      await rec.wait((r) => r.of('disconnected').length > 0, `disconnected for code ${code}`);
      const got = rec.of('disconnected')[0].ctx;
      check(got.code === code, `disconnect code ${got.code} (${got.reason}), want ${code}`);
      await sleep(4 * MIN_DELAY);
      const s = await stats();
      check(s.centrifugo_connects === before.centrifugo_connects + 1, `no reconnect after code ${code}: ${summary(s)}`);
      check(rec.of('connected').length === 0, 'never connected');
    } finally {
      client.disconnect();
    }
  }
}

// Expiry of a live token: close 3500, terminal. Connecting with it: error 109, token refresh.
async function expired_token() {
  let { client, rec } = await connectedClient('tok-expire');
  const before = await stats();
  try {
    await simPost('/_sim/expire_token', { token: 'tok-expire' });
    await rec.wait((r) => r.of('disconnected').length > 0, 'disconnected');
    const got = rec.of('disconnected')[0].ctx;
    check(got.code === 3500, `close code ${got.code} (${got.reason}), want 3500`);
    await sleep(4 * MIN_DELAY);
    const s = await stats();
    check(s.centrifugo_connects === before.centrifugo_connects, 'no reconnect after 3500');
  } finally {
    client.disconnect();
  }
  // 109 means "get a new token": without a way to get one the client stops as unauthorized.
  ({ client, rec } = newClient('tok-expire'));
  client.connect();
  try {
    await rec.wait((r) => r.of('disconnected').length > 0, 'disconnected after 109');
    const errors = rec.of('error').map((e) => e.ctx.error);
    check(errors.some((e) => e && e.code === 109), `the 109 reply reached the client: ${JSON.stringify(errors)}`);
    const got = rec.of('disconnected')[0].ctx;
    check(got.code === 1, `disconnected as unauthorized (1), got ${got.code} (${got.reason})`);
  } finally {
    client.disconnect();
  }
}

// `{"push":{"disconnect":...}}`: 3001 reconnects, 3503 is terminal (Centrifugo's code rule).
async function disconnect_pushes() {
  const { client, rec } = await connectedClient('tok-disconnect');
  try {
    await fault('centrifugo_send_raw', { text: '{"push":{"disconnect":{"code":3001,"reason":"shutdown"}}}' });
    await rec.wait((r) => r.of('connected').length >= 2, 'reconnect after a 3001 push');
    const codes = rec.reconnects().map((e) => e.ctx.code);
    check(same(codes, [3001]), `reconnects: ${JSON.stringify(codes)}`);
    const before = await stats();
    await fault('centrifugo_send_raw', { text: '{"push":{"disconnect":{"code":3503,"reason":"force disconnect"}}}' });
    await rec.wait((r) => r.of('disconnected').length > 0, 'disconnected after a 3503 push');
    const got = rec.of('disconnected')[0].ctx;
    check(got.code === 3503 && got.reason === 'force disconnect', `disconnected with ${JSON.stringify(got)}`);
    await sleep(4 * MIN_DELAY);
    const s = await stats();
    check(s.centrifugo_connects === before.centrifugo_connects, 'no reconnect after 3503');
  } finally {
    client.disconnect();
  }
}

// Dropped socket (reset, then refused upgrades): reconnect with growing jittered delays.
async function reconnects_with_backoff() {
  await simPost('/_sim/order', { order_id: 203, status: 'new' });
  const { client, rec } = await connectedClient('tok-reconnect');
  try {
    const before = await stats();
    await fault('centrifugo_refuse', { n: 3 });
    await fault('centrifugo_reset_all');
    await rec.wait((r) => r.of('connected').length >= 2, 'the second connection', 8000);
    const s = await stats();
    check(s.centrifugo_handshakes_failed === before.centrifugo_handshakes_failed + 3,
      `three refused attempts: ${summary(s)}`);
    const lostAt = rec.reconnects()[0].at;
    const attempts = rec.of('error').filter((e) => e.ctx.type === 'transport').map((e) => e.at);
    attempts.push(rec.of('connected')[1].at);
    check(attempts.length === 4, `3 failed attempts and a good one, got ${attempts.length}`);
    const times = [lostAt, ...attempts];
    const gaps = times.slice(2).map((t, i) => t - times[i + 1]);
    // Every retry waits at least the minimum delay (the first attempt after a loss may be
    // immediate); jitter is random, so only the floor and the cap are checked.
    check(gaps.every((g) => g >= MIN_DELAY * 0.9 && g <= MAX_DELAY + 500),
      `retry gaps ${JSON.stringify(gaps.map((g) => Math.round(g)))} outside [${MIN_DELAY}, ${MAX_DELAY}] ms`);
    await simPost('/_sim/status', { order_id: 203, status: 'done' });
    await rec.wait((r) => r.publications().length > 0, 'a publication after reconnecting');
    // A clean close with a non-terminal code (3001 shutdown) also reconnects.
    await fault('centrifugo_close_all', { code: 3001, reason: 'shutdown' });
    await rec.wait((r) => r.of('connected').length >= 3, 'reconnect after 3001');
    const codes = rec.reconnects().map((e) => e.ctx.code);
    check(codes.includes(3001), `connecting codes: ${JSON.stringify(codes)}`);
    check(rec.of('disconnected').length === 0, 'never disconnected for good');
  } finally {
    await fault('clear');
    client.disconnect();
  }
}

// No frame for ping + maxServerPingDelay: the client reconnects ('no ping', code 2).
async function silent_server_is_detected() {
  const { client, rec } = await connectedClient('tok-silent');
  try {
    await fault('centrifugo_silent', { on: true });
    await rec.wait((r) => r.reconnects().length > 0, "the 'no ping' reconnect");
    const got = rec.reconnects()[0].ctx;
    check(got.code === 2, `connecting code ${got.code} (${got.reason}), want 2 (no ping)`);
    await fault('centrifugo_silent', { on: false });
    await rec.wait((r) => r.of('connected').length >= 2, 'connected again', 6000);
  } finally {
    await fault('clear');
    client.disconnect();
  }
}

const SCENARIOS = [
  connect_with_xsolla_data,
  answers_server_pings,
  receives_publications_for_its_order,
  batched_frames,
  bad_token_is_terminal,
  expired_token,
  disconnect_pushes,
  reconnects_with_backoff,
  silent_server_is_detected,
];

async function main() {
  let failed = 0;
  for (const scenario of SCENARIOS) {
    const started = now();
    let timer;
    try {
      await Promise.race([
        scenario(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('scenario took over 20 s')), 20000); }),
      ]);
      console.log(`PASS ${LANG} ${scenario.name} (${((now() - started) / 1000).toFixed(1)}s)`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${LANG} ${scenario.name}: ${e && e.message ? e.message : e}`);
      if (!(await stats().then(() => true, () => false))) {
        // The simulator is gone (run.sh ended): the remaining scenarios cannot run.
        console.log(`FAIL ${LANG} harness: the simulator at ${SIM} is gone`);
        clearTimeout(timer);
        return failed + 1;
      }
    } finally {
      clearTimeout(timer);
    }
  }
  return failed;
}

main().then(
  (failed) => process.exit(failed ? 1 : 0),
  (e) => { console.log(`FAIL ${LANG} harness: ${e && e.stack}`); process.exit(1); },
);
