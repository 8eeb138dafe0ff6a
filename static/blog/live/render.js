/*
 * Comments on the page: built with the same markup as templates/blog/_comment.html
 * (user text only through textContent, bodies only as the HTML the server
 * sanitised), each reply in its parent's list of replies, kept in id order,
 * fetched when the socket missed some, and given the Edit, Delete and Flag controls
 * the reader may use. The list holds only a page of the post's comments (the newest
 * threads, any earlier ones the reader asked for, and of each thread its first
 * replies and those the reader opened); the heading counts them all. A comment a
 * moderator publishes (held, or hidden and restored) joins it in id order; one
 * hidden leaves it; the author's own comment held for a moderator stays where it
 * was written, marked, until a moderator publishes it.
 *
 * This part imports only page.js. The comment form and the inline editors hear of
 * comments shown or gone through the callbacks given to hookRender().
 */

import {
  commentForm,
  commentsUrl,
  commentUrl,
  countedIds,
  countedThrough,
  csrfToken,
  deletedIds,
  deleteUrlPattern,
  editors,
  editUrlPattern,
  element,
  flagUrlPattern,
  list,
  pageUser,
  pending,
  RESYNC_PAGE_SIZE,
  seenIds,
  sort,
  state,
  viewer,
} from './page.js';

const heading = document.getElementById('comments-heading');
const emptyNote = document.getElementById('no-comments');
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

// What the parts above this one do when a comment arrives or goes (live-comments.js sets them).
const hooks = {
  ownCommentArrived: (item) => {}, // the pending item this comment settles
  editorMustClose: (editor) => {}, // its comment went, changed under it, or is no longer the reader's
  commentGoing: (li, placeholder) => {}, // about to be removed or emptied (the reply form may be inside it)
  commentBuilt: (li, comment) => {}, // a comment's item was built (likes.js adds its count)
  likeControl: (li) => null, // the Like form for someone else's comment (likes.js), or null
  commentArrived: (li) => {}, // someone else's comment, new to this page, just put in the list
};

export function hookRender(callbacks) {
  Object.assign(hooks, callbacks);
}

// ---- Rendering ----

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeFormat.format(date);
}

export function buildMeta(author, detail) {
  const meta = element('p', 'comment-meta');
  meta.append(element('span', 'comment-author', author), ' ', detail);
  return meta;
}

// Like Django's linebreaksbr: each line a text node, a <br> between them.
// A saved comment's body: the HTML the server rendered and sanitised when it saved the
// comment (blog/comments/markup.py), the only HTML this script ever inserts, with its
// Markdown source beside it for the editor.
export function buildBody(comment) {
  const body = element('div', 'comment-body');
  body.dataset.body = comment.body;
  body.innerHTML = comment.html;
  return body;
}

// A comment still on its way: the text as typed, shown as text.
export function buildPendingBody(text) {
  const body = element('div', 'comment-body');
  text.split(/\r\n|\r|\n/).forEach((line, index) => {
    if (index > 0) body.appendChild(document.createElement('br'));
    body.appendChild(document.createTextNode(line));
  });
  return body;
}

// For the editor: the text as the author typed it.
export function bodyText(body) {
  if (body.dataset.body !== undefined) return body.dataset.body;
  return Array.from(body.childNodes, (node) => (node.nodeName === 'BR' ? '\n' : node.textContent)).join('');
}

function buildComment(comment) {
  const li = element('li', 'comment');
  li.id = 'comment-' + comment.id;
  li.dataset.commentId = String(comment.id);
  li.dataset.parentId = comment.parent ? String(comment.parent) : '';
  if (comment.deleted) {
    makePlaceholder(li);
    return li;
  }
  li.dataset.author = comment.author;
  li.dataset.editableUntil = comment.editable_until;
  const link = element('a', 'comment-link');
  link.href = '#' + li.id;
  const time = element('time', null, formatTime(comment.created));
  time.setAttribute('datetime', comment.created);
  link.appendChild(time);
  const meta = buildMeta(comment.author, link);
  meta.append(' ', element('span', 'comment-edited', '(edited)'));
  li.append(meta, buildBody(comment), buildReplyLink(comment.id));
  hooks.commentBuilt(li, comment);
  markEdited(li, comment.edited);
  syncActions(li);
  return li;
}

