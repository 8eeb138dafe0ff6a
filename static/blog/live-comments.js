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
 *
 * The parts, in live/: page.js (shared elements and state), render.js (comments
 * on the page), socket.js (the connection), composer.js (the comment form) and
 * editing.js (editing and deleting in place).
 */

import { list, section, seenIds, state } from './live/page.js';
import { formatTime, scheduleEditLinkRemoval } from './live/render.js';
import { connect, reconnectNow, setStatus } from './live/socket.js';
import { onSubmit } from './live/composer.js';
import { onListClick, onListKeydown, onListSubmit } from './live/editing.js';

function start() {
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
  if (state.form) state.form.addEventListener('submit', onSubmit);
  window.addEventListener('online', reconnectNow);
  setStatus('connecting');
  connect();
}

if (section && list) start();
