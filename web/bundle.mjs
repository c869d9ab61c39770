// The build both front-end bundles share (web/remote/build.mjs, web/station/build.mjs): esbuild
// the package's src/index.js into one ES module with a banner, then write it, or with --check
// rebuild it in memory and fail if the committed file differs.
// Each package passes in its own esbuild, so each keeps the version its own lock file pins.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

// The version of `name` in the package-lock.json of the package in folder `here`.
export function lockedVersions(here) {
  const lock = JSON.parse(readFileSync(resolve(here, 'package-lock.json'), 'utf8'));
  return (name) => lock.packages[`node_modules/${name}`].version;
}

// Build (or --check) the bundle of the package in `here` into `outfile` (relative to the repo).
export async function buildBundle({ esbuild, here, outfile, banner, minify }) {
  const root = resolve(here, '../..');
  const target = resolve(root, outfile);
  const result = await esbuild.build({
    entryPoints: [resolve(here, 'src/index.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify,
    legalComments: 'eof',
    charset: 'utf8',
    banner: { js: banner },
    write: false,
    logLevel: 'warning',
    absWorkingDir: here,
  });
  const text = result.outputFiles[0].text;

  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      console.error(`${target} is stale: run "npm run build" in ${relative(root, here)} and commit it`);
      process.exit(1);
    }
    console.log(`${target} is up to date`);
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    console.log(`wrote ${target} (${text.length} bytes)`);
  }
}
