/*
 * What a screen reader hears of comments arriving: one polite live region, told at most once
 * per batch. Arrivals are counted for BATCH_MS from the first of them and then announced
 * together ("3 new comments"), so a busy thread is one short sentence, not one for each comment,
 * and never interrupts what the reader is listening to.
 *
 * This part imports only page.js.
 */

import { element, section } from './page.js';

export const BATCH_MS = 1500;
// A region emptied and refilled after a pause says the same words again ("1 new comment" twice).
const REFILL_MS = 100;

let region = null;
let arrived = 0;
let timer = null;

// The region exists from the start: a region made at the moment it speaks is not always heard.
export function enableAnnouncer() {
  region = element('p', 'visually-hidden');
  region.id = 'comments-announcer';
  region.setAttribute('role', 'status');
  region.setAttribute('aria-live', 'polite');
  region.setAttribute('aria-atomic', 'true');
  section.appendChild(region);
}

export function newCommentsText(count) {
  return count === 1 ? '1 new comment' : count.toLocaleString('en') + ' new comments';
}

export function announceArrival() {
  arrived += 1;
  // Counted from the first arrival, not pushed back by each: a steady stream is still told.
  if (timer === null) timer = setTimeout(announceBatch, BATCH_MS);
}

function announceBatch() {
  timer = null;
  const count = arrived;
  arrived = 0;
  if (region === null || count === 0) return;
  region.textContent = '';
  setTimeout(() => {
    region.textContent = newCommentsText(count);
  }, REFILL_MS);
}
