import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allDashboards, dashboardJson } from './index.js';

// Writes dashboards/json/*.json from the code (`npm run dashboards`); a test fails when the
// committed files differ from what the code builds.
const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dashboards', 'json');
mkdirSync(out, { recursive: true });
for (const [file, dashboard] of Object.entries(allDashboards('postgres'))) writeFileSync(join(out, file), dashboardJson(dashboard));
process.stdout.write(`wrote ${Object.keys(allDashboards()).length} dashboards to ${out}\n`);
