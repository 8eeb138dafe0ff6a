/*
 * The bell: the signed-in user's unread notifications, kept live.
 *
 * The count comes from the page as rendered, then from frames: "hello" and
 * "notifications.unread" carry the count, "notification" a new one with the count
 * after it (docs/protocol.md, "Notifications"). On a live post page those frames
 * arrive on the comment socket, whose script hands them over as a
 * 'blog:notifications' event on the document; on every other page this opens
 * /ws/notifications/ itself. A new notification is announced to screen readers.
 */

const bell = document.getElementById('notification-bell');
const countEl = bell ? bell.querySelector('.unread-count') : null;

const CLOSE_SESSION_ENDED = 4401;
const CLOSE_TOO_MANY_SOCKETS = 4429;
const CLOSE_TRY_AGAIN_LATER = 1013;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60000;

const KIND_TEXT = {
  reply: 'replied to your comment',
  mention: 'mentioned you',
  comment: 'commented on a post you follow',
  rejected: 'did not approve your comment',
};

let failures = 0;
let announcer = null;
const baseTitle = document.title;

function showUnread(unread) {
  if (!countEl || typeof unread !== 'number') return;
  countEl.firstChild.textContent = String(unread);
  countEl.dataset.state = unread > 0 ? 'unread' : 'none';
  bell.dataset.unread = String(unread);
  document.title = unread > 0 ? '(' + unread + ') ' + baseTitle : baseTitle;
}

function announce(notification) {
  if (!announcer) {
    announcer = document.createElement('p');
    announcer.className = 'visually-hidden';
    announcer.setAttribute('role', 'status');
    announcer.setAttribute('aria-live', 'polite');
    document.body.appendChild(announcer);
  }
  const who = notification.actor || 'Someone';
  announcer.textContent = 'New notification: ' + who + ' ' + (KIND_TEXT[notification.kind] || 'wrote') + '.';
}

function onNotificationFrame(frame) {
  if (frame.type === 'notification') {
    showUnread(frame.unread);
    announce(frame.notification);
  } else if (frame.type === 'notifications.unread' || frame.type === 'hello') {
    showUnread(frame.unread);
  }
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  let ws;
  try {
    ws = new WebSocket(scheme + location.host + bell.dataset.socketPath);
  } catch (error) {
    retryLater();
    return;
  }
  ws.addEventListener('message', (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (frame.type === 'ping') {
      ws.send(JSON.stringify({ type: 'pong', token: frame.token }));
      return;
    }
    if (frame.type === 'hello') failures = 0;
    onNotificationFrame(frame);
  });
  ws.addEventListener('close', (event) => {
    // Signed out (here or elsewhere), or too many sockets already: nothing to wait for.
    if (event.code === CLOSE_SESSION_ENDED || event.code === CLOSE_TOO_MANY_SOCKETS) return;
    const later = event.code === CLOSE_TRY_AGAIN_LATER ? Number(event.reason) * 1000 : 0;
    retryLater(later);
  });
}

function retryLater(atLeastMs = 0) {
  failures += 1;
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
  // Jitter, so that the pages of a restarted server do not all come back at once.
  const delay = Math.max(atLeastMs || 0, base / 2 + Math.random() * (base / 2));
  setTimeout(connect, delay);
}

if (bell) {
  document.addEventListener('blog:notifications', (event) => onNotificationFrame(event.detail));
  const comments = document.getElementById('comments-section');
  // A live post page's comment socket carries the user's notifications already.
  if (!(comments && comments.dataset.live === 'true')) connect();
}
