/**
 * Public face: the types of outbound connections (dial), half-close, forwarding and the PROXY
 * protocol, shared by the Conn API, the engine and the reactors.
 */

/** What `c.dial` / `engine.dial` / `info.dial` take besides the address. */
export interface DialOptions {
  /**
   * Handed to the dialed connection as `c.context` before its `onOpened` (and to `onClosed` if
   * it never connects). From `c.dial`/`info.dial` any value (same thread); from `engine.dial` or a
   * job it crosses threads, so it must be structured-cloneable.
   */
  context?: unknown;
  /** Ms for the connect to complete (default 10,000; 0: the kernel's own limit), past it ETIMEDOUT; with TLS, the handshake gets as long again. */
  timeout?: number;
  /** Send a PROXY protocol header first (before any byte the handler writes). */
  proxyHeader?: ProxyHeaderSpec;
  /** engine.dial only: the reactor that owns the connection (default: the engine's balancer picks). */
  loop?: number;
  /**
   * TLS on the connection (a `tls://` address implies it): handshake and records in the native
   * loop, as on TLS listeners; `onOpened` runs once the handshake is done (`c.tls` tells what it
   * negotiated), or `onClosed` with ERR_TLS_HANDSHAKE (and OpenSSL's reason) if it fails.
   */
  tls?: true | DialTlsOptions;
}

/** TLS options of a dial. */
export interface DialTlsOptions {
  /** The name sent as SNI and checked against the certificate (default: the address's host; an IP is checked as an IP). */
  servername?: string;
  /** Trusted CA certificates (PEM); default: Node's bundled root certificates (`tls.rootCertificates`). */
  ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Fail the handshake when the server's certificate does not verify (default true). */
  rejectUnauthorized?: boolean;
}

/**
 * A PROXY protocol header a dial sends: version 1 (text) or 2 (binary), for a connection from
 * `source` to `dest` (numeric "host:port" / "[v6]:port", same family). Without addresses it is
 * v1 UNKNOWN / v2 LOCAL (health checks). v2 may carry TLVs.
 */
export interface ProxyHeaderSpec {
  version: 1 | 2;
  source?: string;
  dest?: string;
  tlvs?: readonly { type: number; value: Uint8Array | string }[];
}

/** A PROXY protocol header as a listener with `proxyProtocol` received it (`c.proxy`). */
export interface ProxyInfo {
  version: 1 | 2;
  /** The original client ("host:port"), or '' for v1 UNKNOWN / v2 LOCAL (the socket's own peer stands). */
  source: string;
  /** The address the client connected to, or ''. */
  dest: string;
  /** v2 TLVs in order (type, value), e.g. 0x01 ALPN, 0x02 authority, 0x05 unique id. */
  tlvs: { type: number; value: Uint8Array }[];
}
