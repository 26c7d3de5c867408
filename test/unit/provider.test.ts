import { describe, expect, it } from 'vitest';
import { PROVIDER_TABLE, providerOf, providerOfHost } from '../../src/core/provider.js';
import type { MxHost } from '../../src/core/types.js';

const hosts = (...names: [string, number][]): MxHost[] =>
  names.map(([exchange, priority]) => ({ exchange, priority, addresses: ['192.0.2.1'] }));

describe('providerOfHost', () => {
  // Real MX host names (and the shapes of tenant-specific ones).
  it.each([
    ['aspmx.l.google.com', 'google'],
    ['ALT2.ASPMX.L.GOOGLE.COM.', 'google'],
    ['smtp.google.com', 'google'],
    ['alt1.aspmx.l.googlemail.com', 'google'],
    ['contoso-com.mail.protection.outlook.com', 'microsoft'],
    ['hotmail-com.olc.protection.outlook.com', 'microsoft'],
    ['contoso-de.mail.protection.outlook.de', 'microsoft'],
    ['mta5.am0.yahoodns.net', 'yahoo'],
    ['mx-aol.mail.gm0.yahoodns.net', 'yahoo'],
    ['mx.zoho.com', 'zoho'],
    ['mx2.zoho.eu', 'zoho'],
    ['mx.zoho.com.au', 'zoho'],
    ['mx.zohocloud.ca', 'zoho'],
    ['mx0a-00123401.pphosted.com', 'proofpoint'],
    ['mx1-us1.ppe-hosted.com', 'proofpoint'],
    ['us-smtp-inbound-1.mimecast.com', 'mimecast'],
    ['za-smtp-inbound-1.mimecast.co.za', 'mimecast'],
    ['d123456a.ess.barracudanetworks.com', 'barracuda'],
    ['mx1.hc1234-12.iphmx.com', 'cisco'],
    ['cluster1.eu.messagelabs.com', 'broadcom'],
    ['contoso-com.mx.tmes.trendmicro.eu', 'trendmicro'],
    ['mx-01-eu-west-1.prod.hydra.sophos.com', 'sophos'],
    ['mx01.hornetsecurity.com', 'hornetsecurity'],
    ['mx01.mail.icloud.com', 'apple'],
    ['mx.yandex.net', 'yandex'],
    ['mx.yandex.ru', 'yandex'],
    ['mxs.mail.ru', 'mailru'],
    ['mx00.gmx.net', 'gmx'],
    ['mx-ha03.web.de', 'gmx'],
    ['mx00.mail.com', 'gmx'],
    ['mx00.ionos.com', 'ionos'],
    ['mx01.kundenserver.de', 'ionos'],
    ['mx00.1and1.co.uk', 'ionos'],
    ['in1-smtp.messagingengine.com', 'fastmail'],
    ['mailsec.protonmail.ch', 'protonmail'],
    ['mail.tutanota.de', 'tutanota'],
    ['inbound-smtp.us-east-1.amazonaws.com', 'amazon'],
    ['mx1.secureserver.net', 'godaddy'],
    ['mx2.emailsrvr.com', 'rackspace'],
    ['mx1.mail.ovh.net', 'ovh'],
    ['mxbiz1.qq.com', 'qq'],
    ['163mx01.mxmail.netease.com', 'netease'],
    // Look-alikes: a suffix counts only as whole labels.
    ['mail.notgoogle.com', 'other'],
    ['google.com.evil.example', 'other'],
    ['mx.zoho.example.org', 'other'],
    ['ec2-192-0-2-1.compute-1.amazonaws.com', 'other'],
    ['mx.example.com', 'other'],
    ['', 'other'],
  ])('%s -> %s', (host, provider) => {
    expect(providerOfHost(host)).toBe(provider);
  });

  it('has an example host in every table row that the row itself recognises', () => {
    for (const [, provider, example] of PROVIDER_TABLE) {
      const first = example.split(/[ ,]/)[0]!;
      expect(providerOfHost(first), first).toBe(provider);
    }
  });
});

describe('providerOf', () => {
  it('reads the hosts in preference order, the first known provider deciding', () => {
    const mx = hosts(['backup.example.net', 20], ['relay.example.com', 5], ['contoso-com.mail.protection.outlook.com', 10]);
    expect(providerOf({ kind: 'mx', implicit: false, hosts: mx })).toBe('microsoft');
    const google = hosts(['alt1.aspmx.l.google.com', 5], ['mx.backup.example', 1], ['aspmx.l.google.com', 1]);
    expect(providerOf({ kind: 'mx', implicit: false, hosts: google })).toBe('google');
  });

  it('says other for unknown hosts, and nothing when the hosts are not known', () => {
    expect(providerOf({ kind: 'mx', implicit: true, hosts: hosts(['example.com', 0]) })).toBe('other');
    expect(providerOf(undefined)).toBe('');
    expect(providerOf({ kind: 'no_domain' })).toBe('');
    expect(providerOf({ kind: 'null_mx' })).toBe('');
    expect(providerOf({ kind: 'lookup_failed', reason: 'SERVFAIL' })).toBe('');
  });
});
