/*
 * The WebSocket: connects with the resume points (?after=, ?changes_after=), shows
 * the connection state, reconnects with backoff and jitter, answers the server's
 * pings and hands every other frame to the handlers openSocket() was given. Edits
 * and deletions sent over it wait here for their answers.
 *
 * This part imports only page.js: what a frame or a close means for the comments
 * and the form is the business of the callbacks it is given.
 */

import { ACK_TIMEOUT_MS, newClientId, requests, state, wsPath } from './page.js';

// Reconnecting after a close the server did not explain (docs/protocol.md, "Visible state";
// bench/load.py's clients wait the same): the nth retry in a row waits a random time between
// half and all of min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (n - 1)).
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15000;
const OFFLINE_AFTER_FAILURES = 3;
// 1013, "try again later": the server was too busy to take the handshake; the close reason is how
// many seconds to wait (docs/protocol.md, "Close codes"). A reason outside 0..MAX_BUSY_WAIT_S, or
// no number, is treated as "not said": the backoff's full delay instead. Either way a random
// 0..BUSY_JITTER more, so the readers a busy server turned away together do not come back together.
const CLOSE_TRY_AGAIN_LATER = 1013;
const MAX_BUSY_WAIT_S = 120;
const BUSY_JITTER = 0.2;
// Close codes the server explains itself with (docs/protocol.md).
export const CLOSE_SESSION_ENDED = 4401;
const CLOSE_NOT_FOUND = 4404;
const CLOSE_TOO_SLOW = 4408;
const CLOSE_TOO_MANY_SOCKETS = 4429;
// Refusals that a retry would only repeat: the page stops and says why.
const FINAL_CLOSES = new Map([
  [CLOSE_SESSION_ENDED, 'signed-out'],
  [CLOSE_NOT_FOUND, 'gone'],
  [CLOSE_TOO_MANY_SOCKETS, 'too-many'],
]);
const STATUS_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline — comments are sent over HTTP',
  gone: 'This post is no longer available',
  'signed-out': 'You were signed out — reload to continue',
  'too-many': 'Too many live connections — close some tabs of this site and reload',
};
const statusEl = document.getElementById('live-status');
const readersEl = document.getElementById('live-readers');

let socket = null;
let failures = 0; // closes in a row that the server did not explain; 1013 is not one
let busyRefusals = 0; // 1013 closes in a row
let retryTimer = null;
let retryNotBefore = 0; // Date.now() before which the server asked not to be tried again
// Set by openSocket(): frame type -> handler, and what to do when the socket closes.
let frameHandlers = new Map();
let onSocketClosed = (code) => {};

// ---- Connection status ----

export function setStatus(status) {
  if (!statusEl) return;
  statusEl.hidden = false;
  statusEl.dataset.state = status;
  statusEl.textContent = STATUS_TEXT[status];
}

function showReaders(count) {
  if (!readersEl) return;
  readersEl.textContent = count + ' reading';
  readersEl.hidden = !(count > 0);
}

// ---- The socket ----

// handlers: frame type -> function(frame); 'comment.ack' and 'error' get only the frames that
// answer no edit or deletion sent with sendRequest(). closed(code): after every close, before
// the page reconnects or stops.
export function openSocket(handlers, closed) {
  frameHandlers = handlers;
  onSocketClosed = closed;
  setStatus('connecting');
  connect();
}

function connect() {
  retryTimer = null;
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  let ws;
  try {
    ws = new WebSocket(scheme + location.host + wsPath + '?after=' + state.lastId + '&changes_after=' + state.lastChangeId);
  } catch (error) {
    connectionLost();
    return;
  }
  socket = ws;
  ws.addEventListener('message', (event) => onFrame(event.data));
  ws.addEventListener('close', (event) => onClose(ws, event.code, event.reason));
}

export function socketOpen() {
  return socket !== null && socket.readyState === WebSocket.OPEN;
}

