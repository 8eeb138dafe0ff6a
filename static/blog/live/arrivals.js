/*
 * Others' new comments, calmly. Every one is announced (announce.js, a batch at a time). Where
 * it shows depends on where the reader is:
 *
 * - reading the post above the comments, or at the end of the list (its last comment on the
 *   screen, or above it): the comment takes its place at once, marked new for a moment;
 * - scrolled down into the comments but not at their end: it waits, hidden, behind a
 *   "3 new comments" button that stays at the bottom of the window, so a reply landing in a
 *   thread above does not push what the reader is reading down the screen. Pressing the button
 *   shows every waiting comment and moves keyboard focus to the first of them (in page order).
 *   While any wait, the next ones wait too: the button is the one way in, in the page's order.
 *
 * A waiting comment is in the list already, hidden, so edits, deletions and the heading's total
 * apply to it as to any other; one deleted before it was shown leaves the count.
 * The reader's own comments never wait and are not announced, whichever tab wrote them.
 *
 * This part imports page.js, announce.js and focus.js.
 */

import { element, list, section, viewer } from './page.js';
import { announceArrival, newCommentsText } from './announce.js';
import { focusComment, focusHeading } from './focus.js';

// How far below the window's bottom edge the list's end may be and still count as reached.
const END_SLACK_PX = 48;

let button = null;
let waiting = [];

export function enableArrivals() {
  button = element('button', 'new-comments');
  button.type = 'button';
  button.id = 'new-comments';
  button.hidden = true;
  button.addEventListener('click', showWaiting);
  list.after(button);
}

// A comment someone else wrote, just put in the list (render.js calls this through its hooks).
export function commentArrived(li) {
  if (viewer.user !== null && li.dataset.author === viewer.user) return;
  announceArrival();
  // Measured without it: is the reader where the list ended before it came?
  li.hidden = true;
  if (stillWaiting().length === 0 && !readingAboveTheEnd()) {
    li.hidden = false;
    li.classList.add('comment-new');
    return;
  }
  waiting.push(li);
  label();
}

// A comment is going or becoming a placeholder (render.js removes it right after this).
export function commentGoing(li) {
  if (waiting.some((held) => li.contains(held))) queueMicrotask(label);
}

function readingAboveTheEnd() {
  const intoTheComments = section.getBoundingClientRect().top < 0;
  const endBelow = list.getBoundingClientRect().bottom > window.innerHeight + END_SLACK_PX;
  return intoTheComments && endBelow;
}

function stillWaiting() {
  waiting = waiting.filter((li) => li.isConnected);
  return waiting;
}

// Comments, not what is left of deleted ones: a placeholder is no news.
function waitingCount() {
  return stillWaiting().filter((li) => !li.classList.contains('comment-deleted')).length;
}

function label() {
  const count = waitingCount();
  if (count === 0) {
    // Nothing left worth a button: placeholders (if any) take their places quietly.
    const hadFocus = document.activeElement === button;
    reveal();
    button.hidden = true;
    if (hadFocus) focusHeading();
    return;
  }
  // Its name says what it does; its face, how many (the name contains the face, for voice control).
  button.replaceChildren(element('span', 'visually-hidden', 'Show '), newCommentsText(count));
  button.hidden = false;
}

function reveal() {
  const shown = stillWaiting();
  waiting = [];
  shown.forEach((li) => {
    li.hidden = false;
    li.classList.add('comment-new');
  });
  return shown;
}

function showWaiting() {
  const shown = reveal().filter((li) => !li.classList.contains('comment-deleted'));
  button.hidden = true;
  shown.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  if (shown.length > 0) {
    focusComment(shown[0]);
  } else {
    focusHeading();
  }
}
