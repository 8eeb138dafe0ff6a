/*
 * Live comments on a post page.
 *
 * The page works without this script: comments are server-rendered and the
 * form posts normally. With it, new comments arrive over a WebSocket and the
 * form sends over the socket, falling back to HTTP (fetch) and finally to a
 * plain form submission. Every send carries a client_id, so the server saves a
 * comment once however many of those paths it took.
 *
 * User text only ever reaches the page through textContent, never innerHTML.
 */
(function () {
  'use strict';

  const section = document.querySelector('[data-ws-path][data-comments-url]');
  const list = document.getElementById('comments');
  if (!section || !list) {
    return;
  }

  const RESYNC_PAGE_SIZE = 200; // the server returns at most this many comments per request
  const ACK_TIMEOUT_MS = 8000;
  const ACKED_COMMENT_WAIT_MS = 3000;
  const FIRST_RETRY_MS = 500;
  const MAX_RETRY_MS = 15000;
  const OFFLINE_AFTER_FAILURES = 3;
  const CLOSE_SESSION_ENDED = 4401;
  const CLOSE_NOT_FOUND = 4404;
  const STATUS_TEXT = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    offline: 'Offline — comments are sent over HTTP',
  };

  const wsPath = section.dataset.wsPath;
  const commentsUrl = section.dataset.commentsUrl;
  const heading = document.getElementById('comments-heading');
  const emptyNote = document.getElementById('no-comments');
  const statusEl = document.getElementById('live-status');
  const readersEl = document.getElementById('live-readers');
  const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  let form = document.getElementById('comment-form');
  let lastId = parseInt(section.dataset.lastCommentId, 10) || 0;
  // Ids rendered or deleted: a comment can arrive twice (replay, resync, HTTP answer).
  const seenIds = new Set();
  // client_id -> {clientId, body, li, via: 'socket'|'http', timer, ackedId}
  const pending = new Map();
  let socket = null;
  let failures = 0;
  let retryTimer = null;
  let currentUser = null;

  // ---- Rendering (the same markup as templates/blog/_comment.html) ----

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function formatTime(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : timeFormat.format(date);
  }

  function buildMeta(author, detail) {
    const meta = element('p', 'comment-meta');
    meta.append(element('span', 'comment-author', author), ' ', detail);
    return meta;
  }

  // Like Django's linebreaksbr: each line a text node, a <br> between them.
  function buildBody(text) {
    const body = element('p', 'comment-body');
    text.split(/\r\n|\r|\n/).forEach((line, index) => {
      if (index > 0) body.appendChild(document.createElement('br'));
      body.appendChild(document.createTextNode(line));
    });
    return body;
  }

  function buildComment(comment) {
    const li = element('li', 'comment');
    li.id = 'comment-' + comment.id;
    li.dataset.commentId = String(comment.id);
    const link = element('a', 'comment-link');
    link.href = '#' + li.id;
    const time = element('time', null, formatTime(comment.created));
    time.setAttribute('datetime', comment.created);
    link.appendChild(time);
    li.append(buildMeta(comment.author, link), buildBody(comment.body));
    return li;
  }

  // Comments stay in id order; pending ones stay below all of them.
  function insertInOrder(li, id) {
    for (const other of list.children) {
      if (other.classList.contains('pending') || Number(other.dataset.commentId) > id) {
        list.insertBefore(li, other);
        return;
      }
    }
    list.appendChild(li);
  }

  function updateCount() {
    const count = list.querySelectorAll('li.comment:not(.pending)').length;
    if (heading) heading.textContent = count + (count === 1 ? ' comment' : ' comments');
    if (emptyNote) emptyNote.hidden = list.children.length > 0;
  }

  // fromStream: false for a comment we posted over HTTP. The stream may not have
  // delivered the comments before it yet, so it must not move the resume point.
  function renderComment(comment, fromStream) {
    if (fromStream !== false) lastId = Math.max(lastId, comment.id);
    const own = comment.client_id && pending.get(comment.client_id);
    if (own) settlePending(own, true);
    if (seenIds.has(comment.id)) return;
    seenIds.add(comment.id);
    insertInOrder(buildComment(comment), comment.id);
    updateCount();
  }

  function removeComment(id) {
    seenIds.add(id);
    const li = document.getElementById('comment-' + id);
    if (li) li.remove();
    updateCount();
  }

  // Fetch what the socket did not deliver, oldest first, a page at a time. The
  // cursor is local: live frames may move lastId past comments not fetched yet.
  async function fetchCommentsAfter(after) {
    for (;;) {
      const response = await fetch(commentsUrl + '?after=' + after, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!response.ok) return;
      const data = await response.json();
      data.comments.forEach((comment) => renderComment(comment));
      if (data.comments.length < RESYNC_PAGE_SIZE || data.last_id === null) return;
      after = data.last_id;
    }
  }

  function catchUp(after) {
    return fetchCommentsAfter(after).catch((error) => {
      console.warn('Could not load missed comments:', error);
    });
  }

  // ---- Connection status ----

  function setStatus(state) {
    if (!statusEl) return;
    statusEl.hidden = false;
    statusEl.dataset.state = state;
    statusEl.textContent = STATUS_TEXT[state];
  }

  function showReaders(count) {
    if (!readersEl) return;
    readersEl.textContent = count + ' reading';
    readersEl.hidden = !(count > 0);
  }

  // ---- The socket ----

  function connect() {
    retryTimer = null;
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    let ws;
    try {
      ws = new WebSocket(scheme + location.host + wsPath + '?after=' + lastId);
    } catch (error) {
      connectionLost(false);
      return;
    }
    socket = ws;
    ws.addEventListener('message', (event) => onFrame(event.data));
    ws.addEventListener('close', (event) => onClose(ws, event.code));
  }

  function socketOpen() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
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
    // A missing post or an ended session will not change in half a second.
    connectionLost(code === CLOSE_SESSION_ENDED || code === CLOSE_NOT_FOUND);
  }

  function connectionLost(slowly) {
    failures += 1;
    setStatus(failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting');
    const base = slowly ? MAX_RETRY_MS : Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
    // Jitter, so that readers do not all reconnect at once after a server restart.
    const delay = base / 2 + Math.random() * (base / 2);
    retryTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (retryTimer === null) return;
    clearTimeout(retryTimer);
    connect();
  }

  const frameHandlers = new Map([
    ['hello', onHello],
    ['comment.created', (frame) => renderComment(frame.comment)],
    ['comment.deleted', (frame) => removeComment(frame.id)],
    ['comment.ack', onAck],
    ['error', onError],
    ['resync', () => catchUp(lastId)],
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
    const handler = frame && frameHandlers.get(frame.type);
    if (handler) handler(frame); // unknown types are ignored: the server may be newer
  }

  function onHello(frame) {
    failures = 0;
    currentUser = frame.user;
    setStatus('live');
    // The page was rendered for a signed-in user, but the socket's session is anonymous.
    if (frame.user === null && form) endSession();
  }

  function onAck(frame) {
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
      await catchUp(Math.min(lastId, frame.id - 1));
      settlePending(item, true);
    }, ACKED_COMMENT_WAIT_MS);
  }

  function onError(frame) {
    const item = frame.client_id && pending.get(frame.client_id);
    if (!item) {
      console.warn('Comment socket error:', frame.code, frame.message);
      return;
    }
    settlePending(item, false);
    showFailure(frame);
  }

  // The user was logged out (here or elsewhere): offer the login link instead of the form.
  function endSession() {
    pending.forEach((item) => settlePending(item, false));
    if (!form) return;
    form.replaceWith(loginToComment());
    form = null;
  }

  function loginToComment() {
    const template = document.getElementById('login-to-comment');
    return template.content.firstElementChild.cloneNode(true);
  }

  // ---- Posting a comment ----

  function newClientId() {
    if (window.crypto && typeof crypto.randomUUID === 'function') {
      return crypto.randomUUID();
    }
    // randomUUID needs a secure context; plain-HTTP hosts other than localhost get this.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  }

  function onSubmit(event) {
    event.preventDefault();
    if (awaitingServer()) return; // one comment at a time; the button is disabled too
    const textarea = form.elements.body;
    // Errors from an earlier, server-rendered submission no longer apply.
    form.querySelectorAll('.errorlist').forEach((errors) => errors.remove());
    textarea.removeAttribute('aria-invalid');
    setMessage();
    const item = addPending(textarea.value);
    if (socketOpen()) {
      sendOverSocket(item);
    } else {
      sendOverHttp(item);
    }
  }

  function addPending(body) {
    const item = { clientId: newClientId(), body: body, via: null, timer: null };
    item.li = element('li', 'comment pending');
    item.li.dataset.clientId = item.clientId;
    item.li.setAttribute('aria-busy', 'true');
    item.li.append(buildMeta(currentUser || 'You', element('span', 'comment-sending', 'Sending…')), buildBody(body));
    list.appendChild(item.li);
    pending.set(item.clientId, item);
    updateSending();
    updateCount();
    return item;
  }

  function sendOverSocket(item) {
    item.via = 'socket';
    socket.send(JSON.stringify({ type: 'comment.create', body: item.body, client_id: item.clientId }));
    item.timer = setTimeout(() => sendOverHttp(item), ACK_TIMEOUT_MS);
  }

  async function sendOverHttp(item) {
    clearTimeout(item.timer);
    if (item.via === 'http' || !form) return;
    item.via = 'http';
    const data = new FormData();
    data.append('body', item.body);
    data.append('client_id', item.clientId);
    let response;
    try {
      response = await fetch(form.action, {
        method: 'POST',
        headers: { Accept: 'application/json', 'X-CSRFToken': form.elements.csrfmiddlewaretoken.value },
        body: data,
        credentials: 'same-origin',
      });
    } catch (networkError) {
      submitFormNormally(item);
      return;
    }
    const payload = await response.json().catch(() => null);
    if (response.ok && payload && payload.comment) {
      renderComment(payload.comment, false);
      settlePending(item, true);
    } else if (settlePending(item, false)) {
      showFailure(payload || { message: 'Your comment could not be posted. Reload the page and try again.' });
    }
  }

  // Last resort: let the browser post the form. The same client_id means the
  // server returns the comment instead of saving it twice.
  function submitFormNormally(item) {
    if (!form) return;
    form.elements.body.value = item.body;
    form.elements.client_id.value = item.clientId;
    form.submit(); // does not fire the submit event, so this does not loop
  }

  // Returns false when the item was settled already (by another path that got there first).
  function settlePending(item, succeeded) {
    if (pending.get(item.clientId) !== item) return false;
    clearTimeout(item.timer);
    pending.delete(item.clientId);
    item.li.remove();
    if (succeeded) clearTextIfUnchanged(item);
    updateSending();
    updateCount();
    return true;
  }

  function clearTextIfUnchanged(item) {
    if (form && form.elements.body.value === item.body) form.elements.body.value = '';
  }

  // Acknowledged comments only wait for their broadcast; they do not block the next one.
  function awaitingServer() {
    return Array.from(pending.values()).some((item) => item.ackedId === undefined);
  }

  function updateSending() {
    const button = form && form.querySelector('button[type="submit"]');
    if (button) button.disabled = awaitingServer();
  }

  function showFailure(failure) {
    if (failure.code === 'login_required') {
      setMessage(loginToComment());
      return;
    }
    const bodyErrors = failure.code === 'invalid' && failure.errors ? failure.errors.body : null;
    if (bodyErrors && form) form.elements.body.setAttribute('aria-invalid', 'true');
    const messages = bodyErrors && bodyErrors.length ? bodyErrors : [failure.message];
    setMessage(...messages.map((text) => element('p', null, text)));
  }

  function setMessage(...nodes) {
    const box = form && form.querySelector('#comment-form-message');
    if (box) box.replaceChildren(...nodes);
  }

  // ---- Start ----

  list.querySelectorAll('li[data-comment-id]').forEach((li) => seenIds.add(Number(li.dataset.commentId)));
  // Server-rendered times are UTC; show them in the reader's time zone, like live ones.
  list.querySelectorAll('time[datetime]').forEach((time) => {
    time.textContent = formatTime(time.getAttribute('datetime'));
  });
  if (form) form.addEventListener('submit', onSubmit);
  window.addEventListener('online', reconnectNow);
  setStatus('connecting');
  connect();
})();
