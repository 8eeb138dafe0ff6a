/*
 * Live comments on a post page.
 *
 * The page works without this script: comments are server-rendered and the
 * form posts normally. With it, new comments arrive over a WebSocket and the
 * form sends over the socket, falling back to HTTP (fetch) and finally to a
 * plain form submission. Every send carries a client_id, so the server saves a
 * comment once however many of those paths it took.
 *
 * Authors edit their comments in place (for the first five minutes), and
 * authors and moderators delete them, over the socket or HTTP the same way.
 * The server-rendered Edit link and Delete form keep working without it.
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
  const COMMENT_MAX_LENGTH = 2000; // COMMENT_MAX_LENGTH in blog/models.py
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
  const deleteUrlPattern = section.dataset.commentDeleteUrl;
  const editUrlPattern = section.dataset.commentEditUrl;
  // The page's CSRF token and Edit/Delete controls belong to this user's session.
  const pageUser = section.dataset.user || null;
  const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  let form = document.getElementById('comment-form');
  let lastId = parseInt(section.dataset.lastCommentId, 10) || 0;
  // Edits and deletions are numbered too; after a reconnect the server replays those after this one.
  let lastChangeId = parseInt(section.dataset.lastChangeId, 10) || 0;
  // Ids rendered or deleted: a comment can arrive twice (replay, resync, HTTP answer).
  const seenIds = new Set();
  // client_id -> {clientId, body, li, via: 'socket'|'http', timer, ackedId}
  const pending = new Map();
  let socket = null;
  let failures = 0;
  let retryTimer = null;
  // Who the socket says is reading; until it has spoken, whom the page was rendered for.
  const viewer = { user: pageUser, canModerate: section.dataset.canModerate === 'true' };
  // Edits and deletions sent over the socket, by client_id, until answered:
  // {clientId, timer, answered(ackFrame), failed(errorFrame), overHttp()}
  const requests = new Map();
  // Comment id -> the open inline editor {id, li, form, textarea, message, saving, request, timer}
  const editors = new Map();

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

  // The inverse of buildBody, for the editor: the text as the author typed it.
  function bodyText(body) {
    return Array.from(body.childNodes, (node) => (node.nodeName === 'BR' ? '\n' : node.textContent)).join('');
  }

  function buildComment(comment) {
    const li = element('li', 'comment');
    li.id = 'comment-' + comment.id;
    li.dataset.commentId = String(comment.id);
    li.dataset.author = comment.author;
    li.dataset.editableUntil = comment.editable_until;
    const link = element('a', 'comment-link');
    link.href = '#' + li.id;
    const time = element('time', null, formatTime(comment.created));
    time.setAttribute('datetime', comment.created);
    link.appendChild(time);
    const meta = buildMeta(comment.author, link);
    meta.append(' ', element('span', 'comment-edited', '(edited)'));
    li.append(meta, buildBody(comment.body));
    markEdited(li, comment.edited);
    syncActions(li);
    return li;
  }

  function markEdited(li, edited) {
    const marker = li.querySelector('.comment-edited');
    if (!marker) return;
    marker.hidden = !edited;
    if (edited) marker.title = 'Edited ' + formatTime(edited);
  }

  // Only the Edit link and Delete form; whether this reader gets them is syncActions' call.
  function buildActions(li) {
    const actions = element('div', 'comment-actions');
    if (li.dataset.author === viewer.user && editWindowLeft(li) > 0) {
      const link = element('a', 'comment-edit', 'Edit');
      link.href = commentUrl(editUrlPattern, li.dataset.commentId);
      scheduleEditLinkRemoval(link, li);
      actions.appendChild(link);
    }
    // Without a token the server would refuse the form; a reload brings a working one.
    const token = csrfToken();
    if (token) actions.appendChild(buildDeleteForm(li.dataset.commentId, token));
    return actions.childElementCount > 0 ? actions : null;
  }

  function buildDeleteForm(id, token) {
    const deleteForm = element('form', 'comment-delete');
    deleteForm.method = 'post';
    deleteForm.action = commentUrl(deleteUrlPattern, id);
    const tokenInput = element('input');
    tokenInput.type = 'hidden';
    tokenInput.name = 'csrfmiddlewaretoken';
    tokenInput.value = token;
    const button = element('button', 'link-button', 'Delete');
    button.type = 'submit';
    deleteForm.append(tokenInput, button);
    return deleteForm;
  }

  // The page carries URL patterns with a 0 in place of the id, so no URL is written here.
  function commentUrl(pattern, id) {
    return pattern.replace('/0/', '/' + id + '/');
  }

  function csrfToken() {
    const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : '';
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
    const editor = editors.get(id);
    if (editor) closeEditor(editor);
    const li = document.getElementById('comment-' + id);
    if (li) li.remove();
    updateCount();
  }

  function updateComment(comment) {
    const li = document.getElementById('comment-' + comment.id);
    if (!li) return; // not rendered here (yet, or any more): nothing to keep in step
    const oldBody = commentBody(li);
    const body = buildBody(comment.body);
    body.hidden = oldBody.hidden; // an open editor keeps covering it
    oldBody.replaceWith(body);
    markEdited(li, comment.edited);
    const editor = editors.get(comment.id);
    if (editor && editor.saving) closeEditor(editor);
  }

  function commentBody(li) {
    return li.querySelector(':scope > .comment-body');
  }

  function commentItems() {
    return list.querySelectorAll('li.comment[data-comment-id]');
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

  // One comment as the server has it now, for an acknowledged edit whose
  // broadcast never came (the server also catches up within seconds; this is sooner).
  async function refreshComment(id) {
    try {
      const response = await fetch(commentsUrl + '?after=' + (id - 1), {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!response.ok) return;
      const first = (await response.json()).comments[0];
      if (first && first.id === id) {
        updateComment(first);
      } else {
        removeComment(id);
      }
    } catch (error) {
      console.warn('Could not reload the comment:', error);
    }
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
      ws = new WebSocket(scheme + location.host + wsPath + '?after=' + lastId + '&changes_after=' + lastChangeId);
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
    Array.from(requests.values()).forEach(retryOverHttp);
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
    ['comment.updated', (frame) => updateComment(frame.comment)],
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
    if (frame && typeof frame.change === 'number') lastChangeId = Math.max(lastChangeId, frame.change);
    const handler = frame && frameHandlers.get(frame.type);
    if (handler) handler(frame); // unknown types are ignored: the server may be newer
  }

  function onHello(frame) {
    failures = 0;
    setStatus('live');
    // A server older than can_moderate leaves the page's answer standing.
    setViewer(frame.user, 'can_moderate' in frame ? frame.can_moderate === true : viewer.canModerate);
    // The page was rendered for a signed-in user, but the socket's session is anonymous.
    if (frame.user === null && form) endSession();
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
      await catchUp(Math.min(lastId, frame.id - 1));
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

  // The user was logged out (here or elsewhere): offer the login link instead of the form.
  function endSession() {
    pending.forEach((item) => settlePending(item, false));
    setViewer(null, false);
    if (!form) return;
    form.replaceWith(loginToComment());
    form = null;
  }

  function loginToComment() {
    const template = document.getElementById('login-to-comment');
    return template.content.firstElementChild.cloneNode(true);
  }

  // ---- Who may edit and delete ----

  function setViewer(user, canModerate) {
    if (viewer.user === user && viewer.canModerate === canModerate) return;
    viewer.user = user;
    viewer.canModerate = canModerate;
    commentItems().forEach(syncActions);
  }

  // The server decides in the end; this only keeps the page from offering what it would refuse.
  // Someone other than the page's user would also be refused for the page's CSRF token.
  function mayDelete(li) {
    if (viewer.user === null || viewer.user !== pageUser) return false;
    return li.dataset.author === viewer.user || viewer.canModerate;
  }

  function syncActions(li) {
    const actions = li.querySelector(':scope > .comment-actions');
    if (!mayDelete(li)) {
      const editor = editors.get(Number(li.dataset.commentId));
      if (editor) closeEditor(editor);
      if (actions) actions.remove();
      return;
    }
    if (actions) return;
    const built = buildActions(li);
    if (built) li.appendChild(built);
  }

  function editWindowLeft(li) {
    // The server says until when (editable_until), so its rule is written once.
    return Date.parse(li.dataset.editableUntil) - Date.now();
  }

  // After five minutes the server refuses edits, so the link would only lead to an error.
  // (A reader whose clock is off sees it go early or late; the server still decides.)
  function scheduleEditLinkRemoval(link, li) {
    const left = editWindowLeft(li);
    if (Number.isNaN(left)) return;
    setTimeout(() => link.remove(), Math.max(left, 0));
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
    item.li.append(buildMeta(viewer.user || 'You', element('span', 'comment-sending', 'Sending…')), buildBody(body));
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

  // ---- Edits and deletions over the socket ----

  function sendRequest(frame, request) {
    request.clientId = newClientId();
    requests.set(request.clientId, request);
    socket.send(JSON.stringify({ ...frame, client_id: request.clientId }));
    request.timer = setTimeout(() => retryOverHttp(request), ACK_TIMEOUT_MS);
  }

  // The request, if it was still waiting: an answer and the HTTP fallback can race.
  function takeRequest(clientId) {
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

  async function postForJson(url, data) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { Accept: 'application/json', 'X-CSRFToken': csrfToken() },
      body: data,
      credentials: 'same-origin',
    });
    // A login page (after a redirect) or an error page is not JSON: payload null.
    const payload = await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, payload: payload };
  }

  function failureMessages(failure) {
    const errors = failure.code === 'invalid' && failure.errors ? failure.errors.body || failure.errors.id : null;
    return errors && errors.length ? errors : [failure.message];
  }

  // ---- Editing in place ----

  function openEditor(li) {
    const id = Number(li.dataset.commentId);
    const open = editors.get(id);
    if (open) {
      open.textarea.focus();
      return;
    }
    const body = commentBody(li);
    const editor = { id: id, li: li, saving: false, request: null, timer: null };
    editor.textarea = element('textarea');
    editor.textarea.name = 'body';
    editor.textarea.rows = 3;
    editor.textarea.maxLength = COMMENT_MAX_LENGTH;
    editor.textarea.value = bodyText(body);
    editor.textarea.setAttribute('aria-label', 'Edit your comment');
    editor.message = element('div', 'form-message comment-editor-message');
    editor.message.setAttribute('aria-live', 'assertive');
    const save = element('button', null, 'Save');
    save.type = 'submit';
    const cancel = element('button', 'link-button comment-editor-cancel', 'Cancel');
    cancel.type = 'button';
    const buttons = element('div', 'comment-editor-buttons');
    buttons.append(save, cancel);
    editor.form = element('form', 'comment-editor');
    editor.form.append(editor.textarea, editor.message, buttons);
    body.hidden = true;
    body.after(editor.form);
    editors.set(id, editor);
    editor.textarea.focus();
  }

  function closeEditor(editor) {
    if (editors.get(editor.id) !== editor) return;
    editors.delete(editor.id);
    clearTimeout(editor.timer);
    if (editor.request) takeRequest(editor.request.clientId);
    const hadFocus = editor.form.contains(document.activeElement);
    editor.form.remove();
    commentBody(editor.li).hidden = false;
    // Keyboard users carry on from where they started, not from the top of the page.
    const link = editor.li.querySelector('a.comment-edit');
    if (hadFocus && link) link.focus();
  }

  function editorOf(node) {
    const li = node.closest('li.comment');
    return li ? editors.get(Number(li.dataset.commentId)) : undefined;
  }

  function setSaving(editor, saving) {
    editor.saving = saving;
    editor.form.querySelector('button[type="submit"]').disabled = saving;
    setBusy(editor.form, saving);
  }

  function saveEdit(editor) {
    if (editor.saving) return;
    setSaving(editor, true);
    editor.message.replaceChildren();
    editor.textarea.removeAttribute('aria-invalid');
    const text = editor.textarea.value;
    if (!socketOpen()) {
      saveEditOverHttp(editor, text);
      return;
    }
    editor.request = {
      answered: () => editSaved(editor, text),
      failed: (failure) => editRefused(editor, failure),
      overHttp: () => saveEditOverHttp(editor, text),
    };
    sendRequest({ type: 'comment.edit', id: editor.id, body: text }, editor.request);
  }

  // Acknowledged. The comment.updated frame that follows closes the editor, so the
  // old text does not flash up in between; an unchanged text gets no frame at all.
  function editSaved(editor, text) {
    if (text.trim() === bodyText(commentBody(editor.li))) {
      closeEditor(editor);
      return;
    }
    editor.timer = setTimeout(async () => {
      await refreshComment(editor.id);
      closeEditor(editor);
    }, ACKED_COMMENT_WAIT_MS);
  }

  async function saveEditOverHttp(editor, text) {
    const data = new FormData();
    data.append('body', text);
    let answer;
    try {
      answer = await postForJson(commentUrl(editUrlPattern, editor.id), data);
    } catch (networkError) {
      editRefused(editor, { message: 'The server could not be reached. Try again in a moment.' });
      return;
    }
    if (answer.ok && answer.payload && answer.payload.comment) {
      updateComment(answer.payload.comment);
      closeEditor(editor);
    } else {
      editRefused(editor, answer.payload || { message: 'Your change could not be saved. Reload the page and try again.' });
    }
  }

  function editRefused(editor, failure) {
    if (editors.get(editor.id) !== editor) return; // cancelled meanwhile
    editor.request = null;
    setSaving(editor, false);
    if (failure.code === 'invalid') editor.textarea.setAttribute('aria-invalid', 'true');
    editor.message.replaceChildren(...failureMessages(failure).map((text) => element('p', null, text)));
  }

  // ---- Deleting ----

  function onDeleteSubmit(event, deleteForm) {
    const li = deleteForm.closest('li.comment');
    event.preventDefault();
    if (li.classList.contains('deleting')) return;
    setDeleting(li, true);
    if (!socketOpen()) {
      deleteOverHttp(li, deleteForm);
      return;
    }
    const id = Number(li.dataset.commentId);
    sendRequest(
      { type: 'comment.delete', id: id },
      {
        // comment.deleted follows for every reader; removing it now as well does
        // not wait on a broadcast the server might lose.
        answered: () => removeComment(id),
        failed: (failure) => deleteRefused(li, failure),
        overHttp: () => deleteOverHttp(li, deleteForm),
      },
    );
  }

  async function deleteOverHttp(li, deleteForm) {
    let answer;
    try {
      answer = await postForJson(deleteForm.action, new FormData(deleteForm));
    } catch (networkError) {
      deleteForm.submit(); // the browser tries once more and shows what it gets; no submit event, no loop
      return;
    }
    // 404: someone else deleted it first, which is what was asked for.
    if ((answer.ok && answer.payload && answer.payload.deleted !== undefined) || answer.status === 404) {
      removeComment(Number(li.dataset.commentId));
    } else {
      deleteRefused(li, answer.payload || { message: 'The comment could not be deleted. Reload the page and try again.' });
    }
  }

  function setDeleting(li, deleting) {
    li.classList.toggle('deleting', deleting);
    setBusy(li, deleting);
    const note = li.querySelector('.comment-action-error');
    if (note) note.remove();
  }

  function setBusy(node, busy) {
    if (busy) {
      node.setAttribute('aria-busy', 'true');
    } else {
      node.removeAttribute('aria-busy');
    }
  }

  function deleteRefused(li, failure) {
    setDeleting(li, false);
    const actions = li.querySelector(':scope > .comment-actions');
    if (!actions) return;
    const note = element('p', 'comment-action-error', failureMessages(failure).join(' '));
    note.setAttribute('role', 'alert');
    actions.appendChild(note);
  }

  // ---- Events on the list (delegated: comments come and go) ----

  function onListClick(event) {
    const editLink = event.target.closest('a.comment-edit');
    // A modified click opens the edit page in a new tab, as links do.
    if (editLink && !(event.button || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey)) {
      event.preventDefault();
      openEditor(editLink.closest('li.comment'));
      return;
    }
    const editor = event.target.closest('.comment-editor-cancel') && editorOf(event.target);
    if (editor) closeEditor(editor);
  }

  function onListSubmit(event) {
    const target = event.target;
    if (target.matches('form.comment-delete')) {
      onDeleteSubmit(event, target);
    } else if (target.matches('form.comment-editor')) {
      event.preventDefault();
      const editor = editorOf(target);
      if (editor) saveEdit(editor);
    }
  }

  function onListKeydown(event) {
    if (event.key !== 'Escape' || !event.target.closest('form.comment-editor')) return;
    const editor = editorOf(event.target);
    if (editor) closeEditor(editor);
  }

  // ---- Start ----

  list.querySelectorAll('li[data-comment-id]').forEach((li) => seenIds.add(Number(li.dataset.commentId)));
  // Server-rendered times are UTC; show them in the reader's time zone, like live ones.
  list.querySelectorAll('time[datetime]').forEach((time) => {
    time.textContent = formatTime(time.getAttribute('datetime'));
  });
  list.querySelectorAll('li[data-comment-id] a.comment-edit').forEach((link) => {
    scheduleEditLinkRemoval(link, link.closest('li.comment'));
  });
  list.addEventListener('click', onListClick);
  list.addEventListener('submit', onListSubmit);
  list.addEventListener('keydown', onListKeydown);
  if (form) form.addEventListener('submit', onSubmit);
  window.addEventListener('online', reconnectNow);
  setStatus('connecting');
  connect();
})();
