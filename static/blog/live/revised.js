// "This post was updated": when an Editor changes the post while it is open, or changed it
// while this page was away (the hello frame says when it was last revised), the header says
// so, politely, with a link to what changed. The text already on the page is left alone:
// the reader chooses when to reload.

const section = document.getElementById('comments-section');
const notice = document.getElementById('post-revised-live');

function showUpdated(url) {
  if (!notice) return;
  notice.replaceChildren();
  notice.append('This post was updated since you opened it. ');
  const link = document.createElement('a');
  link.href = url;
  link.textContent = 'See what changed';
  notice.append(link);
  notice.append(' or ');
  const reload = document.createElement('a');
  reload.href = window.location.pathname + window.location.search;
  reload.textContent = 'reload it';
  notice.append(reload);
  notice.append('.');
  notice.hidden = false;
}

// A post.revised frame: an edit just now.
export function onPostRevised(frame) {
  if (section) section.dataset.postRevised = frame.revised;
  showUpdated(frame.changes_url);
}

// The hello frame: an edit this page has not shown (made while it was disconnected, say).
export function checkRevisedOnHello(frame) {
  if (!section || !('revised' in frame)) return;
  const shown = section.dataset.postRevised ? Date.parse(section.dataset.postRevised) : 0;
  if (Date.parse(frame.revised) > shown) {
    section.dataset.postRevised = frame.revised;
    showUpdated(section.dataset.postChangesUrl);
  }
}
