import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';

// The Grafana dashboard shipped in server/monitoring/ against Grafana's own dashboard model: the
// `Dashboard` type of @grafana/schema (Grafana's published types, pinned in package.json), turned
// into a JSON Schema here. No browser. The metric names in its queries are checked against a real
// scrape by the Rust suite (server/tests/telemetry).
const dashboardPath = join(__dirname, '..', '..', 'server', 'monitoring', 'dashboard.json');

function dashboardValidator() {
  // the package's exports do not name its type files: read it where npm put it
  const types = join(__dirname, '..', 'node_modules', '@grafana', 'schema', 'dist', 'types', 'raw', 'dashboard', 'x', 'types.gen.d.ts');
  const schema = createGenerator({ path: types, type: 'Dashboard', skipTypeCheck: true }).createSchema('Dashboard');
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

test('the shipped Grafana dashboard is a valid Grafana dashboard, and a broken one is not', () => {
  const validate = dashboardValidator();
  const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8'));
  const valid = validate(dashboard);
  expect(validate.errors ?? [], 'server/monitoring/dashboard.json against @grafana/schema').toEqual([]);
  expect(valid).toBe(true);
  expect(dashboard.panels.length).toBeGreaterThan(10);

  // the check can fail: a panel whose position is not an object, and panels that are not a list
  const broken = structuredClone(dashboard);
  broken.panels[1].gridPos = '0,0,8,8';
  expect(validate(broken)).toBe(false);
  expect(validate.errors!.map((e) => e.instancePath)).toContain('/panels/1/gridPos');
  expect(validate({ ...dashboard, panels: {} })).toBe(false);
});
