import { test, expect, type APIRequestContext } from '@playwright/test';
import { createHmac, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { signIn, token } from './fixtures';

// The security review's probe (issue 13): the bad inputs it found, sent to the running server
// the suite starts (its own process, so its memory can be read), each answer asserted. It needs
// no browser feature, so it runs once, in the JavaScript project.

const port = Number(process.env.E2E_PORT ?? 3100);
const cdPort = Number(process.env.E2E_CD_PORT ?? 3903);
const webhookSecret = 'switchyard-dev-webhook-secret'; // the development server's own

/** `Switchyard-Signature` for `body` about `deployId`, as Switchyard and a CD system sign. */
function sign(deployId: string, body: string, t = Math.floor(Date.now() / 1000)) {
  return `t=${t},v1=${createHmac('sha256', webhookSecret).update(`${t}.${deployId}.${body}`).digest('hex')}`;
}

/** The server process the suite started: the one whose environment binds our port. */
function serverPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8');
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (env.includes(`SWITCHYARD_SERVER__ADDR=127.0.0.1:${port}\0`) && /server\0?$/.test(cmd)) return Number(entry);
    } catch {
      // a process that ended meanwhile, or one not ours to read
    }
  }
  throw new Error(`no server process listening on ${port}`);
}

/** The process's peak resident memory so far, in KiB. */
function peakKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
}


async function importDryRun(request: APIRequestContext, secret: string, text: string) {
  return request.post('/api/v1/catalog/import?dry_run=true', {
    headers: { authorization: `Bearer ${secret}` },
    multipart: { f: { name: 'catalog-info.yaml', mimeType: 'application/yaml', buffer: Buffer.from(text) } },
  });
}