// As the server writes it: the post page with the form set to answer this comment.
function buildReplyLink(id) {
  const link = element('a', 'comment-reply', 'Reply');
  link.href = window.location.pathname + '?reply_to=' + id + '#comment-form';
  return link;
}

// What a deleted comment with replies leaves: its place in the thread, not its text or author.
function makePlaceholder(li) {
  li.classList.add('comment-deleted');
  li.dataset.author = '';
  li.dataset.editableUntil = '';
  const meta = element('p', 'comment-meta');
  meta.appendChild(element('span', 'comment-placeholder', 'Comment deleted'));
  li.querySelectorAll(':scope > :not(ol.comment-replies, a.replies-more)').forEach((node) => node.remove());
  li.prepend(meta);
}

// Whether the page shows replies of this comment, or a link to them.
export function holdsReplies(li) {
  return li.querySelector(':scope > ol.comment-replies > li[data-comment-id], :scope > a.replies-more') !== null;
}

// The list a comment's replies go in, made when the first arrives (before any "more replies" link).
export function repliesOf(li) {
  let replies = li.querySelector(':scope > ol.comment-replies');
  if (!replies) {
    replies = element('ol', 'comment-replies');
    li.insertBefore(replies, li.querySelector(':scope > a.replies-more'));
  }
  return replies;
}

function markEdited(li, edited) {
  li.dataset.edited = edited || '';
  const marker = li.querySelector('.comment-edited');
  if (!marker) return;
  marker.hidden = !edited;
  if (edited) marker.title = 'Edited ' + formatTime(edited);
}

// The Edit link, the Delete form and the Flag link, in the order _comment_actions.html has
// them; which of them this reader gets is syncActions' call.
function buildActions(li, controls) {
  const actions = element('div', 'comment-actions');
  if (controls.includes('delete')) {
    if (li.dataset.author === viewer.user && editWindowLeft(li) > 0) {
      const link = element('a', 'comment-edit', 'Edit');
      link.href = commentUrl(editUrlPattern, li.dataset.commentId);
      scheduleEditLinkRemoval(link, li);
      actions.appendChild(link);
    }
    // Without a token the server would refuse the form; a reload brings a working one.
    const token = csrfToken();
    if (token) actions.appendChild(buildDeleteForm(li.dataset.commentId, token));
  }
  const like = controls.includes('flag') ? hooks.likeControl(li) : null;
  if (like) actions.prepend(like); // first, as _comment_actions.html has it
  if (controls.includes('flag') && flagUrlPattern) {
    // A page that asks why, as without the script.
    const link = element('a', 'comment-flag', 'Flag');
    link.href = commentUrl(flagUrlPattern, li.dataset.commentId);
    actions.appendChild(link);
  }
  return actions.childElementCount > 0 ? actions : null;
}

function buildDeleteForm(id, token) {
  const deleteForm = commentForm('comment-delete', deleteUrlPattern, id, token);
  const button = element('button', 'link-button', 'Delete');
  button.type = 'submit';
  deleteForm.append(button);
  return deleteForm;
}

// Threads stay in the page's sort (id order by default), replies in id order in their parent's
// list; pending ones stay below them. In most-liked order a thread goes by the counts shown now
// (a new one, without likes, below those with likes). Returns false for a reply whose parent is
// not on the page (it is not shown).
function insertInOrder(li, comment) {
  let container = list;
  if (comment.parent) {
    const parent = document.getElementById('comment-' + comment.parent);
    if (!parent || !list.contains(parent)) return false;
    container = repliesOf(parent);
  }
  const comesFirst = container === list ? threadComesFirst : (otherId) => otherId > comment.id;
  for (const other of container.children) {
    // The author's held comments keep their place by id too (data-held-id).
    const otherId = Number(other.dataset.commentId || other.dataset.heldId);
    if (other.classList.contains('pending') || comesFirst(otherId, comment, other)) {
      container.insertBefore(li, other);
      return true;
    }
  }
  container.appendChild(li);
  return true;
}

