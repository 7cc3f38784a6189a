import { isIP } from 'node:net';

/** A multiaddr the node can listen on or dial: one network address and one TCP port. */
export interface TcpMultiaddr {
  /** The text as given. */
  readonly text: string;
  readonly protocol: 'ip4' | 'ip6' | 'dns' | 'dns4' | 'dns6';
  readonly host: string;
  readonly port: number;
  /** The `/p2p/<peer ID>` suffix, when present. */
  readonly peerId: string | undefined;
}

const HOSTNAME_RE = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
// base58btc (legacy peer IDs, Qm… / 12D3…) or a base32 CID (b…).
const PEER_ID_RE = /^[1-9A-HJ-NP-Za-km-z]{30,100}$|^b[a-z2-7]{30,120}$/;

/**
 * Parses the multiaddr forms the node uses (`/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>`,
 * optionally followed by `/p2p/<peer ID>`). Returns the reason as a string when the text is
 * not one of them. Options are checked here, before the data directory is opened, so that a
 * typo in `--listen` or `--bootstrap` is reported at once with the option's name rather than
 * as a libp2p error once the mesh starts (or, for a bootstrap peer, only in redial logs).
 */
export function parseTcpMultiaddr(text: string): TcpMultiaddr | string {
  if (text.length > 1024) return 'is longer than 1024 characters';
  if (!text.startsWith('/')) return 'must start with "/" (for example /ip4/0.0.0.0/tcp/4001)';
  const parts = text.slice(1).split('/');
  const [proto, host, tcp, portText, p2p, peerId, ...rest] = parts;
  if (proto !== 'ip4' && proto !== 'ip6' && proto !== 'dns' && proto !== 'dns4' && proto !== 'dns6') {
    return `must start with /ip4, /ip6, /dns, /dns4 or /dns6, not /${proto ?? ''}`;
  }
  if (host === undefined || host === '') return `has no address after /${proto}`;
  if (proto === 'ip4' && isIP(host) !== 4) return `"${host}" is not an IPv4 address`;
  if (proto === 'ip6' && isIP(host) !== 6) return `"${host}" is not an IPv6 address`;
  if (proto.startsWith('dns') && !HOSTNAME_RE.test(host)) return `"${host}" is not a host name`;
  if (tcp !== 'tcp') return 'must continue with /tcp/<port> after the address';
  const port = parsePort(portText ?? '');
  if (port === undefined) return `"${portText ?? ''}" is not a TCP port (0 to 65535)`;
  if (p2p !== undefined) {
    if (p2p !== 'p2p' || peerId === undefined || !PEER_ID_RE.test(peerId) || rest.length > 0) {
      return 'may end only with /p2p/<peer ID> after the port';
    }
  }
  return { text, protocol: proto, host, port, peerId };
}

/** A decimal TCP port in [0, 65535], or undefined. */
export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}
