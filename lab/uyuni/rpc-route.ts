/**
 * POST /rpc/api: decode, count, inject (latency, faults), advance the fleet clock, dispatch.
 * Faults are HTTP 200 `<methodResponse><fault>` like UYUNI's; injected transport faults are not.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Fleet } from '../fleet/index.js';
import { decodeMethodCall, encodeFault, WireParseError, type MethodCall } from './codec.js';
import type { Dispatcher } from './dispatcher.js';
import { RpcFault, uyuniFaults } from './faults.js';
import type { FaultInjector } from './injection.js';
import { SESSION_KEY, type SessionStore } from './sessions.js';
import type { CallStats } from './stats.js';

export interface RpcDeps {
  readonly fleet: Fleet;
  readonly dispatcher: Dispatcher;
  readonly faults: FaultInjector;
  readonly sessions: SessionStore;
  readonly stats: CallStats;
  /** Aborted when the lab closes: pending latency sleeps end and hung calls are cut. */
  readonly shutdown: AbortSignal;
  /** Sockets of calls held open by a 'hang' fault. */
  readonly hung: Set<Socket>;
}

const XML = 'text/xml;charset=UTF-8';

// What Tomcat in front of UYUNI sends when the servlet blows up.
const HTTP_500_BODY =
  '<!doctype html><html lang="en"><head><title>HTTP Status 500 – Internal Server Error</title></head>' +
  '<body><h1>HTTP Status 500 – Internal Server Error</h1></body></html>';

// A response cut off mid-struct: well-formed up to the cut, then nothing.
const MALFORMED_BODY =
  '<?xml version="1.0" encoding="UTF-8"?><methodResponse><params><param><value><array><data><value><struct><member><name>id</name><value><i4>50';

export function registerRpcRoute(app: FastifyInstance, deps: RpcDeps): void {
  app.get('/rpc/api', (_req, reply) => reply.redirect('/rhn/apidoc/index.jsp', 302));
  app.get('/rhn/apidoc/index.jsp', (_req, reply) =>
    reply.type('text/html').send('<html><body><h1>UYUNI lab API</h1><p>XML-RPC endpoint: POST /rpc/api</p></body></html>'),
  );
  app.post('/rpc/api', async (req, reply) => {
    // UYUNI redirects SOAP clients to the docs as well.
    if (req.headers.soapaction !== undefined) return reply.redirect('/rhn/apidoc/index.jsp', 302);
    return handleCall(req, reply, deps);
  });
}

async function handleCall(req: FastifyRequest, reply: FastifyReply, deps: RpcDeps): Promise<FastifyReply> {
  const { fleet, dispatcher, faults, sessions, stats } = deps;
  const body = typeof req.body === 'string' ? req.body : '';
  let call: MethodCall;
  try {
    call = await decodeMethodCall(body);
  } catch (err) {
    stats.record('(unparseable)');
    return sendFault(reply, uyuniFaults.unparseable(err instanceof Error ? err.message : String(err)));
  }
  const sessionKey = !call.method.startsWith('auth.') && typeof call.params[0] === 'string' ? call.params[0] : undefined;
  // Never record credentials: auth.* arguments are not broken down.
  stats.record(call.method, sessionKey !== undefined ? call.params[1] : undefined);

  const rule = faults.take(call.method, sessionKey !== undefined);
  const delay = faults.latencyFor(call.method) + (rule?.kind === 'slow' ? rule.extraMs : 0);
  if (delay > 0) {
    try {
      await sleep(delay, undefined, { signal: deps.shutdown });
    } catch {
      return cut(req, reply);
    }
  }

  switch (rule?.kind) {
    case 'hang':
      return hang(req, reply, deps);
    case 'http500':
      return reply.code(500).type('text/html;charset=utf-8').send(HTTP_500_BODY);
    case 'malformed':
      return reply.code(200).type(XML).send(MALFORMED_BODY);
    case 'sessionExpiry': {
      // The session really ends, as when UYUNI's session table is purged under the client.
      const id = SESSION_KEY.exec(sessionKey ?? '')?.[1];
      if (id === undefined) return sendFault(reply, uyuniFaults.sessionInvalid(sessionKey ?? ''));
      sessions.destroy(sessionKey ?? '');
      return sendFault(reply, uyuniFaults.sessionNotFound(id));
    }
    default:
      break;
  }

  fleet.tick();
  try {
    const { xml } = dispatcher.dispatch(call.method, call.params);
    return reply.code(200).type(XML).send(xml);
  } catch (err) {
    if (err instanceof RpcFault) return sendFault(reply, err);
    if (err instanceof WireParseError) return sendFault(reply, uyuniFaults.unparseable(err.message));
    req.log.error({ err, method: call.method }, 'lab handler crashed');
    return sendFault(reply, uyuniFaults.unhandled(err instanceof Error ? err.message : String(err)));
  }
}

function sendFault(reply: FastifyReply, fault: RpcFault): FastifyReply {
  return reply.code(200).type(XML).send(encodeFault(fault.faultCode, fault.faultString));
}

/** Never answers: the socket stays open until the client gives up or the lab closes. */
function hang(req: FastifyRequest, reply: FastifyReply, deps: RpcDeps): FastifyReply {
  reply.hijack();
  const socket = req.raw.socket;
  deps.hung.add(socket);
  socket.once('close', () => deps.hung.delete(socket));
  return reply;
}

function cut(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  req.raw.socket.destroy();
  return reply;
}
