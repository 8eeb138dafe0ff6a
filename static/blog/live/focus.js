/*
 * Where keyboard focus goes when the live page moves it: to a comment (the first of those the
 * reader asked to see), and away from a comment that goes (deleted, hidden, or emptied to a
 * placeholder) while focus is in it: to the next comment, or to the list's heading when none
 * follows, never to the top of the page. Focus in the comment form is the form's business
 * (replying.js puts the form back where it lives, focus with it).
 *
 * Scrolling is smooth only for readers who have not asked for less motion.
 *
 * This part imports only page.js.
 */

import { list, state } from './page.js';

const heading = document.getElementById('comments-heading');
const lessMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

export function scrollBehavior() {
  return lessMotion.matches ? 'auto' : 'smooth';
}

export function focusComment(li) {
  li.tabIndex = -1;
  li.focus({ preventScroll: true });
  li.scrollIntoView({ block: 'nearest', behavior: scrollBehavior() });
}

export function focusHeading() {
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}

// Called while the comment is still on the page. placeholder: it stays, emptied, with its replies,
// and the next comment may be the first of them; otherwise its replies go with it.
export function keepFocusFrom(li, placeholder) {
  const active = document.activeElement;
  if (!active || !li.contains(active)) return;
  if (state.form && state.form.contains(active)) return;
  const next = nextComment(li, placeholder);
  if (next) {
    focusComment(next);
  } else {
    focusHeading();
  }
}

function nextComment(li, withReplies) {
  return Array.from(list.querySelectorAll('li.comment[data-comment-id]')).find(
    (other) =>
      other !== li &&
      li.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING &&
      (withReplies || !li.contains(other)) &&
      other.closest('[hidden]') === null,
  );
}
