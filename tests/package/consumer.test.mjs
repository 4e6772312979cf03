// The npm package as a user gets it: packed, installed from the tarball into a fresh project
// (tests/package/consumer.mjs), then used from Node ESM and CommonJS, type-checked by TypeScript,
// bundled for a browser and run in Chromium, loaded by URL in a page with init(), bundled by
// Wrangler for Workers, and the package README's examples run as written.
// Run: node --test tests/package/consumer.test.mjs   (after scripts/build-pkg.sh)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { consumerProject, repoRoot } from './consumer.mjs';
import { startFakeOrigin } from './fake-origin.mjs';
import { staticFiles } from './static.mjs';
import { launch } from '../www/browser.mjs';

const project = await consumerProject();
const installed = join(project, 'node_modules', 'epochgate');
const fixtures = new URL('./fixtures/', import.meta.url);
for (const name of readdirSync(fixtures)) copyFileSync(new URL(name, fixtures), join(project, name));

const tool = (...path) => join(repoRoot, 'node_modules', ...path);
const ESBUILD = tool('esbuild', 'bin', 'esbuild');
const TSC = tool('typescript', 'bin', 'tsc');
const WRANGLER = tool('wrangler', 'bin', 'wrangler.js');

// The fake origin signs with the installed package's own core (Node's entry).
const eg = await import(pathToFileURL(join(installed, 'dist', 'node.mjs')).href);
const origin = await startFakeOrigin(eg);
after(() => origin.close());

