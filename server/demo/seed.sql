-- The demo company's teams: a mid-sized payments processor. Idempotent: existing rows are kept.
-- Its catalog is Backstage descriptors in demo/catalog/, imported after this.
INSERT INTO teams (slug, name, description) VALUES
  ('payments',        'Payments',             'Card and account-to-account payment processing'),
  ('ledger',          'Ledger',               'Double-entry ledger, balances and reconciliation'),
  ('risk',            'Risk & Fraud',         'Real-time fraud scoring and rules'),
  ('identity',        'Identity',             'Customer identity, KYC and authentication'),
  ('platform',        'Platform',             'Kubernetes, CI/CD and shared runtime'),
  ('network',         'Network Engineering',  'Data centers, WAN, BGP peering with banks'),
  ('integrations',    'Integrations',         'iPaaS flows between business systems'),
  ('merchant',        'Merchant Experience',  'Merchant onboarding, dashboard and APIs'),
  ('treasury',        'Treasury',             'Liquidity, FX and settlement with partner banks'),
  ('data',            'Data',                 'Warehouse, reporting and regulatory feeds')
ON CONFLICT (slug) DO NOTHING;

-- A freeze window on production a week after the first load, so the freeze calendar shows one
-- (no creator: Switchyard itself). Only added while there is no window at all.
INSERT INTO freeze_windows (environment, reason, starts_at, ends_at)
SELECT 'production', 'Card network certification', date_trunc('day', now()) + interval '7 days 6 hours',
       date_trunc('day', now()) + interval '8 days 20 hours'
WHERE NOT EXISTS (SELECT 1 FROM freeze_windows);
