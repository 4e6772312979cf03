// Small DOM helpers shared by the page's features. Nothing here runs at import time, so modules
// that import it still load in Node.
//
// Everything that came from a user or the server (device names, user agents, locations,
// messages) is written with textContent or setAttribute, never parsed as HTML.
import { absolute, relativeTime } from './time.js';

export const $ = (id) => document.getElementById(id);

/** The content of `<meta name="…">`, '' when absent. */
export const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';

/** A new element with an optional class and text. */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The page's views, each the element `<name>-view`. */
const VIEWS = ['auth', 'account', 'reset', 'secure'];

/** Shows one of the views ('auth', 'account', 'reset', 'secure'), or none for anything else. */
export function showView(view) {
  for (const v of VIEWS) $(`${v}-view`).hidden = v !== view;
  $('whoami').hidden = view !== 'account';
}

/** A polite announcement of a success in the status region. */
export function announce(text) {
  const s = $('status');
  s.textContent = '';
  // A fresh node so screen readers announce the same text twice in a row too.
  requestAnimationFrame(() => { s.textContent = text; });
}

export function showError(node, text) { node.textContent = text; }

export function setInvalid(input, invalid) {
  if (invalid) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** A <time> element showing relative time, refreshed by refreshTimes(). */
export function timeEl(secs) {
  const t = document.createElement('time');
  const d = new Date(secs * 1000);
  t.dateTime = d.toISOString();
  t.title = absolute.format(d);
  t.dataset.secs = String(secs);
  t.textContent = relativeTime(secs);
  return t;
}

export function refreshTimes() {
  for (const t of document.querySelectorAll('time[data-secs]')) t.textContent = relativeTime(Number(t.dataset.secs));
}
