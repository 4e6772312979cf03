// Files of a directory for a browser, with the content types module scripts and
// WebAssembly.instantiateStreaming insist on; `mounts` maps URL prefixes to other directories.
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** A `(req, res, url)` handler serving `dir`, and `mounts` ({ '/prefix/': dir }) before it. */
export function staticFiles(dir, mounts = {}) {
  return async (req, res, url) => {
    let base = dir;
    let path = decodeURIComponent(url.pathname);
    for (const [prefix, target] of Object.entries(mounts)) {
      if (path.startsWith(prefix)) {
        base = target;
        path = path.slice(prefix.length - 1);
        break;
      }
    }
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(base + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no ${url.pathname}`);
    }
  };
}