test('the bad inputs of the security review get the answers they should', async ({ browser, request }, testInfo) => {
  test.skip(testInfo.project.name !== 'js', 'one run is enough: nothing here is in the browser');
  test.setTimeout(120_000);
  const pid = serverPid();

  const daveContext = await browser.newContext();
  const dave = await daveContext.newPage();
  await signIn(dave, testInfo, 'dave');
  const reader = await token(dave, `probe-${randomUUID().slice(0, 8)}`, ['read']);

  // YAML bombs: refused naming the limit, fast, with memory that stays near where it was
  const bombs: [string, string, string][] = [
    ['nesting', '['.repeat(1_900_000), 'deeper than 32 levels'],
    ['aliases', `a: &big "${'x'.repeat(100_000)}"\nb: [${Array(2_000).fill('*big').join(', ')}]\n`, 'alias'],
    ['documents', '---\n'.repeat(20_000), 'documents over 10000'],
  ];
  const before = peakKiB(pid);
  for (const [name, text, limit] of bombs) {
    const started = Date.now();
    const [refused, other] = await Promise.all([
      importDryRun(request, reader, text),
      request.get('/api/v1/me', { headers: { authorization: `Bearer ${reader}` } }),
    ]);
    const took = Date.now() - started;
    const body = await refused.json();
    expect(refused.status(), name).toBe(422);
    expect(body.error.field, name).toBe('catalog-info.yaml');
    expect(body.error.message, name).toContain(limit);
    expect(other.status(), `a request beside the ${name} bomb`).toBe(200);
    console.log(`${name} bomb (${text.length} B): refused in ${took} ms — "${body.error.message}"`);
  }
  const grew = peakKiB(pid) - before;
  console.log(`server peak memory: ${before} KiB before the bombs, grew by ${grew} KiB`);
  expect(grew, 'the peak memory the bombs added, in KiB').toBeLessThan(64 * 1024);

  // a forged request id is replaced by a fresh one, so it never reaches logs or the CSV
  const forged = await request.get('/api/v1/me', {
    headers: { authorization: `Bearer ${reader}`, 'x-request-id': '=HYPERLINK("https://evil.example","x")' },
  });
  expect(forged.status()).toBe(200);
  expect(forged.headers()['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

  // a lead's read-only token cannot approve a deploy of his team's; his deploy token can
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  await signIn(alice, testInfo, 'alice');
  const ci = await token(alice, `probe-ci-${randomUUID().slice(0, 8)}`, ['read', 'deploy'], 'payments');
  const kicked = await request.post('/api/v1/deploys', {
    headers: { authorization: `Bearer ${ci}`, 'idempotency-key': randomUUID() },
    data: { service: 'apple-pay-bridge', environment: 'production', version: `v${Date.now()}`, reason: 'security probe' },
  });
  expect(kicked.status(), await kicked.text()).toBe(201);
  const deploy = await kicked.json();
  expect(deploy.requester).toMatch(/^token:payments\/probe-ci-/);
  const bobContext = await browser.newContext();
  const bob = await bobContext.newPage();
  await signIn(bob, testInfo, 'bob');
  const bobReads = await token(bob, `probe-read-${randomUUID().slice(0, 8)}`, ['read']);
  const approve = (secret: string) =>
    request.post(`/api/v1/approvals/${deploy.approval_id}/approve`, {
      headers: { authorization: `Bearer ${secret}` },
      data: { comment: 'probe' },
    });
  expect((await approve(bobReads)).status(), 'a read-only token approved').toBe(403);
  const bobDeploys = await token(bob, `probe-deploy-${randomUUID().slice(0, 8)}`, ['read', 'deploy']);
  expect((await approve(bobDeploys)).status()).toBe(200);

  // a CD system's events: signed for this deploy, with its attempt and a rising seq; a replay,
  // or one signed for another deploy, or one for a deploy no CD system runs, is refused
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const cd = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => cd.listen(cdPort, '127.0.0.1', resolve));
  try {
    const admin = await token(alice, `probe-admin-${randomUUID().slice(0, 8)}`, ['admin']);
    const staged = await request.post('/api/v1/deploys', {
      headers: { authorization: `Bearer ${admin}`, 'idempotency-key': randomUUID() },
      // staging may be frozen by another test: an admin's override says why this one may go
      data: { service: 'apple-pay-bridge', environment: 'staging', version: `v${Date.now()}`, reason: 'security probe', freeze_override: 'security probe' },
    });
    expect(staged.status(), await staged.text()).toBe(201);
    const webhookDeploy = (await staged.json()).id as string;
    await expect.poll(() => received.length, { timeout: 30_000 }).toBeGreaterThan(0);
    const out = received[0];
    const t = /t=(\d+)/.exec(String(out.headers['switchyard-signature']))?.[1] ?? '';
    expect(out.headers['switchyard-signature'], 'the request is signed with the deploy id').toBe(sign(webhookDeploy, out.body, Number(t)));
    const deployState = async () =>
      (await (await request.get(`/api/v1/deploys/${webhookDeploy}`, { headers: { authorization: `Bearer ${admin}` } })).json()).state;
    await expect.poll(deployState, { timeout: 30_000 }).toBe('running');
    const send = (deployId: string, body: string, signature: string) =>
      request.post(`/api/v1/deploys/${deployId}/events`, {
        headers: { 'content-type': 'application/json', 'switchyard-signature': signature },
        data: body,
      });
    const progress = JSON.stringify({ attempt: 1, seq: 1, type: 'progress', percent: 50, message: 'half the pods' });
    expect((await send(webhookDeploy, progress, sign(webhookDeploy, progress))).status()).toBe(200);
    const replayed = await send(webhookDeploy, progress, sign(webhookDeploy, progress));
    expect(replayed.status(), 'a replayed event').toBe(409);
    expect((await replayed.json()).error.message).toContain('replay');
    const done = JSON.stringify({ attempt: 1, seq: 2, type: 'succeeded' });
    expect((await send(webhookDeploy, done, sign(randomUUID(), done))).status(), 'signed for another deploy').toBe(401);
    expect((await send(webhookDeploy, done, sign(webhookDeploy, done))).status()).toBe(200);
    await expect.poll(deployState).toBe('succeeded');
    const unowned = await send(deploy.id, done, sign(deploy.id, done));
    expect(unowned.status(), 'an event for a deploy no CD system runs').toBe(409);
    expect((await unowned.json()).error.message).toContain('not run by a CD system');
  } finally {
    cd.close();
  }
  for (const c of [daveContext, aliceContext, bobContext]) await c.close();
});
