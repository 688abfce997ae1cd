import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { signIn } from '../tests/fixtures';

// The REST API against its own OpenAPI document, by schemathesis (a property-based tester from
// PyPI, installed by the Makefile): every operation, with examples, boundary values, random
// input and stateful sequences following the links between operations; status codes, content
// types and bodies must be what the document says. It runs after the browser suites (its own
// project), as an admin whose token has every scope.
test('the REST API answers as its OpenAPI document says, under a property-based tester', async ({ page, baseURL }, testInfo) => {
  test.setTimeout(600_000);
  const st = process.env.E2E_SCHEMATHESIS;
  expect(st, "E2E_SCHEMATHESIS names schemathesis's st (the Makefile installs it in target/contract-venv)").toBeTruthy();
  await signIn(page, testInfo, 'alice', '/me');
  const created = await page.request.post('/api/iam/create-token', {
    form: { name: `contract-${Date.now()}`, read: 'on', write: 'on', deploy: 'on', admin: 'on', days: '30' },
    headers: { origin: baseURL!, accept: 'application/json' },
  });
  expect(created.status()).toBe(200);
  const { secret } = await created.json();
  const run = spawnSync(
    st!,
    [
      '--config-file', join(__dirname, 'schemathesis.toml'),
      'run', `${baseURL}/api/openapi.json`, '--url', baseURL!,
      '-H', `Authorization: Bearer ${secret}`,
      '--phases', 'examples,coverage,fuzzing,stateful',
      '--max-examples', '25', '--seed', '20261204',
      '--request-timeout', '15', '--workers', '1',
      '--generation-database', 'none', '--no-color',
    ],
    { encoding: 'utf8', timeout: 540_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  await testInfo.attach('schemathesis', { body: output, contentType: 'text/plain' });
  // the summary in the log: how many cases, and whether the stateful phase followed links
  console.log(output.split('\n').filter((l) => /generated|Stateful|API Links|Operations|covered/.test(l)).join('\n'));
  expect(run.status, output.slice(-30_000)).toBe(0);
});
