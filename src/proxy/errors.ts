/** One-line causes for what goes wrong on a proxied connection (502 bodies, `error` events, end reasons). */

/**
 * Our words for the certificate verification failures a test or a user meets (OpenSSL's
 * X509_V_ERR names, Node's err.code): Node's own messages for them change between
 * versions (Node 24 appends advice about --use-system-ca).
 */
const CERTIFICATE_ERRORS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate issuer unknown',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate issuer not trusted here',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is not for this host name',
};

/** Our one line for a certificate verification failure, e.g. "self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)"; null for other errors. */
export function describeCertificateError(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code && CERTIFICATE_ERRORS[code] ? `${CERTIFICATE_ERRORS[code]} (${code})` : null;
}

/** One line naming an error's cause, e.g. "connection refused (ECONNREFUSED)". */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'timed out',
    EADDRINUSE: 'address already in use',
    EADDRNOTAVAIL: 'address not available',
    EACCES: 'permission denied',
    EPIPE: 'broken pipe',
  };
  if (code && known[code]) return `${known[code]} (${code})`;
  const certificate = describeCertificateError(err);
  if (certificate) return certificate;
  // OpenSSL's message is a dump ("80...:error:0A00010B:SSL routines:...:ssl3_record.c:350:");
  // its reason is the readable part, e.g. "wrong version number" (a plain server, not TLS).
  if (typeof e?.reason === 'string' && e.reason && code?.startsWith('ERR_SSL')) return `${e.reason} (${code})`;
  const text = (e?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/** Names a TLS failure (certificate errors carry an OpenSSL code). */
export function describeTlsError(err: unknown, insecureHint: boolean): string {
  const e = err as NodeJS.ErrnoException;
  const cert = typeof e?.code === 'string' && /CERT|SELF_SIGNED|ALTNAME|VERIFY|ISSUER/.test(e.code);
  const hint = cert && insecureHint ? '; --insecure accepts it' : '';
  return `TLS ${cert ? 'certificate' : 'handshake'} error: ${describeError(err)}${hint}`;
}
