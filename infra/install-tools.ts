import { projectRoot } from '../lib/paths.js';
import { loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { ensureTools } from './tools.js';

/** `npm run setup` step: the pinned Temporal CLI and MinIO, built with `go install` unless already there. */
const log = createLogger('setup');
const loaded = loadConfig({ file: process.env.ZFSLAB_CONFIG || undefined });
const started = Date.now();
const results = await ensureTools(loaded.paths.toolsDir, log);
for (const r of results) {
  process.stdout.write(
    `${r.name} ${r.version}: ${r.built ? `built in ${r.seconds.toFixed(0)} s` : 'already present'} (${r.path.replace(projectRoot + '/', '')})\n`,
  );
}
process.stdout.write(`tools ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