// Whether a new thread goes before this one shown, in the page's sort.
function threadComesFirst(otherId, comment, other) {
  if (sort === 'newest') return otherId < comment.id;
  if (sort !== 'liked') return otherId > comment.id;
  const count = other.querySelector(':scope > .comment-likes');
  const otherLikes = count ? Number(count.dataset.likes) || 0 : 0;
  const likes = typeof comment.likes === 'number' ? comment.likes : 0;
  return otherLikes < likes || (otherLikes === likes && otherId < comment.id);
}

// The post's total counts each comment once, however often it arrives and whether it is shown.
function count(comment) {
  if (comment.deleted || countedIds.has(comment.id)) return; // placeholders are not in the total
  if (comment.id > countedThrough) state.commentCount += 1;
  countedIds.add(comment.id);
}

// The post's total, as the server writes it ("2,000 comments"); pending ones are not in it yet.
export function updateCount() {
  const count = Math.max(state.commentCount, 0);
  if (heading) heading.textContent = count.toLocaleString('en') + (count === 1 ? ' comment' : ' comments');
  if (emptyNote) emptyNote.hidden = list.children.length > 0 || count > 0;
}

// fromStream: false for a comment we posted over HTTP. The stream may not have
// delivered the comments before it yet, so it must not move the resume point.
export function renderComment(comment, fromStream) {
  if (fromStream !== false) state.lastId = Math.max(state.lastId, comment.id);
  const own = comment.client_id && pending.get(comment.client_id);
  if (own) hooks.ownCommentArrived(own);
  if (seenIds.has(comment.id)) return;
  // Older ones are in the page's total already (a resync can list one this page had not shown).
  count(comment);
  // A reply to a comment not on the page is counted, not shown ("more replies" may show it later).
  const li = buildComment(comment);
  if (insertInOrder(li, comment)) {
    seenIds.add(comment.id);
    if (!own) hooks.commentArrived(li);
  }
  updateCount();
}

// Comments older than any shown, from "Show earlier comments": already in the total.
// Returns the items added, in id order (ids shown or deleted meanwhile are skipped).
export function showEarlierComments(comments) {
  const added = [];
  comments.forEach((comment) => {
    if (seenIds.has(comment.id)) return;
    const li = buildComment(comment);
    if (!insertInOrder(li, comment)) return;
    seenIds.add(comment.id);
    countedIds.add(comment.id);
    added.push(li);
  });
  updateCount();
  return added.sort((a, b) => Number(a.dataset.commentId) - Number(b.dataset.commentId));
}

// placeholder: the comment stays, emptied, to hold its replies.
export function removeComment(id, placeholder) {
  const li = document.getElementById('comment-' + id);
  // Counted: in the page's total, or added to it when it arrived. A deletion of a comment
  // this page never counted (posted and deleted while it was away) changes nothing, nor
  // does the removal of a placeholder (the server's total leaves those out).
  const wasPlaceholder = li !== null && li.classList.contains('comment-deleted');
  // Nor does one this page shows as held (a moderator removing a hidden comment): never in the total.
  const wasHeld = li !== null && li.classList.contains('comment-held');
  if (!deletedIds.has(id)) {
    deletedIds.add(id);
    if (!wasPlaceholder && !wasHeld && (id <= countedThrough || countedIds.has(id))) state.commentCount -= 1;
  }
  const editor = editors.get(id);
  if (editor) hooks.editorMustClose(editor);
  if (li) {
    hooks.commentGoing(li, placeholder === true);
    // A hidden comment goes with its replies: their editors too.
    if (!placeholder) li.querySelectorAll('li[data-comment-id]').forEach((reply) => closeEditorOf(reply));
    if (placeholder) {
      makePlaceholder(li);
    } else {
      li.remove();
    }
  }
  // A placeholder can still be shown with its replies later; a removed comment never again.
  if (!placeholder) seenIds.add(id);
  updateCount();
}

function closeEditorOf(li) {
  const editor = editors.get(Number(li.dataset.commentId));
  if (editor) hooks.editorMustClose(editor);
}

