// Companies for the finder's tests and its measurement: each with its own address convention
// (first.last, flast, first, mixed), a catch-all one, one with no mail host, a greylisting one and
// a busy one (421). Mailboxes are made from the same names the people lists hold.
import type { HostSpec, SimNetSpec } from './simnet.js';

export const FINDER_NETWORK: SimNetSpec = {
  hosts: {
    'mx.dotted.example': {
      behaviour: {
        kind: 'mailboxes',
        mailboxes: [
          'tim.cook',
          'jane.doe',
          'hans.mueller',
          'conan.obrien',
          'jan.vanderberg',
          'jose.garcia',
          'wei.zhang',
          'dmitriy.ivanov',
        ],
      },
    },
    'mx.flast.example': { behaviour: { kind: 'mailboxes', mailboxes: ['tcook', 'jdoe', 'asmith', 'bjones', 'cbrown', 'dlee'] } },
    'mx.first.example': { behaviour: { kind: 'mailboxes', mailboxes: ['tim', 'jane'] } },
    'mx.mixed.example': { behaviour: { kind: 'mailboxes', mailboxes: ['tim.cook', 'jdoe', 'anna'] } },
    'mx.catchall.example': { behaviour: { kind: 'catch_all' } },
    'mx.grey.example': { behaviour: { kind: 'greylist', delayMs: 300, inner: { kind: 'mailboxes', mailboxes: ['tim.cook'] } } },
    'mx.busy.example': { behaviour: { kind: 'busy' } },
    // Strict: 452 after two RCPTs in a session, and 421 past one open session.
    'mx.strict.example': {
      behaviour: { kind: 'mailboxes', mailboxes: ['asmith', 'bjones', 'cbrown', 'dlee', 'tcook', 'jdoe'] },
      maxRecipients: 2,
      maxConnections: 1,
    },
  },
  domains: {
    'dotted.example': { mx: [{ host: 'mx.dotted.example', priority: 10 }] },
    'flast.example': { mx: [{ host: 'mx.flast.example', priority: 10 }] },
    'first.example': { mx: [{ host: 'mx.first.example', priority: 10 }] },
    'mixed.example': { mx: [{ host: 'mx.mixed.example', priority: 10 }] },
    'catchall.example': { mx: [{ host: 'mx.catchall.example', priority: 10 }] },
    'grey.example': { mx: [{ host: 'mx.grey.example', priority: 10 }] },
    'busy.example': { mx: [{ host: 'mx.busy.example', priority: 10 }] },
    'strict.example': { mx: [{ host: 'mx.strict.example', priority: 10 }] },
    // Registered, but nothing to deliver to: MX names a host with no address.
    'nomail.example': { mx: [{ host: 'mx.nowhere.example', priority: 10 }] },
  },
};

const FIRSTS = [
  'james',
  'mary',
  'robert',
  'patricia',
  'john',
  'jennifer',
  'michael',
  'linda',
  'david',
  'elizabeth',
  'william',
  'barbara',
  'richard',
  'susan',
  'joseph',
  'jessica',
  'thomas',
  'sarah',
  'charles',
  'karen',
  'chris',
  'nancy',
  'daniel',
  'lisa',
  'matthew',
  'betty',
  'anthony',
  'sandra',
  'mark',
  'ashley',
];
const LASTS = [
  'smith',
  'johnson',
  'williams',
  'brown',
  'jones',
  'garcia',
  'miller',
  'davis',
  'rodriguez',
  'martinez',
  'hernandez',
  'lopez',
  'gonzalez',
  'wilson',
  'anderson',
  'taylor',
  'moore',
  'jackson',
  'martin',
  'lee',
  'perez',
  'thompson',
  'white',
  'harris',
  'clark',
  'lewis',
  'robinson',
  'walker',
  'young',
  'allen',
];
const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

// The share of companies using each convention, roughly as address-finder studies report them.
const CONVENTIONS: { pattern: (f: string, l: string) => string; weight: number }[] = [
  { pattern: (f, l) => `${f}.${l}`, weight: 45 },
  { pattern: (f) => f, weight: 12 },
  { pattern: (f, l) => `${f[0]}${l}`, weight: 18 },
  { pattern: (f, l) => `${f}${l}`, weight: 8 },
  { pattern: (f, l) => `${f[0]}.${l}`, weight: 5 },
  { pattern: (f, l) => `${f}_${l}`, weight: 3 },
  { pattern: (f, l) => `${l}${f[0]}`, weight: 4 },
];

/**
 * A deterministic list of `people` at `companies` companies: most follow their company's
 * convention, some companies are catch-all, some have no mail host, and one in ten people has
 * no mailbox at all (left the company). Returns the network and the CSV.
 */
export function peopleNetwork(people: number, companies: number): { spec: SimNetSpec; csv: string } {
  let seed = 13;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const hosts: Record<string, HostSpec> = {};
  const domains: SimNetSpec['domains'] = {};
  const mailboxes: string[][] = [];
  const conventionOf: ((f: string, l: string) => string)[] = [];
  const kinds: ('normal' | 'catch_all' | 'no_mx')[] = [];
  const total = CONVENTIONS.reduce((n, c) => n + c.weight, 0);
  for (let c = 0; c < companies; c++) {
    let pick = random() * total;
    const convention = CONVENTIONS.find((k) => (pick -= k.weight) < 0) ?? CONVENTIONS[0]!;
    conventionOf.push(convention.pattern);
    kinds.push(c % 10 === 7 ? 'catch_all' : c % 10 === 9 ? 'no_mx' : 'normal');
    mailboxes.push([]);
  }
  const rows = ['first_name,last_name,company website'];
  const used = new Set<string>();
  for (let p = 0; p < people; p++) {
    const c = Math.floor(random() * companies);
    let first = FIRSTS[Math.floor(random() * FIRSTS.length)]!;
    let last = LASTS[Math.floor(random() * LASTS.length)]!;
    for (let i = 0; used.has(`${c}:${first}:${last}`) && i < 50; i++) last = LASTS[Math.floor(random() * LASTS.length)]!;
    used.add(`${c}:${first}:${last}`);
    if (random() >= 0.1) mailboxes[c]!.push(conventionOf[c]!(first, last));
    first = cap(first);
    last = cap(last);
    rows.push(`${first},${last},https://www.company${c}.example/about`);
  }
  for (let c = 0; c < companies; c++) {
    const host = `mx.company${c}.example`;
    const kind = kinds[c];
    if (kind === 'no_mx') {
      domains[`company${c}.example`] = { mx: [{ host: `mx.gone${c}.example`, priority: 10 }] };
      continue;
    }
    hosts[host] = { behaviour: kind === 'catch_all' ? { kind: 'catch_all' } : { kind: 'mailboxes', mailboxes: mailboxes[c]! } };
    domains[`company${c}.example`] = { mx: [{ host, priority: 10 }] };
  }
  return { spec: { hosts, domains }, csv: `${rows.join('\n')}\n` };
}
