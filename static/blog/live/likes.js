/*
 * Likes: each comment's count, kept live from comment.likes frames (the server sends a post's
 * readers one a second at most, with every count that changed), and the Like button on other
 * people's comments for a signed-in reader. The button is the server's plain form (it works
 * without this script); here a press toggles it at once (aria-pressed and the count) and sends
 * comment.like over the socket, or the form over HTTP when the socket is closed; the answer
 * confirms it with the count as saved, or puts it back and says why.
 *
 * This part imports page.js and socket.js only. render.js builds live comments with the
 * count and the button through the hooks live-comments.js gives it (commentBuilt, likeControl).
 */

import { commentForm, csrfToken, element, hiddenInput, list, section, setBusy } from './page.js';
import { sendRequest, socketOpen } from './socket.js';

const likeUrlPattern = section ? section.dataset.commentLikeUrl : '';
// The comments this reader likes, as the page and the answers since have said.
const likedIds = new Set();
// Comment ids with a like or unlike on its way: counts from frames wait for its answer.
const sending = new Set();

export function enableLikes() {
  list.querySelectorAll('form.comment-like').forEach((form) => {
    if (form.querySelector('button').getAttribute('aria-pressed') === 'true') likedIds.add(commentIdOf(form));
  });
  list.addEventListener('submit', onLikeSubmit);
}

// ---- The count ----

function commentIdOf(node) {
  return Number(node.closest('li.comment').dataset.commentId);
}

function likesOf(li) {
  const count = li.querySelector(':scope > .comment-likes');
  return count ? Number(count.dataset.likes) || 0 : 0;
}

// As the server writes it: "1 like", "3 likes", nothing at 0.
function setLikes(li, likes) {
  let count = li.querySelector(':scope > .comment-likes');
  if (!count) {
    count = element('span', 'comment-likes');
    li.insertBefore(count, li.querySelector(':scope > .comment-actions, :scope > ol.comment-replies, :scope > a.replies-more'));
  }
  count.dataset.likes = String(likes);
  count.textContent = likes + (likes === 1 ? ' like' : ' likes');
  count.hidden = likes === 0;
}

// A comment built by render.js (live, or fetched): its count, as its JSON says.
export function addLikeCount(li, comment) {
  setLikes(li, typeof comment.likes === 'number' ? comment.likes : 0);
}

// comment.likes: {"counts": {"<id>": n, ...}}, every count that changed since the last frame.
export function applyLikeCounts(frame) {
  if (!frame.counts || typeof frame.counts !== 'object') return;
  Object.entries(frame.counts).forEach(([id, likes]) => {
    const li = document.getElementById('comment-' + id);
    if (!li || typeof likes !== 'number' || sending.has(Number(id))) return;
    setLikes(li, likes);
  });
}

// ---- The button ----

// The Like form for someone else's comment, as _comment_actions.html writes it (null without a token).
export function buildLikeForm(li) {
  const token = csrfToken();
  if (!token || !likeUrlPattern) return null;
  const id = Number(li.dataset.commentId);
  const form = commentForm('comment-like', likeUrlPattern, id, token);
  const button = element('button', 'like-button', 'Like');
  button.type = 'submit';
  form.append(hiddenInput('liked'), button);
  showPressed(form, likedIds.has(id));
  return form;
}

function showPressed(form, pressed) {
  form.querySelector('button').setAttribute('aria-pressed', pressed ? 'true' : 'false');
  // What the plain form asks next: the opposite of what it shows.
  form.querySelector('input[name="liked"]').value = pressed ? '0' : '1';
}

function onLikeSubmit(event) {
  const form = event.target;
  if (!form.matches('form.comment-like')) return;
  event.preventDefault();
  const li = form.closest('li.comment');
  const id = Number(li.dataset.commentId);
  if (sending.has(id)) return; // one at a time: the answer settles the count
  const wasLiked = form.querySelector('button').getAttribute('aria-pressed') === 'true';
  const before = likesOf(li);
  const wanted = !wasLiked;
  clearFailure(form);
  sending.add(id);
  setBusy(form, true);
  // At once: the answer confirms it, or puts it back.
  showPressed(form, wanted);
  setLikes(li, Math.max(0, before + (wanted ? 1 : -1)));
  const settle = (liked, likes) => {
    sending.delete(id);
    setBusy(form, false);
    if (liked) likedIds.add(id);
    else likedIds.delete(id);
    showPressed(form, liked);
    setLikes(li, likes);
  };
  const refuse = (failure) => {
    settle(wasLiked, before);
    showFailure(form, failure);
  };
  if (!socketOpen()) {
    likeOverHttp(form, wanted, settle, refuse);
    return;
  }
  sendRequest(
    { type: 'comment.like', id: id, liked: wanted },
    {
      answered: (ack) => settle(ack.liked === true, typeof ack.likes === 'number' ? ack.likes : before),
      failed: refuse,
      overHttp: () => likeOverHttp(form, wanted, settle, refuse),
    },
  );
}

async function likeOverHttp(form, wanted, settle, refuse) {
  const data = new FormData(form);
  data.set('liked', wanted ? '1' : '0');
  let response;
  let payload = null;
  try {
    response = await fetch(form.action, {
      method: 'POST',
      headers: { Accept: 'application/json', 'X-CSRFToken': csrfToken() },
      body: data,
      credentials: 'same-origin',
    });
    payload = await response.json().catch(() => null);
  } catch (networkError) {
    refuse({ message: 'The like could not be sent. Try again.' });
    return;
  }
  if (response.ok && payload && typeof payload.likes === 'number') {
    settle(payload.liked === true, payload.likes);
  } else {
    refuse(payload || { message: 'The like could not be saved. Reload the page and try again.' });
  }
}

function clearFailure(form) {
  const note = form.parentElement.querySelector(':scope > .comment-like-error');
  if (note) note.remove();
}

function showFailure(form, failure) {
  const note = element('p', 'comment-action-error comment-like-error', failure.message || 'The like was refused.');
  note.setAttribute('role', 'alert');
  form.parentElement.appendChild(note);
}
