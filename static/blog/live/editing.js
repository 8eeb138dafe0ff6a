/*
 * Editing in place (authors, for the first five minutes) and deleting (authors and
 * moderators), over the socket when it is open and over HTTP otherwise. The
 * server-rendered Edit link and Delete form keep working without this script.
 */

import {
  ACKED_COMMENT_WAIT_MS,
  COMMENT_MAX_LENGTH,
  commentUrl,
  csrfToken,
  editors,
  editUrlPattern,
  element,
  setBusy,
} from './page.js';
import { bodyText, commentBody, holdsReplies, refreshComment, removeComment, updateComment } from './render.js';
import { sendRequest, socketOpen, takeRequest } from './socket.js';

// ---- Answers over HTTP ----

async function postForJson(url, data) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { Accept: 'application/json', 'X-CSRFToken': csrfToken() },
    body: data,
    credentials: 'same-origin',
  });
  // A login page (after a redirect) or an error page is not JSON: payload null.
  const payload = await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, payload: payload };
}

function failureMessages(failure) {
  const errors = failure.code === 'invalid' && failure.errors ? failure.errors.body || failure.errors.id : null;
  return errors && errors.length ? errors : [failure.message];
}

// ---- Editing in place ----

function openEditor(li) {
  const id = Number(li.dataset.commentId);
  const open = editors.get(id);
  if (open) {
    open.textarea.focus();
    return;
  }
  const body = commentBody(li);
  const editor = { id: id, li: li, saving: false, request: null, timer: null };
  editor.textarea = element('textarea');
  editor.textarea.name = 'body';
  editor.textarea.rows = 3;
  editor.textarea.maxLength = COMMENT_MAX_LENGTH;
  editor.textarea.value = bodyText(body);
  editor.textarea.setAttribute('aria-label', 'Edit your comment');
  editor.message = element('div', 'form-message comment-editor-message');
  editor.message.setAttribute('aria-live', 'assertive');
  const save = element('button', null, 'Save');
  save.type = 'submit';
  const cancel = element('button', 'link-button comment-editor-cancel', 'Cancel');
  cancel.type = 'button';
  const buttons = element('div', 'comment-editor-buttons');
  buttons.append(save, cancel);
  editor.form = element('form', 'comment-editor');
  editor.form.append(editor.textarea, editor.message, buttons);
  body.hidden = true;
  body.after(editor.form);
  editors.set(id, editor);
  editor.textarea.focus();
}

export function closeEditor(editor) {
  if (editors.get(editor.id) !== editor) return;
  editors.delete(editor.id);
  clearTimeout(editor.timer);
  if (editor.request) takeRequest(editor.request.clientId);
  const hadFocus = editor.form.contains(document.activeElement);
  editor.form.remove();
  commentBody(editor.li).hidden = false;
  // Keyboard users carry on from where they started, not from the top of the page: the Edit
  // link, or the comment itself once the edit window has closed and the link has gone.
  if (!hadFocus || !editor.li.isConnected) return;
  const link = editor.li.querySelector('a.comment-edit');
  if (link) {
    link.focus();
  } else {
    editor.li.tabIndex = -1;
    editor.li.focus();
  }
}

function editorOf(node) {
  const li = node.closest('li.comment');
  return li ? editors.get(Number(li.dataset.commentId)) : undefined;
}

function setSaving(editor, saving) {
  editor.saving = saving;
  const save = editor.form.querySelector('button[type="submit"]');
  // A button disabled while it has focus drops it to the top of the page: the box keeps it.
  if (saving && document.activeElement === save) editor.textarea.focus();
  save.disabled = saving;
  setBusy(editor.form, saving);
}

function saveEdit(editor) {
  if (editor.saving) return;
  setSaving(editor, true);
  editor.message.replaceChildren();
  editor.textarea.removeAttribute('aria-invalid');
  const text = editor.textarea.value;
  if (!socketOpen()) {
    saveEditOverHttp(editor, text);
    return;
  }
  editor.request = {
    answered: () => editSaved(editor, text),
    failed: (failure) => editRefused(editor, failure),
    overHttp: () => saveEditOverHttp(editor, text),
  };
  sendRequest({ type: 'comment.edit', id: editor.id, body: text }, editor.request);
}

