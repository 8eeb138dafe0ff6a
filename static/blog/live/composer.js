/*
 * The comment form: each comment is shown as pending and sent over the socket,
 * falling back to HTTP (fetch) and finally to a plain form submission. Every send
 * carries a client_id, so the server saves a comment once however many paths it took.
 * A comment the server holds for a moderator stays where it was written, marked as
 * awaiting approval: only its author and the moderators see it.
 */

import {
  ACK_TIMEOUT_MS,
  ACKED_COMMENT_WAIT_MS,
  element,
  newClientId,
  pending,
  seenIds,
  state,
  viewer,
} from './page.js';
import { buildMeta, buildPendingBody, catchUp, renderComment, setViewer, showHeld, updateCount } from './render.js';
import { endReply, pendingContainer, replyParent } from './replying.js';
import { sendFrame, socketOpen } from './socket.js';

// ---- Posting a comment ----

export function onSubmit(event) {
  event.preventDefault();
  if (event.submitter && event.submitter.name === 'preview') {
    showPreview(event.submitter.formAction);
    return;
  }
  if (awaitingServer()) return; // one comment at a time; the button is disabled too
  const textarea = state.form.elements.body;
  // Errors from an earlier, server-rendered submission no longer apply.
  state.form.querySelectorAll('.errorlist').forEach((errors) => errors.remove());
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
  const item = { clientId: newClientId(), body: body, parent: replyParent(), via: null, timer: null };
  item.li = element('li', 'comment pending');
  item.li.dataset.clientId = item.clientId;
  item.li.setAttribute('aria-busy', 'true');
  item.li.append(buildMeta(viewer.user || 'You', element('span', 'comment-sending', 'Sending…')), buildPendingBody(body));
  pendingContainer(item.parent).appendChild(item.li);
  pending.set(item.clientId, item);
  updateSending();
  updateCount();
  return item;
}

function sendOverSocket(item) {
  item.via = 'socket';
  const frame = { type: 'comment.create', body: item.body, client_id: item.clientId };
  if (item.parent) frame.parent = Number(item.parent);
  sendFrame(frame);
  item.timer = setTimeout(() => sendOverHttp(item), ACK_TIMEOUT_MS);
}

async function sendOverHttp(item) {
  clearTimeout(item.timer);
  if (item.via === 'http' || !state.form) return;
  item.via = 'http';
  const data = new FormData();
  data.append('body', item.body);
  data.append('client_id', item.clientId);
  if (item.parent) data.append('parent', item.parent);
  let response;
  try {
    response = await fetch(state.form.action, {
      method: 'POST',
      headers: { Accept: 'application/json', 'X-CSRFToken': state.form.elements.csrfmiddlewaretoken.value },
      body: data,
      credentials: 'same-origin',
    });
  } catch (networkError) {
    submitFormNormally(item);
    return;
  }
  const payload = await response.json().catch(() => null);
  if (response.ok && payload && payload.comment && payload.comment.status === 'pending') {
    settleHeld(item, payload.comment.id);
  } else if (response.ok && payload && payload.comment) {
    renderComment(payload.comment, false);
    settlePending(item, true);
  } else if (settlePending(item, false)) {
    showFailure(payload || { message: 'Your comment could not be posted. Reload the page and try again.' });
  }
}

// ---- Preview ----

// The server renders the body under the posting rules; its sanitised HTML is all this inserts.
async function showPreview(url) {
  const box = document.getElementById('comment-preview');
  const data = new FormData();
  data.append('body', state.form.elements.body.value);
  setMessage();
  let payload = null;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { Accept: 'application/json', 'X-CSRFToken': state.form.elements.csrfmiddlewaretoken.value },
      body: data,
      credentials: 'same-origin',
    });
    payload = await response.json().catch(() => null);
    if (response.ok && payload && typeof payload.html === 'string') {
      box.querySelector('.comment-body').innerHTML = payload.html;
      box.hidden = false;
      return;
    }
  } catch (networkError) {
    payload = null;
  }
  box.hidden = true;
  showFailure(payload || { message: 'The preview could not be shown. Try again.' });
}

