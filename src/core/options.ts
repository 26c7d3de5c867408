// One options type for the engine, and the one place its defaults live.

export interface VerifyOptions {
  /** DNS lookups and SMTP sessions at once, over all domains. */
  concurrency: number;
  /** SMTP sessions at once against one domain, so no mail host is hammered. */
  perDomainConcurrency: number;
  /** SMTP sessions at once against one mail host, over all the domains it serves, at first... */
  perHostConcurrency: number;
  /**
   * ...and at most, for a host that answers every session (big providers): one more per clean
   * session, halved on push-back. Its domains get as many more sessions as the host earned.
   */
  perHostMaxConcurrency: number;
  /** RCPTs in one SMTP session (servers commonly allow 100; 452 is honoured below that). */
  recipientsPerSession: number;
  /** Greylisted (and other 4xx) addresses are asked again after this long... */
  greylistDelayMs: number;
  /** ...for at most this long after their first answer; 0 = never wait. */
  greylistBudgetMs: number;
  /** Each network step (connect, each reply, each DNS query) in milliseconds. */
  timeoutMs: number;
  /** DNS servers as host[:port]; empty = the system's. */
  dnsServers: string[];
  smtpPort: number;
  /** The name we give in EHLO/HELO; empty: an address literal of our end (RFC 5321 §4.1.4). */
  helo: string;
  /** Used in MAIL FROM when a server refuses the null sender. */
  from: string;
  allowAddressLiterals: boolean;
  /** SMTP connections go through this SOCKS5 proxy: socks5://[user:password@]host:port. DNS does not. */
  proxy?: string;
  /** The local address SMTP connections (or the one to the proxy) are made from. */
  sourceIp?: string;
  /** Run only the checks that need no network. */
  offline: boolean;
  /** Probe each domain with an improbable address to detect catch-all. */
  catchAll: boolean;
}

export const DEFAULT_OPTIONS: VerifyOptions = {
  concurrency: 20,
  perDomainConcurrency: 2,
  // Hosting providers serve thousands of domains from a few MX hosts.
  perHostConcurrency: 5,
  perHostMaxConcurrency: 10,
  recipientsPerSession: 25,
  // Common greylisting daemons (postgrey) let a retry through after 5 minutes.
  greylistDelayMs: 5 * 60_000,
  greylistBudgetMs: 15 * 60_000,
  timeoutMs: 30_000,
  dnsServers: [],
  smtpPort: 25,
  helo: '',
  from: '',
  allowAddressLiterals: false,
  offline: false,
  catchAll: true,
};

export function resolveOptions(partial: Partial<VerifyOptions> = {}): VerifyOptions {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<VerifyOptions>;
  // A per-host cap the caller chose is a cap: no growth past it unless a maximum is given too.
  if (defined.perHostConcurrency !== undefined && defined.perHostMaxConcurrency === undefined) {
    defined.perHostMaxConcurrency = defined.perHostConcurrency;
  }
  return { ...DEFAULT_OPTIONS, ...defined };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "30s", "5m", "250ms", "1h", "7d" or plain seconds into milliseconds; NaN when malformed. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match) return Number.NaN;
  const unit = (match[2] ?? 's').toLowerCase();
  return Math.round(Number(match[1]) * (UNIT_MS[unit] ?? Number.NaN));
}