// A comment a moderator published: a held one approved, or a hidden one restored. New to this page
// whatever its id, so it goes in by id order (or, shown already, is brought up to date) and joins
// the total. Its frame is a numbered change (socket.js moves that cursor), not a new comment: the
// comment cursor stays, or comments before it that the stream has not delivered would be skipped.
export function publishComment(comment) {
  const id = comment.id;
  const found = document.getElementById('comment-' + id);
  const held = found !== null && found.classList.contains('comment-held') ? found : null;
  const shown = found !== null && held === null && list.contains(found) ? found : null;
  const counted = !deletedIds.has(id) && (countedIds.has(id) || (shown !== null && !isPlaceholder(shown)));
  if (!counted) state.commentCount += 1;
  deletedIds.delete(id);
  countedIds.add(id);
  // What its author (or a moderator) saw of it while it waited gives way to the comment itself.
  if (held) held.remove();
  const own = comment.client_id && pending.get(comment.client_id);
  if (own) hooks.ownCommentArrived(own);
  const li = shown ? null : buildComment(comment);
  if (shown) {
    updateComment(comment);
  } else if (insertInOrder(li, comment)) {
    seenIds.add(id);
    if (!own) hooks.commentArrived(li);
  } else {
    // A reply to a comment not on the page: "more replies" may show it later (a hiding had marked it gone).
    seenIds.delete(id);
  }
  updateCount();
}

function isPlaceholder(li) {
  return li.classList.contains('comment-deleted');
}

// The author's own comment that a moderator holds: nothing replaces or removes it (readers get no
// frames about it) until a moderator publishes it. It is not in the total and cannot be answered.
export function showHeld(li, id) {
  li.classList.remove('pending');
  li.classList.add('comment-held');
  li.removeAttribute('aria-busy');
  delete li.dataset.clientId;
  li.id = 'comment-' + id;
  li.dataset.heldId = String(id);
  const sending = li.querySelector('.comment-sending');
  const status = element('span', 'comment-status', 'Awaiting approval');
  if (sending) {
    sending.replaceWith(status);
  } else {
    li.prepend(status);
  }
  li.appendChild(element('p', 'held-note', 'Awaiting approval: only you and the moderators can see it.'));
}

export function updateComment(comment) {
  const li = document.getElementById('comment-' + comment.id);
  if (!li) return; // not rendered here (yet, or any more): nothing to keep in step
  const oldBody = commentBody(li);
  if (!oldBody) return; // a placeholder: nothing left to change
  const body = buildBody(comment);
  body.hidden = oldBody.hidden; // an open editor keeps covering it
  oldBody.replaceWith(body);
  markEdited(li, comment.edited);
  const editor = editors.get(comment.id);
  if (editor && editor.saving) hooks.editorMustClose(editor);
}

export function commentBody(li) {
  return li.querySelector(':scope > .comment-body');
}

// Held comments carry data-held-id instead: no frame, resync or control is about them.
function commentItems() {
  return list.querySelectorAll('li.comment[data-comment-id]');
}

// ---- Fetching what the socket missed ----

