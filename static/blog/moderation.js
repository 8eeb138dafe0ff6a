/*
 * The moderation queue, kept live (templates/moderation/queue.html; docs/protocol.md, "/ws/moderation/").
 *
 * The page as rendered works without this script: each decision is a plain form that comes
 * back to the queue. Here the forms are sent with fetch and their answer is shown, but the
 * list changes only from /ws/moderation/'s frames, so that every moderator's page, this one
 * included, shows the same queue: "hello" replaces the list, "moderation.item" inserts or
 * replaces an entry (in id order, which is oldest first) and "moderation.resolved" removes it,
 * with a short note for screen readers. Entries are built with the markup of
 * templates/moderation/_item.html: user text only through textContent, the comment only as
 * the HTML the server sanitised when it was saved.
 */

const list = document.getElementById('moderation-queue');
const emptyNote = document.getElementById('moderation-empty');
const statusEl = document.getElementById('live-status');
const messageEl = document.getElementById('moderation-message');
const announcer = document.getElementById('moderation-announcer');

const CLOSE_SESSION_ENDED = 4401;
const CLOSE_TOO_MANY_SOCKETS = 4429;
const CLOSE_TRY_AGAIN_LATER = 1013;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60000;

const STATUS_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  'signed-out': 'You were signed out — reload to continue',
  'too-many': 'Too many live connections — close some tabs of this site and reload',
};
// Closes after which trying again would only be refused again.
const FINAL_CLOSES = new Map([
  [CLOSE_SESSION_ENDED, 'signed-out'],
  [CLOSE_TOO_MANY_SOCKETS, 'too-many'],
]);
// What took an entry out of the queue (a moderation action's kind), in words.
const ACTION_TEXT = {
  approve: 'approved',
  restore: 'restored',
  reject: 'rejected',
  remove: 'removed',
  delete: 'deleted',
};
const MESSAGE_NOT_SENT = 'That did not go through: check your connection, or reload the page, and try again.';

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

let socket = null;
let failures = 0;

// ---- Building entries (as templates/moderation/_item.html) ----

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function statusText(item) {
  if (item.status === 'pending') return 'Awaiting approval';
  if (item.status === 'hidden') return item.flag_count > 0 ? 'Hidden after flags' : 'Hidden by a moderator';
  return 'Flagged';
}

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeFormat.format(date);
}

function profileUrl(username) {
  return list.dataset.profileUrl.replace('/0/', '/' + encodeURIComponent(username) + '/');
}

function link(className, href, text) {
  const anchor = element('a', className, text);
  anchor.href = href;
  return anchor;
}

function hiddenInput(name, value) {
  const input = element('input');
  input.type = 'hidden';
  input.name = name;
  input.value = value;
  return input;
}

function decisionForm(action, buttonText, options = {}) {
  const form = element('form');
  form.method = 'post';
  form.action = action;
  form.append(hiddenInput('csrfmiddlewaretoken', list.dataset.csrfToken), hiddenInput('next', list.dataset.next));
  Object.entries(options.fields || {}).forEach(([name, value]) => form.append(hiddenInput(name, value)));
  if (options.reason) {
    const label = element('label', null, options.reason.label);
    label.htmlFor = options.reason.id;
    const input = element('input');
    input.type = 'text';
    input.id = options.reason.id;
    input.name = 'reason';
    input.maxLength = 500;
    form.append(label, input);
  }
  const button = element('button', options.secondary ? 'secondary' : null, buttonText);
  button.type = 'submit';
  if (options.describedBy) button.setAttribute('aria-describedby', options.describedBy);
  form.append(button);
  return form;
}

