// Who runs a domain's mail, read off its MX host names (seed 000's `provider` field). Pure.
//
// Senders care because each provider answers probes in its own way (Microsoft and Yahoo accept
// every RCPT for some tenants, Proofpoint and Mimecast filter in front of another mailbox host),
// and because a list's share per provider says where its deliverability will be decided.
import { memoized } from './memo.js';
import type { MxHost, MxResult } from './types.js';

/** The provider names `provider` can hold besides `other`; stable, documented in README.md. */
export type Provider =
  | 'google'
  | 'microsoft'
  | 'yahoo'
  | 'zoho'
  | 'proofpoint'
  | 'mimecast'
  | 'barracuda'
  | 'cisco'
  | 'broadcom'
  | 'trendmicro'
  | 'sophos'
  | 'hornetsecurity'
  | 'apple'
  | 'yandex'
  | 'mailru'
  | 'gmx'
  | 'ionos'
  | 'fastmail'
  | 'protonmail'
  | 'tutanota'
  | 'amazon'
  | 'godaddy'
  | 'rackspace'
  | 'ovh'
  | 'qq'
  | 'netease'
  | 'other';

/**
 * Host-name suffixes (whole labels) or patterns, each with the real MX host it was taken from.
 * Checked in order; the first match wins.
 */
export const PROVIDER_TABLE: readonly (readonly [pattern: string | RegExp, provider: Provider, example: string])[] = [
  ['google.com', 'google', 'aspmx.l.google.com, smtp.google.com'],
  ['googlemail.com', 'google', 'alt1.aspmx.l.googlemail.com'],
  // Exchange Online and Outlook.com (hotmail-com.olc.protection.outlook.com); .de and .cn are the
  // sovereign clouds.
  ['outlook.com', 'microsoft', 'contoso-com.mail.protection.outlook.com'],
  ['outlook.de', 'microsoft', 'contoso-de.mail.protection.outlook.de'],
  ['outlook.cn', 'microsoft', 'contoso-cn.mail.protection.partner.outlook.cn'],
  // Yahoo and AOL (mx-aol.mail.gm0.yahoodns.net).
  ['yahoodns.net', 'yahoo', 'mta5.am0.yahoodns.net'],
  [/(^|\.)zoho(mail|cloud)?\.(com|eu|in|jp|sa|ca|uk|com\.au|com\.cn)$/, 'zoho', 'mx.zoho.com, mx.zoho.eu, mx.zohocloud.ca'],
  ['pphosted.com', 'proofpoint', 'mx0a-00123401.pphosted.com'],
  ['ppe-hosted.com', 'proofpoint', 'mx1-us1.ppe-hosted.com (Proofpoint Essentials)'],
  [/(^|\.)mimecast(-offshore)?\.(com|co\.za|ca)$/, 'mimecast', 'us-smtp-inbound-1.mimecast.com'],
  ['barracudanetworks.com', 'barracuda', 'd123456a.ess.barracudanetworks.com'],
  ['iphmx.com', 'cisco', 'mx1.hc1234-12.iphmx.com (Cisco Secure Email)'],
  ['messagelabs.com', 'broadcom', 'cluster1.eu.messagelabs.com (Symantec Email Security.cloud)'],
  ['trendmicro.com', 'trendmicro', 'contoso-com.mx.tmes.trendmicro.com'],
  ['trendmicro.eu', 'trendmicro', 'contoso-com.mx.tmes.trendmicro.eu'],
  ['hydra.sophos.com', 'sophos', 'mx-01-eu-west-1.prod.hydra.sophos.com'],
  ['hornetsecurity.com', 'hornetsecurity', 'mx01.hornetsecurity.com'],
  ['icloud.com', 'apple', 'mx01.mail.icloud.com'],
  [/(^|\.)yandex\.(net|ru|com)$/, 'yandex', 'mx.yandex.net, mx.yandex.ru'],
  ['mail.ru', 'mailru', 'mxs.mail.ru'],
  // United Internet's mailboxes for people: GMX, WEB.DE, mail.com.
  [/(^|\.)gmx\.(net|com|de)$/, 'gmx', 'mx00.gmx.net'],
  ['web.de', 'gmx', 'mx-ha03.web.de'],
  ['mail.com', 'gmx', 'mx00.mail.com'],
  // …and its hosting for businesses: IONOS, formerly 1&1.
  [/(^|\.)ionos\.(com|de|co\.uk|es|fr|it)$/, 'ionos', 'mx00.ionos.com'],
  ['kundenserver.de', 'ionos', 'mx00.kundenserver.de'],
  [/(^|\.)1and1\.(com|co\.uk|es|fr)$/, 'ionos', 'mx00.1and1.co.uk'],
  ['messagingengine.com', 'fastmail', 'in1-smtp.messagingengine.com'],
  ['protonmail.ch', 'protonmail', 'mail.protonmail.ch, mailsec.protonmail.ch'],
  ['tutanota.de', 'tutanota', 'mail.tutanota.de'],
  // SES receiving, which WorkMail uses too; other amazonaws.com hosts are anyone's EC2 machine.
  [/^inbound-smtp\.[a-z0-9-]+\.amazonaws\.com$/, 'amazon', 'inbound-smtp.us-east-1.amazonaws.com'],
  ['secureserver.net', 'godaddy', 'mx1.secureserver.net'],
  ['emailsrvr.com', 'rackspace', 'mx1.emailsrvr.com'],
  ['mail.ovh.net', 'ovh', 'mx1.mail.ovh.net'],
  ['qq.com', 'qq', 'mx1.qq.com, mxbiz1.qq.com'],
  ['netease.com', 'netease', '163mx01.mxmail.netease.com'],
  ['163.com', 'netease', 'mx.163.com'],
];

/**
 * The provider of one MX host name, or `other`. Asked for every address (verdictOf), and a list
 * repeats a few mail hosts: each is matched against the table once.
 */
export const providerOfHost: (host: string) => Provider = memoized(4096, (host) => {
  const name = host.toLowerCase().replace(/\.$/, '');
  for (const [pattern, provider] of PROVIDER_TABLE) {
    const match = typeof pattern === 'string' ? name === pattern || name.endsWith(`.${pattern}`) : pattern.test(name);
    if (match) return provider;
  }
  return 'other';
});

/**
 * The provider of a domain from its MX hosts, read in preference order: the first host a provider
 * is known for decides, so a company's own relay listed first in front of Microsoft still says
 * Microsoft. Empty when the mail hosts are not known: the domain was not looked up, does not
 * exist or takes no mail.
 */
export function providerOf(mx: MxResult | undefined): Provider | '' {
  if (mx?.kind !== 'mx' || mx.hosts.length === 0) return '';
  const byPreference = [...mx.hosts].sort((a: MxHost, b: MxHost) => a.priority - b.priority);
  for (const host of byPreference) {
    const provider = providerOfHost(host.exchange);
    if (provider !== 'other') return provider;
  }
  return 'other';
}
