import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config } from '../config/config.js';

// The one place the Temporal connection options are made, for the worker (NativeConnection), the API and the
// ops CLI (Connection): address, TLS / mTLS from TEMPORAL_TLS_*, and Temporal Cloud's API key. Both SDK
// connection types take the same `tls` and `apiKey` shapes. The files are read here, at connect time, so key
// material never sits in the frozen config object (which a log line could print).

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

export function temporalConnectionOptions(temporal: Config['temporal']): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: temporal.address };
  if (temporal.tls) {
    const { caFile, certFile, keyFile, serverName } = temporal.tls;
    options.tls = {
      ...(serverName ? { serverNameOverride: serverName } : {}),
      ...(caFile ? { serverRootCACertificate: readFileSync(caFile) } : {}),
      ...(certFile && keyFile ? { clientCertPair: { crt: readFileSync(certFile), key: readFileSync(keyFile) } } : {}),
    };
  }
  if (temporal.apiKey) options.apiKey = temporal.apiKey;
  return options;
}

/** For log lines: how the process reaches Temporal, without secrets. */
export function describeTemporalConnection(temporal: Config['temporal']): Record<string, unknown> {
  return {
    address: temporal.address,
    namespace: temporal.namespace,
    tls: temporal.tls ? (temporal.tls.certFile ? 'mtls' : 'tls') : 'off',
    ...(temporal.tls?.serverName ? { serverName: temporal.tls.serverName } : {}),
    apiKey: temporal.apiKey ? 'set' : 'none',
  };
}
