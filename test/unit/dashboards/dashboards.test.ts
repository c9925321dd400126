import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { allDashboards, dashboardJson } from '../../../dashboards/index.js';
import { PROM_PANEL_QUERIES } from '../../../dashboards/queries/prometheus.js';
import { storePanelQueries } from '../../../dashboards/queries/results-store.js';
import { projectRoot } from '../../../lib/paths.js';

interface Target {
  datasource?: { type: string; uid: string };
  rawSql?: string;
  expr?: string;
}
interface PanelJson {
  title: string;
  datasource?: { uid: string };
  targets?: Target[];
}

const dashboards = allDashboards('postgres');
const targets = Object.values(dashboards).flatMap((d) =>
  ((d.panels ?? []) as PanelJson[]).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t }))),
);

describe('the dashboards', () => {
  it('are the six, with fixed and distinct uids', () => {
    expect(Object.values(dashboards).map((d) => d.uid)).toEqual([
      'zfslab-matrix',
      'zfslab-trend',
      'zfslab-zio-latency',
      'zfslab-arc',
      'zfslab-replication',
      'zfslab-audit',
    ]);
  });

  it('are committed as the code builds them (npm run dashboards)', () => {
    for (const [file, dashboard] of Object.entries(dashboards)) {
      expect(readFileSync(join(projectRoot, 'dashboards/json', file), 'utf8'), `dashboards/json/${file} is stale: run npm run dashboards`).toBe(
        dashboardJson(dashboard),
      );
    }
  });

  it('read only the datasources provisioning defines, by uid and type', () => {
    const provisioned = parse(readFileSync(join(projectRoot, 'dashboards/provisioning/datasources/zfslab.yml'), 'utf8')) as {
      datasources: { uid: string; type: string }[];
    };
    const known = new Map(provisioned.datasources.map((d) => [d.uid, d.type]));
    expect(targets.length).toBeGreaterThan(10);
    for (const { panel, target } of targets) {
      expect(target.datasource, panel.title).toBeDefined();
      expect(known.get(target.datasource!.uid), `${panel.title}: ${target.datasource!.uid}`).toBe(target.datasource!.type);
    }
  });

  it('run only queries the tests execute: every SQL is a store panel query, every PromQL a listed expression', () => {
    const sql = new Set(storePanelQueries('postgres').map((q) => q.sql));
    const promql = new Set(PROM_PANEL_QUERIES.map((q) => q.expr));
    const used = { sql: new Set<string>(), promql: new Set<string>() };
    for (const { panel, target } of targets) {
      if (target.rawSql !== undefined) {
        expect(sql.has(target.rawSql), panel.title).toBe(true);
        used.sql.add(target.rawSql);
      } else {
        expect(promql.has(target.expr ?? ''), panel.title).toBe(true);
        used.promql.add(target.expr!);
      }
    }
    // And nothing listed is left unused (a query no panel shows would be tested for nothing).
    expect(used.sql).toEqual(sql);
    expect(used.promql).toEqual(promql);
  });

  it('name Prometheus metrics by the conventions: base units, _total counters, no run or test labels', () => {
    for (const query of PROM_PANEL_QUERIES) {
      for (const family of query.families) {
        expect(family, query.panel).toMatch(/^(zfs|zfslab|tetragon)_[a-z0-9_]+$/);
        expect(family, query.panel).toMatch(/(_total|_seconds|_bytes)$/);
        expect(query.expr, query.panel).toContain(family);
      }
      expect(query.expr, query.panel).not.toMatch(/\b(run_id|run|test|test_id)\s*(=|!=|=~)/);
    }
  });
});