function buildItem(item) {
  const li = element('li', 'notification moderation-item');
  li.id = 'moderation-item-' + item.id;
  li.dataset.commentId = String(item.id);
  li.dataset.status = item.status;
  li.dataset.item = JSON.stringify(item);
  const headingId = li.id + '-heading';
  const pending = item.status === 'pending';
  const author = item.author;

  const heading = element('h2', 'moderation-item-heading');
  heading.id = headingId;
  heading.append(
    element('span', 'badge badge-draft moderation-status', statusText(item)),
    ' Comment ' + item.id + ' on ',
    link('moderation-post', item.post.url, item.post.title),
  );

  const meta = element('p', 'comment-meta');
  const time = element('time', null, formatTime(item.created));
  time.setAttribute('datetime', item.created);
  const timeLink = link('comment-link', item.url);
  timeLink.append(time);
  meta.append('By ', link('comment-author moderation-author', profileUrl(author.username), author.username));
  if (!author.active) meta.append(' (account deactivated)');
  if (author.always_hold) meta.append(' (always held)');
  meta.append(' · ', timeLink);

  const history = author.history;
  const historyText =
    "Author's history: " +
    [
      history.approved + ' approved',
      history.rejected + ' rejected',
      history.removed + ' removed',
      history.flags + ' flags',
    ].join(' · ');
  li.append(heading, meta, element('p', 'field-note moderation-history', historyText));
  if (item.held_reason) li.append(element('p', 'moderation-reason', 'Held because ' + item.held_reason + '.'));
  if (item.flag_count > 0) {
    const counted = Object.entries(item.flags).map(([reason, count]) => reason + ' ' + count);
    li.append(element('p', 'moderation-flags', 'Flags: ' + counted.join(' · ')));
  }
  // Sanitised by the server when the comment was saved (blog/comments/markup.py).
  const body = element('div', 'comment-body');
  body.innerHTML = item.html;
  li.append(body);

  const decisions = element('div', 'comment-actions moderation-decisions');
  decisions.setAttribute('role', 'group');
  decisions.setAttribute('aria-label', 'Decide on comment ' + item.id);
  const approveText = pending ? 'Approve' : item.status === 'hidden' ? 'Restore' : 'Dismiss flags';
  decisions.append(
    decisionForm(item.approve_url, approveText, { describedBy: headingId }),
    decisionForm(item.reject_url, pending ? 'Reject' : 'Remove', {
      secondary: true,
      describedBy: headingId,
      reason: {
        id: 'moderation-reason-' + item.id,
        label: pending ? 'Reason (optional, told to the author)' : 'Reason (optional)',
      },
    }),
  );
  if (item.status === 'published') {
    decisions.append(decisionForm(item.hide_url, 'Hide', { secondary: true, describedBy: headingId }));
  }
  li.append(decisions);

  if (author.active) {
    const authorActions = element('div', 'comment-actions moderation-author-actions');
    authorActions.setAttribute('role', 'group');
    authorActions.setAttribute('aria-label', 'The author, ' + author.username);
    authorActions.append(
      decisionForm(item.ban_url, 'Ban', {
        secondary: true,
        reason: { id: 'moderation-ban-reason-' + item.id, label: 'Why ban ' + author.username },
      }),
      decisionForm(item.hold_url, author.always_hold ? 'Stop holding' : 'Always hold', {
        secondary: true,
        fields: { hold: author.always_hold ? '0' : '1' },
      }),
    );
    li.append(authorActions);
  }
  return li;
}

// ---- The list ----

function entries() {
  return Array.from(list.children);
}

function showEmptyNote() {
  emptyNote.hidden = list.children.length > 0;
}

function replaceAll(items) {
  list.replaceChildren(...items.map(buildItem));
  showEmptyNote();
}

// A new entry goes before the first with a higher id; a changed one takes its own place.
function putItem(item) {
  const built = buildItem(item);
  const existing = document.getElementById(built.id);
  if (existing) {
    // Keep what a moderator was typing in a reason field.
    existing.querySelectorAll('input[name="reason"]').forEach((input) => {
      const same = built.querySelector('#' + CSS.escape(input.id));
      if (same) same.value = input.value;
    });
    existing.replaceWith(built);
  } else {
    const after = entries().find((li) => Number(li.dataset.commentId) > item.id);
    list.insertBefore(built, after || null);
  }
  showEmptyNote();
}

