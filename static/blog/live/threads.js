/*
 * "Show N more replies": a page shows each thread's first replies, and the link under a
 * thread leads to its own pages (/blog/comments/<id>/replies/?after=) without this script.
 * With it, a click fetches the next replies of that thread as JSON (?thread=&after=) and
 * puts each under its parent in place; the link moves on, or goes when none are left.
 *
 * This part imports only page.js and render.js.
 */

import {
  commentsUrl,
  commentUrl,
  countedThrough,
  EARLIER_PAGE_SIZE,
  element,
  list,
  setBusy,
  threadUrlPattern,
} from './page.js';
import { showEarlierComments } from './render.js';

const FAILED = 'More replies could not be loaded. Try again.';
const loading = new Set();

export function enableMoreReplies() {
  list.addEventListener('click', (event) => {
    const link = event.target.closest('a.replies-more');
    if (!link || event.button || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (!loading.has(link)) showMore(link);
  });
}

// For the threads of an earlier page: the links the server would have put under them.
export function addMoreRepliesLinks(moreReplies, comments) {
  Object.entries(moreReplies || {}).forEach(([thread, count]) => {
    const top = document.getElementById('comment-' + thread);
    if (!top || top.querySelector(':scope > a.replies-more')) return;
    const shownThrough = comments.filter((c) => String(c.id) === thread || String(threadOf(c)) === thread);
    const after = Math.max(...shownThrough.map((c) => c.id));
    top.appendChild(buildLink(thread, count, after));
  });
}

// A reply's thread is its top-level comment: the parent of a parent, up the page.
function threadOf(comment) {
  let li = comment.parent && document.getElementById('comment-' + comment.parent);
  while (li && li.dataset.parentId) li = document.getElementById('comment-' + li.dataset.parentId);
  return li ? li.dataset.commentId : '';
}

function buildLink(thread, count, after) {
  const link = element('a', 'replies-more');
  link.dataset.thread = String(thread);
  link.dataset.after = String(after);
  link.dataset.count = String(count);
  link.href = commentUrl(threadUrlPattern, thread) + '?after=' + after;
  label(link, count);
  return link;
}

function label(link, count) {
  link.textContent = count > 0 ? 'Show ' + count + ' more repl' + (count === 1 ? 'y' : 'ies') : 'Show more replies';
}

async function showMore(link) {
  loading.add(link);
  setBusy(link, true);
  showFailure(link, null);
  let data;
  try {
    const query = new URLSearchParams({
      thread: link.dataset.thread,
      after: link.dataset.after,
      limit: String(EARLIER_PAGE_SIZE),
    });
    const response = await fetch(commentsUrl + '?' + query, {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    data = await response.json();
    if (!data || !Array.isArray(data.comments)) throw new Error('not a list of comments');
  } catch (error) {
    console.warn('Could not load more replies:', error);
    showFailure(link, FAILED);
    return;
  } finally {
    loading.delete(link);
    setBusy(link, false);
  }
  const added = showEarlierComments(data.comments);
  // The count was the server's when the page was made; replies since then arrived live.
  const fetchedCounted = data.comments.filter((comment) => comment.id <= countedThrough).length;
  const left = Number(link.dataset.count) - fetchedCounted;
  if (data.comments.length < EARLIER_PAGE_SIZE || data.last_id === null) {
    link.remove();
  } else {
    link.dataset.after = String(data.last_id);
    link.dataset.count = String(Math.max(left, 0));
    link.href = commentUrl(threadUrlPattern, link.dataset.thread) + '?after=' + data.last_id;
    label(link, Math.max(left, 0));
  }
  focusFirst(added);
}

// Keyboard and screen-reader users carry on from the first reply they had not seen.
function focusFirst(added) {
  const first = added[0];
  if (!first) return;
  first.tabIndex = -1;
  first.focus({ preventScroll: true });
  first.scrollIntoView({ block: 'nearest' });
}

function showFailure(link, text) {
  const old = link.nextElementSibling;
  if (old && old.classList.contains('comments-earlier-error')) old.remove();
  if (!text) return;
  const note = element('span', 'comments-earlier-error', text);
  note.setAttribute('role', 'alert');
  link.after(note);
}
