/*
 * Live comments on a post page.
 *
 * The page works without this script: comments are server-rendered and the
 * form posts normally. With it, new comments arrive over a WebSocket and the
 * form sends over the socket, falling back to HTTP (fetch) and finally to a
 * plain form submission. Every send carries a client_id, so the server saves a
 * comment once however many of those paths it took.
 *
 * The page lists the newest threads, each with its first replies; "Show earlier
 * comments" puts older ones above them in place, and "Show N more replies" the rest
 * of a thread under it. Reply moves the form under the comment it answers. An older
 * page of comments (?before=) is plain HTML with links: the script leaves it alone.
 *
 * Authors edit their comments in place (for the first five minutes), and
 * authors and moderators delete them, over the socket or HTTP the same way.
 * The server-rendered Edit link and Delete form keep working without it.
 * Signed-in readers get a Flag link on others' comments, to a page that asks why,
 * and a Like button (likes.js); every reader's counts follow comment.likes frames.
 *
 * Moderation: a comment a moderator publishes (a held one approved, a hidden
 * one restored) arrives as comment.created with a change number and takes its
 * place by id; comment.hidden takes a comment and its replies away; the
 * author's own comment held for approval stays on their page, marked.
 *
 * User text only ever reaches the page through textContent; the one HTML it
 * inserts is a comment's body as the server rendered and sanitised it ("html").
 *
 * The parts, in live/: page.js (shared elements and state), render.js (comments
 * on the page), socket.js (the connection), composer.js (the comment form),
 * replying.js (the form answering a comment), editing.js (editing and deleting in
 * place), earlier.js (earlier comments) and threads.js (the rest of a thread).
 * No part imports one that imports it back: render.js and socket.js depend on
 * page.js alone, and hear from the parts above them through the callbacks given
 * here. Deployed, they are loaded under their hashed names (asgi_blog/static_storage.py).
 *
 * Calm: others' new comments are announced a batch at a time in a polite live region
 * (announce.js), and wait behind a "3 new comments" button while the reader is in the comments
 * above their end (arrivals.js); focus follows what the reader did (focus.js). Times read
 * relatively on every page (../times.js), these too.
 */

import { isLivePage, list, section, seenIds, state, viewer } from './live/page.js';
import {
  hookRender,
  publishComment,
  reloadComments,
  removeComment,
  renderComment,
  scheduleEditLinkRemoval,
  setViewer,
  updateComment,
} from './live/render.js';
import { CLOSE_SESSION_ENDED, openSocket, reconnectNow } from './live/socket.js';
import {
  endSession,
  onCommentAck,
  onCommentError,
  onSubmit,
  sendUnansweredOverHttp,
  settlePending,
} from './live/composer.js';
import { closeEditor, onListClick, onListKeydown, onListSubmit } from './live/editing.js';
import { enableEarlierComments } from './live/earlier.js';
import { commentGoing, enableReplies } from './live/replying.js';
import { checkRevisedOnHello, onPostRevised } from './live/revised.js';
import { enableMoreReplies } from './live/threads.js';
import { enableAnnouncer } from './live/announce.js';
import { commentArrived, commentGoing as arrivalGoing, enableArrivals } from './live/arrivals.js';
import { keepFocusFrom } from './live/focus.js';
import { addLikeCount, applyLikeCounts, buildLikeForm, enableLikes } from './live/likes.js';

const frameHandlers = new Map([
  ['hello', onHello],
  // With a change number: published by a moderator, older than comments shown maybe.
  ['comment.created', (frame) => (typeof frame.change === 'number' ? publishComment : renderComment)(frame.comment)],
  ['comment.updated', (frame) => updateComment(frame.comment)],
  ['comment.deleted', (frame) => removeComment(frame.id, frame.placeholder === true)],
  // Gone for readers until a moderator decides: like a deletion that leaves no placeholder.
  ['comment.hidden', (frame) => removeComment(frame.id, false)],
  // Like counts that changed, a frame a second at most.
  ['comment.likes', applyLikeCounts],
  ['comment.ack', onCommentAck],
  ['error', onCommentError],
  ['resync', () => reloadComments()],
  ['session.ended', () => endSession()],
  // An Editor changed the post's text: say so, with a link to what changed.
  ['post.revised', onPostRevised],
  // The user's own news, for the bell (bell.js): this socket carries it on a live post page.
  ['notification', tellTheBell],
  ['notifications.unread', tellTheBell],
]);

function tellTheBell(frame) {
  document.dispatchEvent(new CustomEvent('blog:notifications', { detail: frame }));
}

function onHello(frame) {
  if ('unread' in frame) tellTheBell(frame);
  checkRevisedOnHello(frame);
  // A server older than can_moderate leaves the page's answer standing.
  setViewer(frame.user, 'can_moderate' in frame ? frame.can_moderate === true : viewer.canModerate);
  // The page was rendered for a signed-in user, but the socket's session is anonymous.
  if (frame.user === null && state.form) endSession();
}

function onSocketClosed(code) {
  if (code === CLOSE_SESSION_ENDED) endSession();
  sendUnansweredOverHttp();
}

function start() {
  list.querySelectorAll('li[data-comment-id]').forEach((li) => seenIds.add(Number(li.dataset.commentId)));
  // A page that does not give the post's total has every comment in its list.
  if (Number.isNaN(state.commentCount)) state.commentCount = list.querySelectorAll('li[data-comment-id]').length;
  list.querySelectorAll('li[data-comment-id] a.comment-edit').forEach((link) => {
    scheduleEditLinkRemoval(link, link.closest('li.comment'));
  });
  hookRender({
    ownCommentArrived: (item) => settlePending(item, true),
    editorMustClose: closeEditor,
    commentGoing: (li, placeholder) => {
      keepFocusFrom(li, placeholder);
      commentGoing(li);
      arrivalGoing(li);
    },
    commentBuilt: addLikeCount,
    likeControl: buildLikeForm,
    commentArrived: commentArrived,
  });
  list.addEventListener('click', onListClick);
  list.addEventListener('submit', onListSubmit);
  list.addEventListener('keydown', onListKeydown);
  if (state.form) state.form.addEventListener('submit', onSubmit);
  enableEarlierComments();
  enableMoreReplies();
  enableReplies();
  enableLikes();
  enableAnnouncer();
  enableArrivals();
  window.addEventListener('online', reconnectNow);
  openSocket(frameHandlers, onSocketClosed);
}

if (section && list && isLivePage) start();