function removeItem(frame) {
  const li = document.getElementById('moderation-item-' + frame.id);
  if (li) li.remove();
  showEmptyNote();
  const done = ACTION_TEXT[frame.action] || 'decided';
  announcer.textContent = 'Comment ' + frame.id + ' ' + done + (frame.by ? ' by ' + frame.by : '') + '.';
}

// The author's ban or hold changed no entry the socket would send again: this page updates its own.
function updateAuthor(form, change) {
  entries()
    .filter((li) => li.querySelector('form[action="' + form.getAttribute('action') + '"]'))
    .forEach((li) => {
      const item = JSON.parse(li.dataset.item || 'null');
      if (!item) return;
      Object.assign(item.author, change);
      putItem(item);
    });
}

// ---- Decisions ----

function showMessage(text, ok) {
  const message = element('p', 'message ' + (ok ? 'message-success' : 'message-error'), text);
  messageEl.replaceChildren(message);
}

async function answerOf(response) {
  try {
    return await response.json();
  } catch (error) {
    return null; // a page, not JSON: a refused CSRF token, or a proxy's error
  }
}

async function decide(form) {
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  let response;
  try {
    response = await fetch(form.action, {
      method: 'POST',
      body: new FormData(form),
      headers: { Accept: 'application/json', 'X-CSRFToken': list.dataset.csrfToken },
      credentials: 'same-origin',
    });
  } catch (error) {
    showMessage(MESSAGE_NOT_SENT, false);
    return;
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
  const answer = await answerOf(response);
  if (!response.ok || !answer) {
    showMessage((answer && answer.message) || MESSAGE_NOT_SENT, false);
    return;
  }
  showMessage(answer.message, true);
  if (answer.done === 'ban') updateAuthor(form, { active: false });
  else if (answer.done === 'hold') updateAuthor(form, { always_hold: true });
  else if (answer.done === 'release') updateAuthor(form, { always_hold: false });
  // Without the socket no frame will tell this page: it reads the queue itself.
  if (!(socket && socket.readyState === WebSocket.OPEN)) refreshList();
}

async function refreshList() {
  try {
    const response = await fetch(list.dataset.next, { headers: { Accept: 'application/json' } });
    if (response.ok) replaceAll((await response.json()).items);
  } catch (error) {
    // The socket's hello will bring the queue when it is back.
  }
}

// ---- The socket ----

function setStatus(state) {
  statusEl.hidden = false;
  statusEl.dataset.state = state;
  statusEl.textContent = STATUS_TEXT[state];
}

function onFrame(ws, text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch (error) {
    return;
  }
  if (!frame) return;
  if (frame.type === 'ping') {
    // The server's heartbeat: answering proves this page reads what it is sent.
    ws.send(JSON.stringify({ type: 'pong', token: frame.token }));
  } else if (frame.type === 'hello') {
    failures = 0;
    setStatus('live');
    replaceAll(frame.items);
  } else if (frame.type === 'moderation.item') {
    putItem(frame.item);
  } else if (frame.type === 'moderation.resolved') {
    removeItem(frame);
  }
  // Other types are ignored: the server may be newer than this page.
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  let ws;
  try {
    ws = new WebSocket(scheme + location.host + list.dataset.socketPath);
  } catch (error) {
    retryLater();
    return;
  }
  socket = ws;
  ws.addEventListener('message', (event) => onFrame(ws, event.data));
  ws.addEventListener('close', (event) => {
    if (ws !== socket) return;
    socket = null;
    if (FINAL_CLOSES.has(event.code)) {
      setStatus(FINAL_CLOSES.get(event.code));
      return;
    }
    const later = event.code === CLOSE_TRY_AGAIN_LATER ? Number(event.reason) * 1000 : 0;
    retryLater(later);
  });
}

function retryLater(atLeastMs = 0) {
  failures += 1;
  setStatus('reconnecting');
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
  // Jitter, so that the pages of a restarted server do not all come back at once.
  const delay = Math.max(atLeastMs || 0, base / 2 + Math.random() * (base / 2));
  setTimeout(connect, delay);
}

if (list) {
  list.addEventListener('submit', (event) => {
    event.preventDefault();
    decide(event.target);
  });
  setStatus('connecting');
  connect();
}