// Acknowledged. The comment.updated frame that follows closes the editor, so the
// old text does not flash up in between; an unchanged text gets no frame at all.
function editSaved(editor, text) {
  if (text.trim() === bodyText(commentBody(editor.li))) {
    closeEditor(editor);
    return;
  }
  editor.timer = setTimeout(async () => {
    await refreshComment(editor.id);
    closeEditor(editor);
  }, ACKED_COMMENT_WAIT_MS);
}

async function saveEditOverHttp(editor, text) {
  const data = new FormData();
  data.append('body', text);
  let answer;
  try {
    answer = await postForJson(commentUrl(editUrlPattern, editor.id), data);
  } catch (networkError) {
    editRefused(editor, { message: 'The server could not be reached. Try again in a moment.' });
    return;
  }
  if (answer.ok && answer.payload && answer.payload.comment) {
    updateComment(answer.payload.comment);
    closeEditor(editor);
  } else {
    editRefused(editor, answer.payload || { message: 'Your change could not be saved. Reload the page and try again.' });
  }
}

function editRefused(editor, failure) {
  if (editors.get(editor.id) !== editor) return; // cancelled meanwhile
  editor.request = null;
  setSaving(editor, false);
  if (failure.code === 'invalid') editor.textarea.setAttribute('aria-invalid', 'true');
  editor.message.replaceChildren(...failureMessages(failure).map((text) => element('p', null, text)));
}

// ---- Deleting ----

function onDeleteSubmit(event, deleteForm) {
  const li = deleteForm.closest('li.comment');
  event.preventDefault();
  if (li.classList.contains('deleting')) return;
  setDeleting(li, true);
  if (!socketOpen()) {
    deleteOverHttp(li, deleteForm);
    return;
  }
  const id = Number(li.dataset.commentId);
  sendRequest(
    { type: 'comment.delete', id: id },
    {
      // comment.deleted follows for every reader; removing it now as well does
      // not wait on a broadcast the server might lose. With replies shown, the
      // server leaves a placeholder for them (the broadcast says so too).
      answered: () => removeComment(id, holdsReplies(li)),
      failed: (failure) => deleteRefused(li, failure),
      overHttp: () => deleteOverHttp(li, deleteForm),
    },
  );
}

async function deleteOverHttp(li, deleteForm) {
  let answer;
  try {
    answer = await postForJson(deleteForm.action, new FormData(deleteForm));
  } catch (networkError) {
    deleteForm.submit(); // the browser tries once more and shows what it gets; no submit event, no loop
    return;
  }
  // 404: someone else deleted it first, which is what was asked for.
  if (answer.ok && answer.payload && answer.payload.deleted !== undefined) {
    removeComment(Number(li.dataset.commentId), answer.payload.placeholder === true);
  } else if (answer.status === 404) {
    removeComment(Number(li.dataset.commentId), holdsReplies(li));
  } else {
    deleteRefused(li, answer.payload || { message: 'The comment could not be deleted. Reload the page and try again.' });
  }
}

function setDeleting(li, deleting) {
  li.classList.toggle('deleting', deleting);
  setBusy(li, deleting);
  const note = li.querySelector('.comment-action-error');
  if (note) note.remove();
}

function deleteRefused(li, failure) {
  setDeleting(li, false);
  const actions = li.querySelector(':scope > .comment-actions');
  if (!actions) return;
  const note = element('p', 'comment-action-error', failureMessages(failure).join(' '));
  note.setAttribute('role', 'alert');
  actions.appendChild(note);
}

// ---- Events on the list (delegated: comments come and go) ----

export function onListClick(event) {
  const editLink = event.target.closest('a.comment-edit');
  // A modified click opens the edit page in a new tab, as links do.
  if (editLink && !(event.button || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey)) {
    event.preventDefault();
    openEditor(editLink.closest('li.comment'));
    return;
  }
  const editor = event.target.closest('.comment-editor-cancel') && editorOf(event.target);
  if (editor) closeEditor(editor);
}

export function onListSubmit(event) {
  const target = event.target;
  if (target.matches('form.comment-delete')) {
    onDeleteSubmit(event, target);
  } else if (target.matches('form.comment-editor')) {
    event.preventDefault();
    const editor = editorOf(target);
    if (editor) saveEdit(editor);
  }
}

export function onListKeydown(event) {
  if (event.key !== 'Escape' || !event.target.closest('form.comment-editor')) return;
  const editor = editorOf(event.target);
  if (editor) closeEditor(editor);
}
