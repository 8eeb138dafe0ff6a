/*
 * Reply: the comment form moves under the comment it answers, says whom it answers, and
 * sends that comment's id as "parent"; Cancel (or Escape) puts it back under the list.
 * Without the script, Reply is a link to the post page with the form already set
 * (?reply_to=<id>), and that page's form posts the same field.
 *
 * This part imports only page.js and render.js: the composer asks it what the form answers.
 */

import { element, list, state } from './page.js';
import { repliesOf } from './render.js';

// Where the form lives when it answers no one, so Cancel can put it back.
let home = null;

export function enableReplies() {
  if (!state.form) return;
  home = document.createComment('comment form');
  state.form.before(home);
  list.addEventListener('click', onReplyClick);
  state.form.addEventListener('click', (event) => {
    if (!event.target.closest('.reply-cancel')) return;
    event.preventDefault();
    endReply(true);
  });
  state.form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && replyParent()) endReply(true);
  });
  // The page may have been rendered with ?reply_to=: a reply is under way already.
  const answered = replyParent() && document.getElementById('comment-' + replyParent());
  if (answered) placeForm(answered);
}

// The id the form answers, or '' for a top-level comment.
export function replyParent() {
  return state.form && state.form.elements.parent ? state.form.elements.parent.value : '';
}

// Where a pending reply is shown until the server confirms it: under its parent (beside it
// when it is a reply to a reply, as the server will put it), or in the list.
export function pendingContainer(parent) {
  const li = parent && document.getElementById('comment-' + parent);
  if (!li) return list;
  const enclosing = li.parentElement.closest('li.comment');
  const deepest = enclosing !== null && enclosing.parentElement.closest('li.comment') !== null;
  return deepest ? li.parentElement : repliesOf(li);
}

function onReplyClick(event) {
  const link = event.target.closest('a.comment-reply');
  // A modified click opens the reply page in a new tab, as links do.
  if (!link || !state.form || event.button || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
    return;
  }
  event.preventDefault();
  const li = link.closest('li.comment');
  state.form.elements.parent.value = li.dataset.commentId;
  showWhom(li);
  placeForm(li);
  state.form.elements.body.focus();
}

function placeForm(li) {
  // Under the comment's own controls, above its replies.
  li.insertBefore(state.form, li.querySelector(':scope > ol.comment-replies, :scope > a.replies-more'));
}

function showWhom(li) {
  const note = document.getElementById('replying-to');
  const whom = element('a', 'replying-to-link', li.dataset.author);
  whom.href = '#' + li.id;
  const cancel = note.querySelector('.reply-cancel');
  note.replaceChildren('Replying to ', whom, ' ', cancel);
  note.hidden = false;
}

// Back to a top-level comment, the form under the list again. refocus: the reader cancelled,
// so keyboard focus goes back to the Reply link they came from. Focus in the form (moving it
// would drop focus) goes back there too once the reply is sent, and stays in the box when the
// comment it answered is going.
export function endReply(refocus, going = null) {
  if (!state.form || !home) return;
  const answered = document.getElementById('comment-' + replyParent());
  const hadFocus = state.form.contains(document.activeElement);
  state.form.elements.parent.value = '';
  document.getElementById('replying-to').hidden = true;
  home.after(state.form);
  const link = answered && answered.querySelector(':scope > a.comment-reply');
  const linkStays = link && !(going && going.contains(link)) && !answered.closest('[hidden]');
  if ((refocus || hadFocus) && linkStays) {
    link.focus();
  } else if (hadFocus) {
    state.form.elements.body.focus();
  }
}

// The comment the form answers is being removed or emptied: the form must not go with it.
export function commentGoing(li) {
  if (state.form && li.contains(state.form)) endReply(false, li);
}
