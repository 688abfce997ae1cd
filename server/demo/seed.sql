-- The demo company: a mid-sized payments processor. Idempotent: existing rows are kept.
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

INSERT INTO services (name, title, description, owner_team_id, tier, lifecycle, language)
SELECT v.name, v.title, v.description, t.id, v.tier, v.lifecycle, v.language
FROM (VALUES
  ('payment-gateway',       'Payment Gateway',            'Public entry point for card and wallet payments',              'payments',     0, 'production',   'Rust'),
  ('card-authorizer',       'Card Authorizer',            'ISO 8583 authorisation requests to card networks',             'payments',     0, 'production',   'Rust'),
  ('tokenization',          'Tokenization Vault',         'Replaces PANs with tokens; talks to the HSM cluster',           'payments',     0, 'production',   'Go'),
  ('3ds-server',            '3-D Secure Server',          'Strong customer authentication for card-not-present payments', 'payments',     1, 'production',   'Java'),
  ('refunds',               'Refunds',                    'Full and partial refunds, with ledger postings',               'payments',     1, 'production',   'Kotlin'),
  ('payouts',               'Payouts',                    'Merchant payouts over SEPA and Faster Payments',               'payments',     1, 'production',   'Go'),
  ('a2a-payments',          'Account-to-Account',         'Open-banking initiated payments',                              'payments',     2, 'experimental', 'Rust'),
  ('ledger-core',           'Ledger Core',                'Immutable double-entry journal and balances',                  'ledger',       0, 'production',   'Rust'),
  ('reconciliation',        'Reconciliation',             'Matches bank statements against ledger postings',              'ledger',       1, 'production',   'Python'),
  ('fees-engine',           'Fees Engine',                'Interchange and scheme fee calculation',                       'ledger',       1, 'production',   'Kotlin'),
  ('statement-generator',   'Statement Generator',        'Monthly merchant statements as PDF',                           'ledger',       3, 'production',   'Python'),
  ('ledger-legacy-export',  'Ledger Legacy Export',       'Nightly flat-file export for the old finance system',          'ledger',       3, 'deprecated',   'Java'),
  ('fraud-scoring',         'Fraud Scoring',              'Scores every authorisation in under 30 ms',                    'risk',         0, 'production',   'Rust'),
  ('rules-engine',          'Risk Rules Engine',          'Analyst-authored rules evaluated on payment events',           'risk',         1, 'production',   'Java'),
  ('chargebacks',           'Chargebacks',                'Dispute lifecycle with card networks',                         'risk',         2, 'production',   'Kotlin'),
  ('aml-screening',         'AML Screening',              'Sanctions and PEP list screening',                             'risk',         1, 'production',   'Python'),
  ('device-fingerprint',    'Device Fingerprint',         'Browser and device signals for fraud scoring',                 'risk',         2, 'experimental', 'TypeScript'),
  ('auth-service',          'Auth Service',               'OAuth2 for merchants and partner APIs',                        'identity',     0, 'production',   'Go'),
  ('kyc-orchestrator',      'KYC Orchestrator',           'Document checks and identity verification vendors',            'identity',     1, 'production',   'Kotlin'),
  ('customer-profile',      'Customer Profile',           'Customer master data',                                         'identity',     2, 'production',   'Go'),
  ('mfa',                   'Multi-factor Authentication','TOTP, WebAuthn and SMS one-time codes',                        'identity',     1, 'production',   'Go'),
  ('deploy-controller',     'Deploy Controller',          'Bridges Switchyard deploys to Argo CD',                         'platform',     2, 'production',   'Go'),
  ('service-mesh-config',   'Service Mesh Config',        'mTLS policies and traffic rules',                              'platform',     1, 'production',   'Go'),
  ('secrets-broker',        'Secrets Broker',             'Short-lived credentials from Vault',                           'platform',     0, 'production',   'Go'),
  ('log-pipeline',          'Log Pipeline',               'Ships and redacts logs into the SIEM',                         'platform',     2, 'production',   'Rust'),
  ('ipam',                  'IP Address Management',      'Prefixes and addresses for every site',                        'network',      2, 'production',   'Python'),
  ('bgp-monitor',           'BGP Monitor',                'Watches sessions with banks and cloud partners',               'network',      1, 'production',   'Go'),
  ('firewall-automation',   'Firewall Automation',        'Rule changes as reviewed pull requests',                       'network',      2, 'experimental', 'Python'),
  ('erp-sync',              'ERP Sync',                   'Journals from the ledger to the ERP',                          'integrations', 2, 'production',   'Java'),
  ('crm-bridge',            'CRM Bridge',                 'Merchant records between CRM and onboarding',                  'integrations', 3, 'production',   'TypeScript'),
  ('bank-file-gateway',     'Bank File Gateway',          'SFTP and EBICS file exchange with partner banks',              'integrations', 1, 'production',   'Java'),
  ('merchant-dashboard',    'Merchant Dashboard',         'Web dashboard for merchants',                                  'merchant',     2, 'production',   'TypeScript'),
  ('merchant-api',          'Merchant API',               'Public REST API for merchants',                                'merchant',     1, 'production',   'Go'),
  ('onboarding',            'Merchant Onboarding',        'Applications, underwriting and contract signing',              'merchant',     2, 'production',   'Kotlin'),
  ('webhooks',              'Webhook Delivery',           'Signed event delivery to merchant endpoints, with retries',    'merchant',     1, 'production',   'Rust'),
  ('liquidity',             'Liquidity Manager',          'Intraday positions at partner banks',                          'treasury',     1, 'production',   'Python'),
  ('fx-rates',              'FX Rates',                   'Rates from liquidity providers, with margin',                  'treasury',     1, 'production',   'Go'),
  ('settlement',            'Settlement',                 'Scheme settlement files and net positions',                    'treasury',     0, 'production',   'Java'),
  ('warehouse-loader',      'Warehouse Loader',           'Change-data capture into the warehouse',                       'data',         3, 'production',   'Python'),
  ('regulatory-reporting',  'Regulatory Reporting',       'PSD2 and central-bank reports',                                'data',         2, 'production',   'Python')
) AS v(name, title, description, team, tier, lifecycle, language)
JOIN teams t ON t.slug = v.team
ON CONFLICT (namespace, name) DO NOTHING;