export function sendFrame(frame) {
  socket.send(JSON.stringify(frame));
}

function onClose(ws, code, reason) {
  if (ws !== socket) return;
  socket = null;
  showReaders(0);
  onSocketClosed(code);
  Array.from(requests.values()).forEach(retryOverHttp);
  if (FINAL_CLOSES.has(code)) {
    setStatus(FINAL_CLOSES.get(code));
    return;
  }
  if (code === CLOSE_TRY_AGAIN_LATER) {
    serverBusy(reason);
    return;
  }
  // Closed for not answering pings in time (a stalled tab, a slow network): resume at
  // once from the last comment and change seen. Twice in a row backs off as usual.
  if (code === CLOSE_TOO_SLOW && failures === 0) {
    failures = 1;
    setStatus('reconnecting');
    connect();
    return;
  }
  connectionLost();
}

function backoffBase(attempt) {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1));
}

function connectionLost() {
  failures += 1;
  setStatus(failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting');
  const base = backoffBase(failures);
  // Jitter, so that readers do not all reconnect at once after a server restart.
  const delay = base / 2 + Math.random() * (base / 2);
  retryTimer = setTimeout(connect, delay);
}

// The server is up but turned this handshake away: not a failure (the page is not offline),
// and no retry comes sooner than it asked, not even when the browser says it is back online.
function serverBusy(reason) {
  busyRefusals += 1;
  setStatus('reconnecting');
  const asked = secondsAsked(reason);
  const wait = asked === null ? backoffBase(busyRefusals) : asked * 1000;
  const delay = wait * (1 + Math.random() * BUSY_JITTER);
  retryNotBefore = Date.now() + delay;
  retryTimer = setTimeout(connect, delay);
}

// The close reason as seconds: a plain decimal ("2.5") in 0..MAX_BUSY_WAIT_S, else null.
function secondsAsked(reason) {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(reason)) return null;
  const seconds = Number(reason);
  return seconds <= MAX_BUSY_WAIT_S ? seconds : null;
}

export function reconnectNow() {
  if (retryTimer === null || Date.now() < retryNotBefore) return;
  clearTimeout(retryTimer);
  connect();
}

function onFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch (error) {
    return;
  }
  if (!frame) return;
  if (typeof frame.change === 'number') state.lastChangeId = Math.max(state.lastChangeId, frame.change);
  if (frame.type === 'hello') {
    failures = 0;
    busyRefusals = 0;
    setStatus('live');
  } else if (frame.type === 'ping') {
    // The server's heartbeat: answering proves this page reads what it is sent.
    sendFrame({ type: 'pong', token: frame.token });
    return;
  } else if (frame.type === 'presence') {
    showReaders(frame.readers);
    return;
  } else if (frame.type === 'comment.ack' || frame.type === 'error') {
    const request = takeRequest(frame.client_id);
    if (request) {
      if (frame.type === 'comment.ack') request.answered(frame);
      else request.failed(frame);
      return;
    }
  }
  const handler = frameHandlers.get(frame.type);
  if (handler) handler(frame); // unknown types are ignored: the server may be newer
}

// ---- Edits and deletions over the socket ----

export function sendRequest(frame, request) {
  request.clientId = newClientId();
  requests.set(request.clientId, request);
  sendFrame({ ...frame, client_id: request.clientId });
  request.timer = setTimeout(() => retryOverHttp(request), ACK_TIMEOUT_MS);
}

// The request, if it was still waiting: an answer and the HTTP fallback can race.
export function takeRequest(clientId) {
  const request = clientId ? requests.get(clientId) : undefined;
  if (!request) return null;
  clearTimeout(request.timer);
  requests.delete(clientId);
  return request;
}

// Sending an edit or a deletion twice is harmless: the same body again
// changes nothing, and a comment already gone answers 404.
function retryOverHttp(request) {
  if (takeRequest(request.clientId)) request.overHttp();
}
