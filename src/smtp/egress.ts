// How SMTP connections leave this machine: through a SOCKS5 proxy (--proxy), from a chosen
// local address (--source-ip), or both. Port 25 is blocked or blocklisted on many networks,
// so probing from a host that may talk SMTP is the usual way to get real answers.
import net from 'node:net';
import { SocksClient } from 'socks';
import { UsageError } from '../errors.js';

export interface ProxyUrl {
  host: string;
  port: number;
  userId?: string;
  password?: string;
}

/** Opens a connection to a mail host's address; resolves once bytes can flow to it. */
export type Egress = (host: string, port: number) => Promise<net.Socket>;

const FORM = 'socks5://[user:password@]host:port';
// The port IANA assigned to SOCKS, which curl and others also assume.
const SOCKS_PORT = 1080;
// RFC 1929: user name and password are each 1 to 255 octets.
const MAX_CREDENTIAL = 255;

/**
 * Parses --proxy. socks5h:// (a name resolved by the proxy) is taken as socks5://: we connect
 * to MX addresses we resolved ourselves, so there is no name for the proxy to resolve.
 */
export function parseProxyUrl(text: string): ProxyUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not echoed: the text may hold a password.
    throw new UsageError(`--proxy: not a URL; expected ${FORM}`);
  }
  if (url.protocol !== 'socks5:' && url.protocol !== 'socks5h:') {
    throw new UsageError(`--proxy: ${url.protocol}// proxies are not supported; expected ${FORM}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new UsageError(`--proxy: expected ${FORM}`);
  }
  const proxy: ProxyUrl = { host, port: url.port === '' ? SOCKS_PORT : Number(url.port) };
  if (url.username !== '' || url.password !== '') {
    const userId = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    if ([userId, password].some((s) => Buffer.byteLength(s) < 1 || Buffer.byteLength(s) > MAX_CREDENTIAL)) {
      throw new UsageError(`--proxy: user and password must each be 1 to ${MAX_CREDENTIAL} bytes; expected ${FORM}`);
    }
    Object.assign(proxy, { userId, password });
  }
  return proxy;
}

/** The proxy as it may appear in a reason or a log line: never the credentials. */
function describeProxy(proxy: ProxyUrl): string {
  return `${net.isIPv6(proxy.host) ? `[${proxy.host}]` : proxy.host}:${proxy.port}`;
}

/** Checks --source-ip. Whether this machine has the address shows only when a connection is made. */
export function checkSourceIp(text: string): string {
  if (net.isIP(text) === 0)
    throw new UsageError(`--source-ip ${text}: expected an IP address of this machine, such as 192.0.2.10`);
  return text;
}

export interface EgressOptions {
  proxy?: ProxyUrl;
  /** A local address of this machine to connect from (to the proxy, when there is one). */
  sourceIp?: string;
  /** The SOCKS handshake's own deadline; the session applies its step timeout as well. */
  timeoutMs: number;
}

/** The socket factory for SessionOptions.connect; undefined means plain TCP. */
export function egressFor(options: EgressOptions): Egress | undefined {
  const { proxy, sourceIp, timeoutMs } = options;
  if (sourceIp !== undefined) checkSourceIp(sourceIp);
  if (proxy) {
    const where = `SOCKS proxy ${describeProxy(proxy)}`;
    return async (host, port) => {
      try {
        const { socket } = await SocksClient.createConnection({
          command: 'connect',
          proxy: { host: proxy.host, port: proxy.port, type: 5, userId: proxy.userId, password: proxy.password },
          destination: { host, port },
          timeout: timeoutMs,
          // Binds the connection to the proxy; the proxy picks its own address onwards.
          socket_options: sourceIp === undefined ? undefined : { host: proxy.host, port: proxy.port, localAddress: sourceIp },
        });
        return socket;
      } catch (error) {
        // A new error: the library's carries its options, the password among them.
        throw new Error(`${where}: ${(error as Error).message}`);
      }
    };
  }
  if (sourceIp !== undefined) {
    return (host, port) =>
      new Promise((resolve, reject) => {
        // An IPv4 source cannot reach an IPv6 address (or the reverse); say so plainly.
        if (net.isIP(host) !== 0 && net.isIP(host) !== net.isIP(sourceIp)) {
          reject(new Error(`--source-ip ${sourceIp} cannot reach ${host} (another IP version)`));
          return;
        }
        const socket = net.connect({ host, port, localAddress: sourceIp });
        const onError = (error: Error) => reject(new Error(`from ${sourceIp}: ${error.message}`));
        socket.once('error', onError);
        socket.once('connect', () => {
          socket.off('error', onError);
          resolve(socket);
        });
      });
  }
  return undefined;
}
