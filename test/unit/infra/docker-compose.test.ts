import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
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

const compose = Compose.parse(parse(readFileSync(join(projectRoot, 'infra', 'docker-compose.yml'), 'utf8')));
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
    const text = readFileSync(join(projectRoot, 'infra', mount!.split(':')[0]!), 'utf8');
    expect(parse(text).scrape_configs.map((c: { job_name: string }) => c.job_name)).toContain('zfslab-coordinator');
  });
});
