import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { SEARCH_ATTRIBUTE_NAMES } from '../../../core/search-attributes.js';
import { projectRoot } from '../../../lib/paths.js';

// There is no Docker engine on the development machine, so the fleet file is checked against a
// schema of what zfslab relies on: official images pinned by tag, the ports workers and people
// use, persistent volumes, and Temporal on PostgreSQL with our namespace and search attributes.
const pinnedImage = z
  .string()
  .regex(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/, 'an image pinned by tag')
  .refine((i) => !i.endsWith(':latest'), 'not :latest');
const Service = z.object({
  image: pinnedImage,
  ports: z.array(z.string().regex(/^\d+:\d+$/)).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string() }))]).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  entrypoint: z.array(z.string()).optional(),
  healthcheck: z
    .object({ test: z.array(z.string()) })
    .passthrough()
    .optional(),
  extra_hosts: z.array(z.string()).optional(),
  restart: z.string().optional(),
});
const Compose = z.object({
  name: z.literal('zfslab'),
  services: z.object({
    postgresql: Service,
    temporal: Service,
    'temporal-setup': Service,
    'temporal-ui': Service,
    minio: Service,
    prometheus: Service,
    grafana: Service,
  }),
  volumes: z.record(z.string(), z.unknown()),
});

const compose = Compose.parse(parse(readFileSync(join(projectRoot, 'docker-compose.yml'), 'utf8')));
const s = compose.services;

describe('the fleet docker-compose file', () => {
  it('uses official images', () => {
    expect(s.postgresql.image).toMatch(/^postgres:/);
    expect(s.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(s['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(s.minio.image).toMatch(/^minio\/minio:/);
    expect(s.prometheus.image).toMatch(/^prom\/prometheus:/);
    expect(s.grafana.image).toMatch(/^grafana\/grafana:/);
  });

  it('runs Temporal on PostgreSQL with the zfslab namespace', () => {
    expect(s.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', DEFAULT_NAMESPACE: 'zfslab' });
    expect(s.temporal.depends_on).toMatchObject({ postgresql: { condition: 'service_healthy' } });
  });

  it('registers every search attribute the workflows set', () => {
    const setup = [s['temporal-setup'].command].flat().join(' ');
    for (const name of SEARCH_ATTRIBUTE_NAMES) expect(setup).toContain(name);
  });

  it('exposes the ports the config defaults expect', () => {
    expect(s.temporal.ports).toContain('7233:7233');
    expect(s['temporal-ui'].ports).toContain('8233:8080');
    expect(s.minio.ports).toEqual(expect.arrayContaining(['9000:9000', '9001:9001']));
  });

  it('keeps state in named volumes', () => {
    for (const name of ['postgresql', 'minio', 'prometheus', 'grafana']) expect(compose.volumes).toHaveProperty(name);
    expect(s.minio.volumes).toContain('minio:/data');
  });

  it('mounts a Prometheus config that exists and scrapes zfslab', () => {
    const mount = s.prometheus.volumes?.find((v) => v.includes('prometheus.yml'));
    expect(mount).toBeDefined();
    const text = readFileSync(join(projectRoot, mount!.split(':')[0]!), 'utf8');
    const config = parse(text) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]; rule_files: string[] };
    expect(config.scrape_configs.map((c) => c.job_name)).toEqual(expect.arrayContaining(['zfslab-coordinator', 'zfslab-hosts']));
    // The workers on the Docker host are reached through host-gateway, which the service must map.
    const targets = config.scrape_configs.flatMap((c) => c.static_configs.flatMap((sc) => sc.targets));
    if (targets.some((t) => t.startsWith('host.docker.internal:'))) expect(s.prometheus.extra_hosts).toContain('host.docker.internal:host-gateway');
    // Its rule files are the ones mounted from dashboards/alerts.
    const rulesMount = s.prometheus.volumes?.find((v) => v.startsWith('./dashboards/alerts:'));
    expect(rulesMount).toBeDefined();
    const inContainer = rulesMount!.split(':')[1]!;
    for (const file of config.rule_files) {
      expect(file.startsWith(`${inContainer}/`), file).toBe(true);
      expect(existsSync(join(projectRoot, 'dashboards/alerts', file.slice(inContainer.length + 1))), file).toBe(true);
    }
  });

  it('gives Grafana the provisioning folder and the generated dashboards where the provider reads them', () => {
    const provisioning = s.grafana.volumes?.find((v) => v.startsWith('./dashboards/provisioning:'));
    expect(provisioning?.split(':')[1]).toBe('/etc/grafana/provisioning');
    const provider = parse(readFileSync(join(projectRoot, 'dashboards/provisioning/dashboards/zfslab.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const jsonMount = s.grafana.volumes?.find((v) => v.startsWith('./dashboards/json:'));
    expect(jsonMount?.split(':')[1]).toBe(provider.providers[0]!.options.path);
  });

  it('makes the results-store database and Grafana role on first start', () => {
    const init = s.postgresql.volumes?.find((v) => v.includes('/docker-entrypoint-initdb.d/'));
    expect(init).toBeDefined();
    expect(existsSync(join(projectRoot, init!.split(':')[0]!))).toBe(true);
  });

  it('has a health check on every long-running service, none relying on curl (absent from the MinIO image)', () => {
    for (const name of ['postgresql', 'temporal', 'minio', 'prometheus', 'grafana'] as const) {
      const test = s[name].healthcheck?.test;
      expect(test, name).toBeDefined();
      expect(test!.join(' '), name).not.toMatch(/\bcurl\b/);
    }
  });
});
