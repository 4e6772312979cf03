// Relative times ("2 minutes ago") with Intl.RelativeTimeFormat, in the page's language.

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]];
export const absolute = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });
export const clock = new Intl.DateTimeFormat('en', { timeStyle: 'short' });

/** "2 minutes ago", "in 3 hours", "now" for Unix seconds. */
export function relativeTime(secs, now = Date.now() / 1000) {
  const diff = secs - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(diff) >= size) return rtf.format(Math.round(diff / size), unit);
  }
  return Math.abs(diff) < 10 ? rtf.format(0, 'second') : rtf.format(Math.round(diff), 'second');
}

/** "Try again in 15 minutes (at 5:45 PM)." for a Retry-After in seconds. */
export function retryText(seconds, now = Date.now()) {
  if (seconds == null) return 'Try again later.';
  const at = new Date(now + seconds * 1000);
  const rel = seconds < 60 ? rtf.format(seconds, 'second') : rtf.format(Math.ceil(seconds / 60), 'minute');
  return `Try again ${rel} (at ${clock.format(at)}).`;
}
