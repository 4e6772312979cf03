// The page's module structure, read statically from www/*.js: no import cycle, nothing imports
// app.js (features talk through the session machine or callbacks), no file over 400 lines, the
// Node-testable modules stay free of the DOM, and index.html preloads exactly the modules app.js
// pulls in, so the browser fetches them in parallel instead of one import level at a time.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const www = fileURLToPath(new URL('../../www/', import.meta.url));
const files = readdirSync(www).filter((f) => f.endsWith('.js')).sort();
const source = Object.fromEntries(files.map((f) => [f, readFileSync(join(www, f), 'utf8')]));

/** Static imports (`import … from './x.js'`, `export … from`) of a module, as file names. */
function staticImports(text) {
  const out = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]\.\/([^'"]+)['"]/gms)) out.push(m[1]);
  for (const m of text.matchAll(/^\s*import\s*['"]\.\/([^'"]+)['"]/gm)) out.push(m[1]);
  return out;
}
const graph = Object.fromEntries(files.map((f) => [f, staticImports(source[f])]));

test('every static import names a module of www/', () => {
  for (const [f, deps] of Object.entries(graph)) {
    for (const d of deps) assert.ok(files.includes(d), `${f} imports ${d}, which is not in www/`);
  }
  assert.ok(graph['app.js'].length >= 10, 'app.js wires the feature modules');
});

test('no import cycle, and nothing imports app.js', () => {
  const state = new Map();
  const visit = (f, path) => {
    if (state.get(f) === 'done') return;
    assert.notEqual(state.get(f), 'open', `import cycle: ${[...path, f].join(' → ')}`);
    state.set(f, 'open');
    for (const d of graph[f] ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  for (const [f, deps] of Object.entries(graph)) assert.ok(!deps.includes('app.js'), `${f} imports app.js`);
});

test('no module of the page is over 400 lines', () => {
  for (const f of files) {
    const lines = source[f].split('\n').length - 1;
    assert.ok(lines <= 400, `${f} has ${lines} lines`);
  }
});

test('the API client and the session machine need no DOM', () => {
  for (const f of ['api.js', 'session.js']) {
    const code = source[f].replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    assert.doesNotMatch(code, /\b(document|window|location|sessionStorage|localStorage)\b\s*[.[(]/, `${f} touches the DOM`);
    for (const d of graph[f]) assert.ok(!['dom.js', 'app.js'].includes(d), `${f} imports ${d}`);
  }
  assert.deepEqual(graph['session.js'], []);
});

test('index.html preloads exactly the modules app.js imports, directly or not', () => {
  const html = readFileSync(join(www, 'index.html'), 'utf8');
  assert.match(html, /<script type="module" src="app\.js"><\/script>/);
  const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]).sort();
  const reachable = new Set();
  const walk = (f) => { for (const d of graph[f]) if (!reachable.has(d)) { reachable.add(d); walk(d); } };
  walk('app.js');
  assert.deepEqual(preloaded, [...reachable].sort());
});
