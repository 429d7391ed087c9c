// Time bounds of the HTTP server and of the requests that wait for work they started.

/**
 * The longest a request waits for work it started (a sync, queueing through Temporal) before it answers 202
 * with the run's id and where to poll. The server's own timeouts are longer, so no reply is ever cut.
 */
export const WAIT_BOUND_SECONDS = 20;

/** Fastify's server timeouts (ms): a socket idle this long is closed, so each stays well above the wait bound. */
export const SERVER_TIMEOUTS = { connectionTimeout: 60_000, requestTimeout: 60_000, keepAliveTimeout: 10_000 } as const;
