// A project that uses the package the way a user's does: the tarball `npm pack` makes of
// pkg/epochgate (built by scripts/build-pkg.sh), installed with npm into a fresh directory with
// no link back to this repository, hono beside it, and the examples copied in. Made once per
// process; nothing is fetched from the network (the tarball is local, hono comes from npm's cache).
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let made = null;

async function npm(args, cwd) {
  try {
    return (await run('npm', args, {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
      maxBuffer: 16 << 20,
    })).stdout;
  } catch (e) {
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

async function make() {
  const pkgDir = join(repoRoot, 'pkg/epochgate');
  if (!existsSync(join(pkgDir, 'package.json'))) {
    throw new Error('pkg/epochgate is missing: build it with scripts/build-pkg.sh');
  }
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-consumer-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', dir], pkgDir));
  const tarball = join(dir, packed[0].filename);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'epochgate-consumer', private: true, type: 'module' }, null, 2)}\n`);
  await npm(['install', '--offline', '--ignore-scripts', tarball], dir);
  // The hono this repository pins, from npm's cache (the registry only when the cache lacks it).
  const hono = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).devDependencies.hono;
  await npm(['install', '--prefer-offline', '--ignore-scripts', `hono@${hono}`], dir);
  cpSync(join(repoRoot, 'examples/hono-worker'), join(dir, 'examples/hono-worker'), { recursive: true });
  cpSync(join(repoRoot, 'examples/node-server'), join(dir, 'examples/node-server'), { recursive: true });
  return { dir, tarball };
}

/**
 * The consumer project's directory: `node_modules/epochgate` from the packed tarball,
 * `node_modules/hono`, and `examples/hono-worker`, `examples/node-server` copied from the repository.
 */
export async function consumerProject() {
  made ??= make();
  return (await made).dir;
}

/** The tarball the consumer project installed. */
export async function packedTarball() {
  made ??= make();
  return (await made).tarball;
}
