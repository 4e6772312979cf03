// The page's QR encoder against symbols made by an independent encoder. qr-golden.json was
// produced once with the Python package `qrcode` 8.2 (byte mode, level M, fixed mask, no quiet
// zone), not with www/qr.js; `rows` are the modules top to bottom, 1 = dark.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MAX_VERSION, encodeQr, qrSvg, versionFor } from '../../www/qr.js';

const golden = JSON.parse(readFileSync(new URL('./qr-golden.json', import.meta.url), 'utf8'));
const rows = (qr) => qr.modules.map((r) => r.map((d) => (d ? '1' : '0')).join(''));

test('golden symbols cover versions 1 to 15 and all eight masks', () => {
  assert.deepEqual([...new Set(golden.map((c) => c.mask))].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.ok(golden.some((c) => c.version === 1) && golden.some((c) => c.version === 15));
  assert.ok(golden.some((c) => c.version >= 7), 'a symbol with version information');
});

for (const c of golden) {
  test(`version ${c.version}, mask ${c.mask}: module for module equal (${new TextEncoder().encode(c.text).length} bytes)`, () => {
    const qr = encodeQr(c.text, { mask: c.mask });
    assert.equal(qr.version, c.version);
    assert.equal(qr.size, c.rows.length);
    assert.deepEqual(rows(qr), c.rows);
  });
}

test('the automatic mask choice gives a valid symbol of the same data', () => {
  for (const c of golden) {
    const auto = encodeQr(c.text);
    const fixed = encodeQr(c.text, { mask: auto.mask });
    assert.deepEqual(rows(auto), rows(fixed));
    if (auto.mask === c.mask) assert.deepEqual(rows(auto), c.rows);
  }
});

test('capacity at level M: the largest byte counts per version, then a RangeError', () => {
  const capacity = [0, 14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412];
  for (let v = 1; v <= MAX_VERSION; v++) {
    assert.equal(versionFor(capacity[v]), v, `version ${v} holds ${capacity[v]} bytes`);
    assert.equal(versionFor(capacity[v] + 1), v === MAX_VERSION ? 0 : v + 1);
  }
  assert.throws(() => encodeQr('x'.repeat(413)), RangeError);
});

test('the SVG draws each dark module once inside a quiet zone', () => {
  const qr = encodeQr('otpauth://totp/epochgate:a%40b.co?secret=ABC');
  const made = [];
  const node = (name) => {
    const e = { name, attrs: {}, children: [], setAttribute(k, v) { this.attrs[k] = v; }, append(...c) { this.children.push(...c); } };
    made.push(e);
    return e;
  };
  const svg = qrSvg({ createElementNS: (_ns, name) => node(name) }, qr, { border: 4, label: 'QR' });
  assert.equal(svg.attrs.viewBox, `0 0 ${qr.size + 8} ${qr.size + 8}`);
  assert.equal(svg.attrs['aria-label'], 'QR');
  const d = svg.children.find((c) => c.name === 'path').attrs.d;
  const dark = qr.modules.flat().filter(Boolean).length;
  assert.equal(d.match(/M/g).length, dark);
  assert.match(d, /^M4 4h1v1h-1z/); // the top-left finder corner, shifted by the border
});
