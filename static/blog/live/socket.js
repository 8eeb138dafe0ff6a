/*
 * The WebSocket: connects with the resume points (?after=, ?changes_after=), shows
 * the connection state, reconnects with backoff and jitter, and hands each frame
 * to its handler. Edits and deletions sent over it wait here for their answers.
 */

import {
  ACK_TIMEOUT_MS,
  ACKED_COMMENT_WAIT_MS,
  newClientId,
  pending,
  requests,
  seenIds,
  state,
  viewer,
  wsPath,
} from './page.js';
import { catchUp, reloadComments, removeComment, renderComment, setViewer, updateComment } from './render.js';
import {
  clearTextIfUnchanged,
  endSession,
  sendOverHttp,
  settlePending,
  showFailure,
  updateSending,
} from './composer.js';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15000;
const OFFLINE_AFTER_FAILURES = 3;
// Close codes the server explains itself with (docs/protocol.md).
const CLOSE_SESSION_ENDED = 4401;
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
let failures = 0;
let retryTimer = null;

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

export function connect() {
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
  ws.addEventListener('close', (event) => onClose(ws, event.code));
}

export function socketOpen() {
  return socket !== null && socket.readyState === WebSocket.OPEN;
}

export function sendFrame(frame) {
  socket.send(JSON.stringify(frame));
}

function onClose(ws, code) {
  if (ws !== socket) return;
  socket = null;
  showReaders(0);
  if (code === CLOSE_SESSION_ENDED) endSession();
  // Nothing will acknowledge these now; HTTP finishes the job.
  pending.forEach((item) => {
    if (item.via === 'socket' && item.ackedId === undefined) sendOverHttp(item);
  });
  Array.from(requests.values()).forEach(retryOverHttp);
  if (FINAL_CLOSES.has(code)) {
    setStatus(FINAL_CLOSES.get(code));
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

function connectionLost() {
  failures += 1;
  setStatus(failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting');
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
  // Jitter, so that readers do not all reconnect at once after a server restart.
  const delay = base / 2 + Math.random() * (base / 2);
  retryTimer = setTimeout(connect, delay);
}

export function reconnectNow() {
  if (retryTimer === null) return;
  clearTimeout(retryTimer);
  connect();
}

const frameHandlers = new Map([
  ['hello', onHello],
  ['comment.created', (frame) => renderComment(frame.comment)],
  ['comment.updated', (frame) => updateComment(frame.comment)],
  ['comment.deleted', (frame) => removeComment(frame.id)],
  ['comment.ack', onAck],
  ['error', onError],
  ['resync', () => reloadComments()],
  // The server's heartbeat: answering proves this page reads what it is sent.
  ['ping', (frame) => sendFrame({ type: 'pong', token: frame.token })],
  ['session.ended', () => endSession()],
  ['presence', (frame) => showReaders(frame.readers)],
]);

function onFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch (error) {
    return;
  }
  if (frame && typeof frame.change === 'number') state.lastChangeId = Math.max(state.lastChangeId, frame.change);
  const handler = frame && frameHandlers.get(frame.type);
  if (handler) handler(frame); // unknown types are ignored: the server may be newer
}

function onHello(frame) {
  failures = 0;
  setStatus('live');
  // A server older than can_moderate leaves the page's answer standing.
  setViewer(frame.user, 'can_moderate' in frame ? frame.can_moderate === true : viewer.canModerate);
  // The page was rendered for a signed-in user, but the socket's session is anonymous.
  if (frame.user === null && state.form) endSession();
}

function onAck(frame) {
  const request = takeRequest(frame.client_id);
  if (request) {
    request.answered(frame);
    return;
  }
  const item = pending.get(frame.client_id);
  if (!item) return;
  if (seenIds.has(frame.id)) {
    settlePending(item, true);
    return;
  }
  // Saved; its comment.created frame follows. Keep the pending one until then
  // (no flicker), and fetch it if the broadcast never comes: the server may
  // have lost it, and a comment the user wrote must not vanish.
  clearTimeout(item.timer);
  item.ackedId = frame.id;
  clearTextIfUnchanged(item);
  updateSending();
  item.timer = setTimeout(async () => {
    await catchUp(Math.min(state.lastId, frame.id - 1));
    settlePending(item, true);
  }, ACKED_COMMENT_WAIT_MS);
}

function onError(frame) {
  const request = takeRequest(frame.client_id);
  if (request) {
    request.failed(frame);
    return;
  }
  const item = frame.client_id && pending.get(frame.client_id);
  if (!item) {
    console.warn('Comment socket error:', frame.code, frame.message);
    return;
  }
  settlePending(item, false);
  showFailure(frame);
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
