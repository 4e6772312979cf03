// Pure helpers of the page, run in Node: device prefill and relative times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeDevice, deviceType } from '../../www/device.js';
import { relativeTime, retryText } from '../../www/time.js';

const UA = {
  chromeLinux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  firefoxWin: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1',
  ipadDesktop: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
  androidTablet: 'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  androidPhone: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36',
  tizenTv: 'Mozilla/5.0 (SMART-TV; Linux; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/5.0 Chrome/120.0.0.0 TV Safari/537.36',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0',
};

test('device names and types from the user agent', () => {
  const d = (ua, extra = {}) => describeDevice({ userAgent: ua, maxTouchPoints: 0, ...extra });
  assert.deepEqual(d(UA.chromeLinux), { name: 'Chrome on Linux', type: 'desktop' });
  assert.deepEqual(d(UA.firefoxWin), { name: 'Firefox on Windows', type: 'desktop' });
  assert.deepEqual(d(UA.safariIphone), { name: 'Safari on iOS', type: 'phone' });
  assert.deepEqual(d(UA.ipadDesktop, { maxTouchPoints: 5 }), { name: 'Safari on macOS', type: 'tablet' });
  assert.deepEqual(d(UA.ipadDesktop), { name: 'Safari on macOS', type: 'desktop' });
  assert.deepEqual(d(UA.androidTablet), { name: 'Chrome on Android', type: 'tablet' });
  assert.deepEqual(d(UA.androidPhone), { name: 'Chrome on Android', type: 'phone' });
  assert.deepEqual(d(UA.tizenTv), { name: 'Samsung Internet on Tizen', type: 'tv' });
  assert.deepEqual(d(UA.edge), { name: 'Edge on Windows', type: 'desktop' });
});

test('User-Agent Client Hints win over the UA string', () => {
  const nav = {
    userAgent: UA.chromeLinux,
    userAgentData: { brands: [{ brand: 'Not.A/Brand' }, { brand: 'Microsoft Edge' }, { brand: 'Chromium' }], platform: 'Windows', mobile: false },
  };
  assert.deepEqual(describeDevice(nav), { name: 'Edge on Windows', type: 'desktop' });
  assert.equal(deviceType(UA.chromeLinux, { mobile: true }), 'phone');
  assert.deepEqual(describeDevice({ userAgent: '' }), { name: 'Browser', type: 'desktop' });
});

test('relative times read like "2 minutes ago"', () => {
  const now = 1_800_000_000;
  assert.equal(relativeTime(now - 120, now), '2 minutes ago');
  assert.equal(relativeTime(now - 3, now), 'now');
  assert.equal(relativeTime(now - 30, now), '30 seconds ago');
  assert.equal(relativeTime(now - 3 * 3600, now), '3 hours ago');
  assert.equal(relativeTime(now - 86400, now), 'yesterday');
  assert.equal(relativeTime(now - 5 * 86400, now), '5 days ago');
  assert.equal(relativeTime(now + 600, now), 'in 10 minutes');
});

test('Retry-After becomes a sentence with the time to come back', () => {
  const at = Date.UTC(2026, 10, 21, 17, 0, 0);
  assert.match(retryText(900, at), /^Try again in 15 minutes \(at .+\)\.$/);
  assert.match(retryText(20, at), /^Try again in 20 seconds \(at .+\)\.$/);
  assert.equal(retryText(null, at), 'Try again later.');
});
