/*
 * Times read relatively on every page: "2 minutes ago", "yesterday", "3 weeks ago".
 *
 * The server writes each time as <time datetime="ISO 8601">, its text the exact time (UTC, or
 * a date), which is what a reader without this script gets. Here every such time, those the
 * page had and those a script adds later (live comments, the moderation queue), reads relative
 * to now, in the page's language, with the exact time in the reader's own time zone as its
 * title (shown on hover). The words are brought up to date every REFRESH_MS and when the tab
 * is shown again; the datetime attribute is never changed.
 */

const REFRESH_MS = 30000;
// Under a minute, seconds would be stale before the next refresh: "just now" instead.
const JUST_NOW_S = 60;
// The largest unit that fits, from the smallest up: [unit, seconds in it, up to how many].
const UNITS = [
  ['minute', 60, 60],
  ['hour', 3600, 24],
  ['day', 86400, 7],
  ['week', 604800, 4.35],
  ['month', 2629746, 12],
  ['year', 31556952, Infinity],
];

const language = document.documentElement.lang || undefined;
const relative = new Intl.RelativeTimeFormat(language, { numeric: 'auto' });
const exact = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

export function relativeText(date, now) {
  const seconds = (date.getTime() - now) / 1000;
  // A little in the future is a clock a little off, not a time to come.
  if (Math.abs(seconds) < JUST_NOW_S || (seconds > 0 && seconds < 5 * JUST_NOW_S)) return 'just now';
  for (const [unit, size, most] of UNITS) {
    const count = seconds / size;
    if (Math.abs(count) < most) return relative.format(Math.trunc(count), unit);
  }
  return exact.format(date);
}

function update(time, now) {
  const date = new Date(time.getAttribute('datetime'));
  if (Number.isNaN(date.getTime())) return;
  const text = relativeText(date, now);
  if (time.textContent !== text) time.textContent = text;
  const title = exact.format(date);
  if (time.title !== title) time.title = title;
}

function updateAll() {
  const now = Date.now();
  document.querySelectorAll('time[datetime]').forEach((time) => update(time, now));
}

function updateAdded(mutations) {
  const now = Date.now();
  mutations.forEach((mutation) => {
    mutation.addedNodes.forEach((node) => {
      if (node.nodeType !== Node.ELEMENT_NODE) return;
      if (node.matches('time[datetime]')) update(node, now);
      node.querySelectorAll('time[datetime]').forEach((time) => update(time, now));
    });
  });
}

updateAll();
new MutationObserver(updateAdded).observe(document.body, { childList: true, subtree: true });
setInterval(updateAll, REFRESH_MS);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') updateAll();
});