// Fetch what the socket did not deliver, oldest first, a page at a time. The
// cursor is local: live frames may move lastId past comments not fetched yet.
async function fetchCommentsAfter(after) {
  for (;;) {
    const response = await fetch(commentsUrl + '?after=' + after, {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    if (!response.ok) return;
    const data = await response.json();
    data.comments.forEach((comment) => renderComment(comment));
    if (data.comments.length < RESYNC_PAGE_SIZE || data.last_id === null) return;
    after = data.last_id;
  }
}

export function catchUp(after) {
  return fetchCommentsAfter(after).catch((error) => {
    console.warn('Could not load missed comments:', error);
  });
}

// The page shows every comment from its earlier cursor on (all of them without one); older
// ones wait behind "Show earlier comments", which fetches them as the server has them then.
function shownFrom() {
  return state.earlierCursor ? Number(state.earlierCursor) : 0;
}

// After a resync (the server could not replay what this page missed), the server's list of
// what this page shows replaces it, so edits and deletions missed are applied too, not only
// new comments. Frames that arrive meanwhile win: a comment shown only since the request is
// kept, one deleted live stays deleted (seenIds), and an edit newer than the list's stays.
// (A comment deleted meanwhile among the older ones is not known here: the heading's total
// may then be high until the page is loaded again.)
export async function reloadComments() {
  // Most liked first, what the page shows is no range of ids to fetch again: the page itself is.
  if (sort === 'liked') {
    window.location.reload();
    return;
  }
  const from = shownFrom();
  const shownBefore = Array.from(commentItems(), (li) => Number(li.dataset.commentId)).filter((id) => id >= from);
  const comments = [];
  try {
    for (let after = Math.max(from - 1, 0); ; ) {
      const response = await fetch(commentsUrl + '?after=' + after, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!response.ok) return;
      const data = await response.json();
      comments.push(...data.comments);
      if (data.comments.length < RESYNC_PAGE_SIZE || data.last_id === null) break;
      after = data.last_id;
    }
  } catch (error) {
    console.warn('Could not reload the comments:', error);
    return;
  }
  const listed = new Map(comments.map((comment) => [comment.id, comment]));
  shownBefore.forEach((id) => {
    if (!listed.has(id)) removeComment(id);
  });
  listed.forEach((comment) => {
    const li = document.getElementById('comment-' + comment.id);
    if (!li) {
      renderComment(comment);
    } else if (comment.deleted) {
      if (!li.classList.contains('comment-deleted')) removeComment(comment.id, true);
    } else if ((comment.edited || '') > (li.dataset.edited || '')) {
      updateComment(comment);
    }
  });
}

// One comment as the server has it now, for an acknowledged edit whose
// broadcast never came (the server also catches up within seconds; this is sooner).
export async function refreshComment(id) {
  try {
    const response = await fetch(commentsUrl + '?after=' + (id - 1), {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    if (!response.ok) return;
    const first = (await response.json()).comments[0];
    if (first && first.id === id) {
      updateComment(first);
    } else {
      removeComment(id);
    }
  } catch (error) {
    console.warn('Could not reload the comment:', error);
  }
}

// ---- Who may edit, delete and flag ----

export function setViewer(user, canModerate) {
  if (viewer.user === user && viewer.canModerate === canModerate) return;
  viewer.user = user;
  viewer.canModerate = canModerate;
  commentItems().forEach(syncActions);
}

// The server decides in the end; this only keeps the page from offering what it would refuse.
// Someone other than the page's user would also be refused for the page's CSRF token.
function mayDelete(li) {
  if (viewer.user === null || viewer.user !== pageUser) return false;
  return li.dataset.author === viewer.user || viewer.canModerate;
}

// Any signed-in reader may ask a moderator to look at someone else's comment (the server
// refuses a second flag); the link needs no token, so whoever the socket says is reading.
function mayFlag(li) {
  return viewer.user !== null && li.dataset.author !== viewer.user;
}

// The controls a reader should have on a comment ('delete' brings Edit while the author may),
// and those its actions show now, as one comparable word each.
function controlsFor(li) {
  if (isPlaceholder(li)) return '';
  return [mayDelete(li) ? 'delete' : '', mayFlag(li) ? 'flag' : ''].join(' ').trim();
}

function controlsShown(actions) {
  const deletes = actions.querySelector('.comment-delete') !== null;
  const flags = actions.querySelector('.comment-flag') !== null;
  return [deletes ? 'delete' : '', flags ? 'flag' : ''].join(' ').trim();
}

function syncActions(li) {
  const actions = li.querySelector(':scope > .comment-actions');
  if (!mayDelete(li)) closeEditorOf(li);
  const controls = controlsFor(li);
  if (actions && controlsShown(actions) === controls) return;
  if (actions) actions.remove();
  const built = controls && buildActions(li, controls);
  // Before the replies, as the server puts them.
  if (built) li.insertBefore(built, li.querySelector(':scope > ol.comment-replies, :scope > a.replies-more'));
}

function editWindowLeft(li) {
  // The server says until when (editable_until), so its rule is written once.
  return Date.parse(li.dataset.editableUntil) - Date.now();
}

// After five minutes the server refuses edits, so the link would only lead to an error.
// (A reader whose clock is off sees it go early or late; the server still decides.)
export function scheduleEditLinkRemoval(link, li) {
  const left = editWindowLeft(li);
  if (Number.isNaN(left)) return;
  setTimeout(() => link.remove(), Math.max(left, 0));
}
