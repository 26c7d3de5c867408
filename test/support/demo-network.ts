// The network behind fixtures/sample.csv: used by the demo and the integration tests.
import type { SimNetSpec } from './simnet.js';

export const DEMO_NETWORK: SimNetSpec = {
  hosts: {
    'mx1.acme.example': {
      behaviour: {
        kind: 'mailboxes',
        mailboxes: ['alice', 'bob', 'info', 'support', 'sales'],
        full: ['dave'],
        disabled: ['eve'],
      },
    },
    'mx.catchall.example': { behaviour: { kind: 'catch_all' } },
    'mail.implicit.example': { behaviour: { kind: 'mailboxes', mailboxes: ['carol'] } },
    'gmail-smtp-in.l.google.com': { behaviour: { kind: 'mailboxes', mailboxes: ['jane.doe', 'john.smith'] } },
    'mx.mailinator.com': { behaviour: { kind: 'catch_all' } },
    'mx.blocked.example': { behaviour: { kind: 'policy_block' } },
    'mx1.multi.example': { behaviour: { kind: 'refused' } },
    'mx2.multi.example': { behaviour: { kind: 'mailboxes', mailboxes: ['frank'] } },
    'mx.tls.example': { behaviour: { kind: 'mailboxes', mailboxes: ['grace'] }, requireTls: true },
  },
  domains: {
    'acme.example': { mx: [{ host: 'mx1.acme.example', priority: 10 }] },
    'catchall.example': { mx: [{ host: 'mx.catchall.example', priority: 10 }] },
    'implicit.example': { aHost: 'mail.implicit.example' },
    'nullmx.example': { nullMx: true },
    'gmail.com': { mx: [{ host: 'gmail-smtp-in.l.google.com', priority: 5 }] },
    'mailinator.com': { mx: [{ host: 'mx.mailinator.com', priority: 10 }] },
    'blocked.example': { mx: [{ host: 'mx.blocked.example', priority: 10 }] },
    'multi.example': {
      mx: [
        { host: 'mx2.multi.example', priority: 20 },
        { host: 'mx1.multi.example', priority: 10 },
      ],
    },
    'nomailhost.example': { mx: [{ host: 'mx.nowhere.example', priority: 10 }] },
    'servfail.example': { servfail: true },
    'tls.example': { mx: [{ host: 'mx.tls.example', priority: 10 }] },
  },
};
