/*
 * What every part of the live comments shares: the page's elements and settings,
 * the state that changes as comments come and go, and a few small helpers.
 */

export const section = document.querySelector('[data-ws-path][data-comments-url]');
export const list = document.getElementById('comments');
// Read only when section exists (live-comments.js starts nothing otherwise).
const data = section ? section.dataset : {};

export const RESYNC_PAGE_SIZE = 200; // the server returns at most this many comments per request
// The page shows the newest comments only; "Show earlier comments" fetches this many more at a time.
export const EARLIER_PAGE_SIZE = parseInt(data.pageSize, 10) || 50;
export const ACK_TIMEOUT_MS = 8000;
export const ACKED_COMMENT_WAIT_MS = 3000;
export const COMMENT_MAX_LENGTH = 2000; // COMMENT_MAX_LENGTH in blog/models.py

export const wsPath = data.wsPath;
export const commentsUrl = data.commentsUrl;
export const deleteUrlPattern = data.commentDeleteUrl;
export const editUrlPattern = data.commentEditUrl;
export const flagUrlPattern = data.commentFlagUrl;
export const threadUrlPattern = data.commentThreadUrl;
// The page's CSRF token and Edit/Delete controls belong to this user's session.
export const pageUser = data.user || null;
// The order of the page's threads (?sort=): 'oldest' (in id order), 'newest' or 'liked'; replies keep theirs.
export const sort = data.sort || 'oldest';
// "false" on an older page of comments (?before=): plain HTML with links, nothing live.
export const isLivePage = data.live !== 'false';
// The post's total, data-comment-count, counts every comment up to this id (the newest at render).
export const countedThrough = parseInt(data.lastCommentId, 10) || 0;

export const state = {
  form: document.getElementById('comment-form'),
  lastId: parseInt(data.lastCommentId, 10) || 0,
  // Edits and deletions are numbered too; after a reconnect the server replays those after this one.
  lastChangeId: parseInt(data.lastChangeId, 10) || 0,
  // The post's total for the heading: the list holds only a page of it. NaN when the page
  // does not say; live-comments.js then counts what is listed.
  commentCount: parseInt(data.commentCount, 10),
  // Where the next "Show earlier comments" starts (?before=), '' when nothing is older.
  earlierCursor: data.earlierCursor || '',
};
// Ids rendered or deleted: a comment can arrive twice (replay, resync, HTTP answer).
export const seenIds = new Set();
// Ids in the heading's total since the page loaded (shown or not: a reply to a comment
// not on the page is counted without being shown).
export const countedIds = new Set();
// Ids deleted: a deletion can arrive twice too (the answer and the broadcast), and counts once.
export const deletedIds = new Set();
// client_id -> {clientId, body, li, via: 'socket'|'http', timer, ackedId}
export const pending = new Map();
// Who the socket says is reading; until it has spoken, whom the page was rendered for.
export const viewer = { user: pageUser, canModerate: data.canModerate === 'true' };
// Edits and deletions sent over the socket, by client_id, until answered:
// {clientId, timer, answered(ackFrame), failed(errorFrame), overHttp()}
export const requests = new Map();
// Comment id -> the open inline editor {id, li, form, textarea, message, saving, request, timer}
export const editors = new Map();

// ---- Small helpers ----

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A form posted to a comment's URL, as the templates write it: its CSRF token first.
export function commentForm(className, pattern, id, token) {
  const form = element('form', className);
  form.method = 'post';
  form.action = commentUrl(pattern, id);
  form.append(hiddenInput('csrfmiddlewaretoken', token));
  return form;
}

export function hiddenInput(name, value) {
  const input = element('input');
  input.type = 'hidden';
  input.name = name;
  if (value !== undefined) input.value = value;
  return input;
}

// The page carries URL patterns with a 0 in place of the id, so no URL is written here.
export function commentUrl(pattern, id) {
  return pattern.replace('/0/', '/' + id + '/');
}

export function csrfToken() {
  const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return input ? input.value : '';
}

export function newClientId() {
  if (window.crypto && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  // randomUUID needs a secure context; plain-HTTP hosts other than localhost get this.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function setBusy(node, busy) {
  if (busy) {
    node.setAttribute('aria-busy', 'true');
  } else {
    node.removeAttribute('aria-busy');
  }
}
