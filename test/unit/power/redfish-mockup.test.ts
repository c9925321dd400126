import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Power, PowerError } from '../../../activities/power/power.js';
import { RedfishPowerDriver } from '../../../activities/power/redfish.js';

/**
 * DMTF's public-rackmount1 mockup served over real HTTPS (a self-signed certificate made here), with
 * Basic auth, and a Reset action that changes the served PowerState the way a BMC does: first the
 * transitional state, the final one a little later, so the read-back has to wait for it.
 */
const fixtures = join(import.meta.dirname, '../../fixtures/redfish/public-rackmount1');
const systemPath = '/redfish/v1/Systems/437XR1138R2';

describe('Redfish power driver against the DMTF mockup over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zfslab-redfish-'));
  const env = { REDFISH_PASSWORD: 'p4ss' };
  const resets: unknown[] = [];
  let system: Record<string, unknown>;
  let server: Server;
  let url = '';

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      {
        stdio: 'ignore',
      },
    );
    system = JSON.parse(readFileSync(join(fixtures, 'Systems/437XR1138R2/index.json'), 'utf8')) as Record<string, unknown>;
    const collection = readFileSync(join(fixtures, 'Systems/index.json'), 'utf8');
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('admin:p4ss').toString('base64')}`) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="redfish"' }).end();
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.method === 'GET' && req.url === '/redfish/v1/Systems') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(collection);
        if (req.method === 'GET' && req.url === systemPath) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(system));
        if (req.method === 'POST' && req.url === `${systemPath}/Actions/ComputerSystem.Reset`) {
          const { ResetType } = JSON.parse(body) as { ResetType: string };
          resets.push(ResetType);
          const final = ResetType === 'On' ? 'On' : ResetType === 'ForceOff' ? 'Off' : undefined;
          if (!final) return void res.writeHead(400).end();
          system.PowerState = final === 'On' ? 'PoweringOn' : 'PoweringOff';
          setTimeout(() => (system.PowerState = final), 300);
          return void res.writeHead(204).end();
        }
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads PowerState, resets with ForceOff and On, waits through the transitional states, and skips a change already made', async () => {
    const power = new Power(new RedfishPowerDriver({ url, user: 'admin', caFile: join(dir, 'cert.pem') }, env), { pollMs: 50, settleMs: 5_000 });
    expect(await power.status()).toBe('on');
    await power.on();
    expect(resets).toEqual([]);
    await power.off();
    expect(system.PowerState).toBe('Off');
    await power.cycle();
    expect(system.PowerState).toBe('On');
    expect(resets).toEqual(['ForceOff', 'On']);
  });

  it('a certificate it cannot trust, a wrong password, or no password is a PowerError without the password in it', async () => {
    const untrusted = new Power(new RedfishPowerDriver({ url, user: 'admin' }, env), { attempts: 1 });
    await expect(untrusted.status()).rejects.toThrow(/redfish 127\.0\.0\.1:\d+.*self-signed/);

    const wrong = new Power(new RedfishPowerDriver({ url, user: 'admin', caFile: join(dir, 'cert.pem') }, { REDFISH_PASSWORD: 'nope-123' }), { attempts: 1 });
    const err = await wrong.status().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PowerError);
    expect((err as Error).message).toMatch(/HTTP 401/);
    expect((err as Error).message).not.toContain('nope-123');

    await expect(new RedfishPowerDriver({ url, user: 'admin', caFile: join(dir, 'cert.pem') }, {}).status()).rejects.toThrow(/REDFISH_PASSWORD is not set/);
    expect(() => new RedfishPowerDriver({ url: 'http://127.0.0.1', user: 'admin' }, env)).toThrow();
  });
});