// Asynchronous on purpose: the children talk to the fake origin, which answers from this
// process's event loop (a spawnSync would deadlock them).
function run(cmd, args, { env = {}, cwd = project } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', WRANGLER_SEND_METRICS: 'false', WRANGLER_SEND_ERROR_REPORTS: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

function ok(r, what) {
  assert.equal(r.status, 0, `${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const lastJsonLine = (stdout) => JSON.parse(stdout.trim().split('\n').at(-1));

test('Node ESM: import resolves to dist/node.mjs and the whole API works', async () => {
  const out = ok(await run('node', ['node-esm.mjs'], { env: { EPOCHGATE_ORIGIN: origin.base } }), 'node-esm.mjs');
  const { main, hono } = lastJsonLine(out);
  assert.equal(realpathSync(new URL(main)), realpathSync(join(installed, 'dist', 'node.mjs')));
  assert.equal(realpathSync(new URL(hono)), realpathSync(join(installed, 'dist', 'hono.node.mjs')));
});

test('Node CommonJS: require resolves to dist/node.cjs (and dist/hono.cjs) and the whole API works', async () => {
  const out = ok(await run('node', ['node-cjs.cjs'], { env: { EPOCHGATE_ORIGIN: origin.base } }), 'node-cjs.cjs');
  const { main, hono } = lastJsonLine(out);
  assert.equal(realpathSync(main), realpathSync(join(installed, 'dist', 'node.cjs')));
  assert.equal(realpathSync(hono), realpathSync(join(installed, 'dist', 'hono.cjs')));
});

// `lib` needs esnext.disposable: the wasm-bindgen glue's classes declare [Symbol.dispose].
const TS_LIB = 'es2022,esnext.disposable,dom';
const tsc = (file, resolution) => run('node', [TSC, '--strict', '--noEmit', '--pretty', 'false', '--target', 'es2022',
  '--lib', TS_LIB, '--module', resolution === 'bundler' ? 'esnext' : resolution, '--moduleResolution', resolution, file]);

test('TypeScript: every export type-checks under --strict with nodenext and bundler resolution', async (t) => {
  for (const [file, resolution] of [['types.mts', 'nodenext'], ['types.mts', 'bundler'], ['types.cts', 'nodenext']]) {
    await t.test(`${file}, moduleResolution ${resolution}`, async () => ok(await tsc(file, resolution), `tsc ${file}`));
  }
});

test('TypeScript: types.mts uses every name epochgate, epochgate/web and epochgate/hono export', async () => {
  const { default: ts } = await import(pathToFileURL(tool('typescript', 'lib', 'typescript.js')).href);
  const file = join(project, 'types.mts');
  const program = ts.createProgram([file], {
    strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const used = new Set();
  const exported = new Map();
  const visit = (node) => {
    if (ts.isIdentifier(node)) used.add(node.text);
    ts.forEachChild(node, visit);
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const specifier = statement.moduleSpecifier.text;
      if (!specifier.startsWith('epochgate')) continue;
      const module = checker.getSymbolAtLocation(statement.moduleSpecifier);
      assert.ok(module, `${specifier} has no types`);
      exported.set(specifier, checker.getExportsOfModule(module).map((s) => s.name));
    } else {
      visit(statement);
    }
  }
  assert.deepEqual([...exported.keys()].sort(), ['epochgate', 'epochgate/hono', 'epochgate/web']);
  for (const [specifier, names] of exported) {
    assert.ok(names.length > 0, specifier);
    // `default` is `init` of epochgate/web, used as the default import.
    const unused = names.filter((n) => n !== 'default' && !used.has(n));
    assert.deepEqual(unused, [], `exports of ${specifier} that types.mts never uses`);
  }
});

test('TypeScript: misuse of the API fails to compile, on each line marked as an error', async (t) => {
  for (const file of ['types-error.mts', 'types-error.cts']) {
    await t.test(file, async () => {
      const r = await tsc(file, 'nodenext');
      assert.notEqual(r.status, 0, `tsc accepted ${file}`);
      const marked = readFileSync(join(project, file), 'utf8').split('\n')
        .flatMap((line, i) => (/^[^/].*\/\/ error:/.test(line) ? [i + 1] : []));
      assert.ok(marked.length > 0);
      const reported = new Set([...r.stdout.matchAll(new RegExp(`^${file.replace('.', '\\.')}\\((\\d+),\\d+\\): error`, 'gm'))]
        .map((m) => Number(m[1])));
      assert.deepEqual(marked.filter((line) => !reported.has(line)), [], `lines tsc did not refuse:\n${r.stdout}`);
      assert.deepEqual([...reported].filter((line) => !marked.includes(line)), [], `unexpected errors:\n${r.stdout}`);
    });
  }
});

// What fixtures/browser-run.mjs reports when everything works.
const BROWSER_RESULT = {
  before: true,
  after: 'revoked_device',
  authenticate: [401, 'revoked_device'],
  unauthorized: 'Bearer error="invalid_token", error_description="revoked_device"',
  followedBefore: true,
  followedAfter: 'revoked_device',
};

let browser = null;
async function chromium() {
  browser ??= await launch();
  return browser;
}
after(async () => browser?.close());

// The icon link keeps Chromium from asking for /favicon.ico, a 404 that would count as an error.
const PAGE_HEAD = '<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n';

/** Serves the project (the package's files under /epochgate/) on the fake origin; opens `path`. */
async function openPage(path, { untilLogs = 0 } = {}) {
  const site = await startFakeOrigin(eg, { fallback: staticFiles(project, { '/epochgate/': installed }) });
  const context = await (await chromium()).newContext();
  const page = await context.newPage();
  const problems = [];
  const logs = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => (m.type() === 'error' ? problems.push(`console: ${m.text()}`) : logs.push(m.text())));
  try {
    await page.goto(`${site.base}${path}`);
    let result = null;
    if (untilLogs) {
      const end = Date.now() + 15000;
      while (logs.length < untilLogs && problems.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    } else {
      await page.waitForFunction(() => globalThis.result !== undefined, null, { timeout: 15000 });
      result = await page.evaluate(() => globalThis.result);
    }
    return { result, logs, problems, requests: [...site.requests] };
  } finally {
    await context.close();
    await site.close();
  }
}

async function esbuild(entry, outfile, extra = []) {
  ok(await run(ESBUILD, [entry, '--bundle', '--format=esm', '--platform=browser', `--outfile=${outfile}`,
    '--log-level=warning', ...extra]), `esbuild ${entry}`);
  return readFileSync(join(project, outfile), 'utf8');
}

test('browser: an esbuild bundle takes the browser condition (wasm inlined) and works in Chromium', async () => {
  const bundle = await esbuild('browser-entry.mjs', 'bundle.js');
  const wasmBase64 = readFileSync(join(installed, 'dist', 'epochgate_bg.wasm')).toString('base64');
  assert.ok(bundle.includes(wasmBase64.slice(0, 4096)), 'the bundle does not carry the inlined module');
  assert.ok(!bundle.includes('node:fs'), 'the bundle reaches for node:fs');
  const { result, problems, requests } = await openPage('/bundle.html');
  assert.deepEqual(problems, []);
  assert.deepEqual(result, BROWSER_RESULT);
  assert.ok(!requests.some((r) => r.endsWith('.wasm')), `the bundle fetched a .wasm: ${requests}`);
});

test('browser: a bundler reaches the inlined entry through the `browser` condition itself', async () => {
  // `default` is the same file, so the bundle above would work without `browser`; a copy of the
  // package without `default` shows the bundler took `browser` (both for '.' and './hono').
  const dir = join(project, 'browser-only');
  rmSync(dir, { recursive: true, force: true });
  cpSync(installed, join(dir, 'node_modules', 'epochgate'), { recursive: true });
  const manifest = join(dir, 'node_modules', 'epochgate', 'package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  delete pkg.exports['.'].default;
  delete pkg.exports['./hono'].default;
  writeFileSync(manifest, JSON.stringify(pkg));
  writeFileSync(join(dir, 'entry.mjs'), "export { Validator } from 'epochgate';\nexport { epochgate } from 'epochgate/hono';\n");
  ok(await run(ESBUILD, ['entry.mjs', '--bundle', '--format=esm', '--platform=browser', '--outfile=out.js', '--metafile=meta.json',
    '--log-level=warning'], { cwd: dir }), 'esbuild without `default`');
  const inputs = Object.keys(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).inputs);
  assert.ok(inputs.includes('node_modules/epochgate/dist/inline.mjs'), inputs.join('\n'));
  assert.ok(inputs.includes('node_modules/epochgate/dist/hono.inline.mjs'), inputs.join('\n'));
  rmSync(dir, { recursive: true, force: true });
});

test('browser: <script type="module"> loads epochgate/web by URL, init() fetches the .wasm, and it works', async () => {
  const exports = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).exports;
  assert.equal(exports['./web'].default, './dist/web.mjs');
  const { result, problems, requests } = await openPage('/web.html');
  assert.deepEqual(problems, []);
  assert.deepEqual(result, BROWSER_RESULT);
  assert.ok(requests.includes('/epochgate/dist/epochgate_bg.wasm'), `init() did not fetch the .wasm: ${requests}`);
});

test('browser: a Vite build of the same entry works in Chromium', async () => {
  const vite = join(project, 'vite-app');
  rmSync(vite, { recursive: true, force: true });
  mkdirSync(vite);
  for (const name of ['browser-entry.mjs', 'browser-run.mjs']) copyFileSync(join(project, name), join(vite, name));
  writeFileSync(join(vite, 'index.html'), readFileSync(join(project, 'bundle.html'), 'utf8').replace('./bundle.js', './browser-entry.mjs'));
  // Vite is the repository's pinned dev dependency; it resolves `epochgate` from the project.
  ok(await run('node', [tool('vite', 'bin', 'vite.js'), 'build', '--base', '/vite-app/dist/', '--logLevel', 'warn'],
    { cwd: vite }), 'vite build');
  const { result, problems, requests } = await openPage('/vite-app/dist/index.html');
  assert.deepEqual(problems, []);
  assert.deepEqual(result, BROWSER_RESULT);
  assert.ok(!requests.some((r) => r.endsWith('.wasm')), `the Vite build fetched a .wasm: ${requests}`);
});

/** `wrangler deploy --dry-run` of `main` in the project; the files it would upload. */
async function wranglerBundle(main) {
  const out = join(tmpdir(), `epochgate-wrangler-${process.pid}-${main.replace(/\W/g, '_')}`);
  rmSync(out, { recursive: true, force: true });
  writeFileSync(join(project, 'wrangler.toml'), `name = "consumer"\nmain = "${main}"\ncompatibility_date = "2025-09-01"\n`);
  ok(await run('node', [WRANGLER, 'deploy', '--dry-run', '--outdir', out]), `wrangler deploy --dry-run ${main}`);
  const files = readdirSync(out);
  const script = readFileSync(join(out, files.find((f) => f.endsWith('.js') && !f.endsWith('.map'))), 'utf8');
  rmSync(out, { recursive: true, force: true });
  return { files, script };
}

function assertWorkerdBundle({ files, script }) {
  const wasm = files.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `expected the .wasm as one module of the upload: ${files}`);
  assert.match(script, new RegExp(`from "\\./${wasm[0].replace('.', '\\.')}"`), 'the script does not import the .wasm module');
  const wasmBase64 = readFileSync(join(installed, 'dist', 'epochgate_bg.wasm')).toString('base64');
  assert.ok(!script.includes(wasmBase64.slice(0, 4096)), 'the Worker bundle inlined the module (not the workerd entry)');
  assert.ok(!script.includes('node:fs'), 'the Worker bundle reaches for node:fs');
}

test('Workers: wrangler bundles the workerd entry, with the .wasm as a module of the upload', async () => {
  writeFileSync(join(project, 'worker.mjs'), [
    "import { Authenticator, Validator, generateKeyPair } from 'epochgate';",
    "import { epochgate } from 'epochgate/hono';",
    'export default { fetch: () => Response.json([typeof Authenticator, typeof Validator, typeof epochgate, generateKeyPair("k").publicJwk.kid]) };',
    '',
  ].join('\n'));
  assertWorkerdBundle(await wranglerBundle('worker.mjs'));
});

// The README of the installed package: every ```js and ```html block is marked to run, and runs.
const README = readFileSync(join(installed, 'README.md'), 'utf8');
const KINDS = ['node-esm', 'node-cjs', 'node-server', 'worker-hono', 'worker-fetch', 'browser-bundle', 'browser-html'];

function readmeBlocks() {
  const blocks = [];
  for (const m of README.matchAll(/(?:<!-- run: ([\w-]+) -->\n)?```(\w*)\n([\s\S]*?)```/g)) {
    const [, kind, lang, code] = m;
    if (!['js', 'javascript', 'ts', 'html', 'mjs', 'cjs'].includes(lang)) continue;
    assert.ok(kind, `a \`\`\`${lang} block of README.md has no run marker:\n${code.slice(0, 200)}`);
    assert.ok(KINDS.includes(kind), `unknown run marker ${kind}`);
    // `// prints: X` after a statement: what it writes, in order.
    const prints = [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((p) => p[1]);
    blocks.push({ kind, code, prints, index: blocks.length });
  }
  return blocks;
}

test('README: every kind of example is there and every code block is marked to run', () => {
  const kinds = new Set(readmeBlocks().map((b) => b.kind));
  assert.deepEqual(KINDS.filter((k) => !kinds.has(k)), []);
  assert.match(README, /npm install epochgate/);
});

// The repository's README shows some of the same examples ("Use it in your own Worker / server /
// page"): each marked block there must be the package README's block of that kind, word for
// word, so running these runs those.
test('README: the repository README\'s examples are the package README\'s, which run', () => {
  const repoReadme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = repoReadme.slice(repoReadme.indexOf('### Use it in your own Worker / server / page'));
  assert.notEqual(repoReadme.indexOf('### Use it in your own Worker / server / page'), -1, 'the section is missing');
  const shown = [...repoReadme.matchAll(/<!-- run: ([\w-]+) -->\n```\w*\n([\s\S]*?)```/g)];
  const kinds = shown.map(([, kind]) => kind);
  for (const kind of ['worker-hono', 'node-server', 'browser-bundle']) {
    assert.ok(kinds.includes(kind), `README.md shows no ${kind} example`);
    assert.ok(section.includes(`<!-- run: ${kind} -->`), `${kind} is not in the "Use it in your own" section`);
  }
  const packaged = new Map(readmeBlocks().map((b) => [b.kind, b.code]));
  for (const [, kind, code] of shown) {
    assert.ok(packaged.has(kind), `README.md marks a ${kind} block the package README lacks`);
    assert.equal(code, packaged.get(kind), `README.md's ${kind} block differs from the package README's`);
  }
});

const README_ORIGIN = 'https://id.example.com';

async function runServerSnippet(file) {
  const port = await new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); });
  });
  const child = spawn('node', [file], { cwd: project, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  const get = (token) => fetch(`${base}/`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  try {
    let anonymous;
    const end = Date.now() + 15000;
    for (;;) {
      try { anonymous = await get(); break; } catch (e) {
        if (child.exitCode !== null || Date.now() > end) throw new Error(`the server did not answer: ${e.message}\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(anonymous.status, 401, log);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await anonymous.json()).error, 'missing_token');
    const { token, device } = origin.mint('grace', 'server');
    const me = await get(token);
    assert.equal(me.status, 200, log);
    assert.deepEqual(await me.json(), { account: 'grace', device });
    origin.revokeDevice('grace', device);
    let last;
    const until = Date.now() + 5000;
    do {
      last = await get(token);
      if (last.status === 401) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < until);
    assert.equal(last.status, 401, 'the server never saw the sign-out');
    assert.equal(last.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="revoked_device"');
    assert.equal(last.headers.get('cache-control'), 'no-store');
  } finally {
    child.kill();
  }
}

test('README: the examples run as written', async (t) => {
  for (const block of readmeBlocks()) {
    await t.test(`block ${block.index + 1} (${block.kind})`, async () => {
      const name = `readme-${block.index + 1}`;
      // The examples name a placeholder origin; here it is the fake one.
      const code = block.code.replaceAll(README_ORIGIN, origin.base);
      switch (block.kind) {
        case 'node-esm':
        case 'node-cjs': {
          const file = `${name}.${block.kind === 'node-esm' ? 'mjs' : 'cjs'}`;
          writeFileSync(join(project, file), code);
          const out = ok(await run('node', [file]), file);
          assert.deepEqual(out.trim().split('\n'), block.prints);
          break;
        }
        case 'node-server': {
          writeFileSync(join(project, `${name}.mjs`), code);
          await runServerSnippet(`${name}.mjs`);
          break;
        }
        case 'worker-hono':
        case 'worker-fetch': {
          writeFileSync(join(project, `${name}.mjs`), code);
          assertWorkerdBundle(await wranglerBundle(`${name}.mjs`));
          const out = ok(await run('node', ['worker-driver.mjs', `${name}.mjs`, block.kind === 'worker-hono' ? 'hono' : 'fetch'],
            { env: { EPOCHGATE_ORIGIN: origin.base } }), `${name}.mjs under worker-driver.mjs`);
          assert.match(out, /worker ok/);
          break;
        }
        case 'browser-bundle': {
          writeFileSync(join(project, `${name}.mjs`), code);
          await esbuild(`${name}.mjs`, `${name}.js`);
          writeFileSync(join(project, `${name}.html`), `${PAGE_HEAD}<script type="module" src="./${name}.js"></script>\n`);
          const { logs, problems } = await openPage(`/${name}.html`, { untilLogs: block.prints.length });
          assert.deepEqual(problems, []);
          assert.deepEqual(logs, block.prints);
          break;
        }
        case 'browser-html': {
          writeFileSync(join(project, `${name}.html`), `${PAGE_HEAD}${code}`);
          const { logs, problems, requests } = await openPage(`/${name}.html`, { untilLogs: block.prints.length });
          assert.deepEqual(problems, []);
          assert.deepEqual(logs, block.prints);
          assert.ok(requests.includes('/epochgate/dist/epochgate_bg.wasm'));
          break;
        }
        default:
          assert.fail(`no runner for ${block.kind}`);
      }
    });
  }
});
