/*
 * "Show earlier comments": the page lists only the newest threads, and the link before
 * the list leads to the older page (?before=) without this script. With it, a click
 * fetches the next older page as JSON and puts it at the top of the list in place: the
 * link stays where the reader clicked it, the first comment shown gets keyboard focus,
 * and the link moves on to the next older page or goes when there is none.
 */

import { commentsUrl, EARLIER_PAGE_SIZE, element, section, setBusy, state } from './page.js';
import { showEarlierComments } from './render.js';
import { addMoreRepliesLinks } from './threads.js';

const FAILED = 'Earlier comments could not be loaded. Try again.';

let loading = false;

export function enableEarlierComments() {
  const link = document.getElementById('comments-earlier');
  if (link) link.addEventListener('click', (event) => onEarlierClick(event, link));
}

function onEarlierClick(event, link) {
  // A modified click opens the older page in a new tab, as links do.
  if (event.button || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  if (loading) return; // one fetch at a time: the second click would fetch the same page
  showEarlier(link);
}

async function showEarlier(link) {
  loading = true;
  setBusy(link, true);
  showFailure(link, null);
  let data;
  try {
    data = await fetchEarlier(cursorOf(link));
  } catch (error) {
    console.warn('Could not load earlier comments:', error);
    showFailure(link, FAILED);
    return;
  } finally {
    loading = false;
    setBusy(link, false);
  }
  insertBelowLink(link, data);
}

// The cursor the page gave, or the link's own (?before=) when the page did not say.
function cursorOf(link) {
  return state.earlierCursor || new URL(link.href).searchParams.get('before') || '';
}

async function fetchEarlier(cursor) {
  const query = new URLSearchParams({ before: cursor, limit: String(EARLIER_PAGE_SIZE) });
  const response = await fetch(commentsUrl + '?' + query, {
    headers: { Accept: 'application/json' },
    credentials: 'same-origin',
  });
  if (!response.ok) throw new Error('HTTP ' + response.status);
  const data = await response.json();
  if (!data || !Array.isArray(data.comments)) throw new Error('not a list of comments');
  return data;
}

// The link is where the reader's eyes are, and the comments go in below it, so nothing
// above them moves and the page is not scrolled: the link keeps its place on the screen
// (or, when it goes, the first of them takes its place, the list's margin the link's).
function insertBelowLink(link, data) {
  const added = showEarlierComments(data.comments);
  addMoreRepliesLinks(data.more_replies, data.comments);
  const hasMore = data.earlier !== null && data.earlier !== undefined && data.earlier !== '';
  state.earlierCursor = hasMore ? String(data.earlier) : '';
  section.dataset.earlierCursor = state.earlierCursor;
  if (hasMore) {
    // Written as the server writes it (?before=<id>#comments), the page's own address implied.
    const url = new URL(link.href);
    url.searchParams.set('before', state.earlierCursor);
    link.setAttribute('href', url.search + url.hash);
  } else {
    link.remove();
  }
  focusFirst(added, link);
}

// Keyboard and screen-reader users carry on from the first comment they had not seen.
function focusFirst(added, link) {
  const first = added[0];
  if (!first) {
    if (link.isConnected) link.focus({ preventScroll: true });
    return;
  }
  first.tabIndex = -1;
  first.focus({ preventScroll: true });
  first.scrollIntoView({ block: 'nearest' });
}

function showFailure(link, text) {
  const old = link.parentNode && link.parentNode.querySelector('.comments-earlier-error');
  if (old) old.remove();
  if (!text) return;
  const note = element('span', 'comments-earlier-error', text);
  note.setAttribute('role', 'alert');
  link.after(note);
}