function hidePreview() {
  const box = document.getElementById('comment-preview');
  if (box) box.hidden = true;
}

// Last resort: let the browser post the form. The same client_id means the
// server returns the comment instead of saving it twice.
function submitFormNormally(item) {
  if (!state.form) return;
  state.form.elements.body.value = item.body;
  state.form.elements.client_id.value = item.clientId;
  state.form.elements.parent.value = item.parent;
  state.form.submit(); // does not fire the submit event, so this does not loop
}

// Returns false when the item was settled already (by another path that got there first).
export function settlePending(item, succeeded) {
  if (pending.get(item.clientId) !== item) return false;
  clearTimeout(item.timer);
  pending.delete(item.clientId);
  item.li.remove();
  if (succeeded) clearTextIfUnchanged(item);
  updateSending();
  updateCount();
  return true;
}

// Saved, but held for a moderator: no comment.created follows, so the pending item settles as
// the author's held comment, out of the post's total (render.js showHeld).
function settleHeld(item, id) {
  if (pending.get(item.clientId) !== item) return;
  clearTimeout(item.timer);
  pending.delete(item.clientId);
  showHeld(item.li, id);
  clearTextIfUnchanged(item);
  updateSending();
  updateCount();
}

function clearTextIfUnchanged(item) {
  if (state.form && state.form.elements.body.value === item.body) {
    state.form.elements.body.value = '';
    hidePreview();
    if (item.parent && item.parent === replyParent()) endReply(false);
  }
}

// Acknowledged comments only wait for their broadcast; they do not block the next one.
function awaitingServer() {
  return Array.from(pending.values()).some((item) => item.ackedId === undefined);
}

function updateSending() {
  const button = state.form && state.form.querySelector('button[type="submit"]');
  if (!button) return;
  const sending = awaitingServer();
  // A button disabled while it has focus drops it to the top of the page: the box keeps it.
  if (sending && document.activeElement === button) state.form.elements.body.focus();
  button.disabled = sending;
}

function showFailure(failure) {
  if (failure.code === 'login_required') {
    setMessage(loginToComment());
    return;
  }
  const bodyErrors = failure.code === 'invalid' && failure.errors ? failure.errors.body : null;
  if (bodyErrors && state.form) state.form.elements.body.setAttribute('aria-invalid', 'true');
  const messages = bodyErrors && bodyErrors.length ? bodyErrors : [failure.message];
  setMessage(...messages.map((text) => element('p', null, text)));
}

function setMessage(...nodes) {
  const box = state.form && state.form.querySelector('#comment-form-message');
  if (box) box.replaceChildren(...nodes);
}

// ---- Answers over the socket ----

export function onCommentAck(frame) {
  const item = pending.get(frame.client_id);
  if (!item) return;
  if (frame.status === 'pending') {
    settleHeld(item, frame.id);
    return;
  }
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

export function onCommentError(frame) {
  const item = frame.client_id && pending.get(frame.client_id);
  if (!item) {
    console.warn('Comment socket error:', frame.code, frame.message);
    return;
  }
  settlePending(item, false);
  showFailure(frame);
}

// The socket closed: nothing will acknowledge what was sent over it; HTTP finishes the job.
export function sendUnansweredOverHttp() {
  pending.forEach((item) => {
    if (item.via === 'socket' && item.ackedId === undefined) sendOverHttp(item);
  });
}

// ---- A session that ended ----

// The user was logged out (here or elsewhere): offer the login link instead of the form.
export function endSession() {
  pending.forEach((item) => settlePending(item, false));
  setViewer(null, false);
  if (!state.form) return;
  endReply(false);
  state.form.replaceWith(loginToComment());
  state.form = null;
}

function loginToComment() {
  const template = document.getElementById('login-to-comment');
  return template.content.firstElementChild.cloneNode(true);
}
