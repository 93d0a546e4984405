import {
  ConcordError,
  PROTOCOL_VERSION,
  fromServerConflicts,
  fromServerPull,
  fromServerPush,
  fromServerRegister,
  fromServerResolveConflict,
  fromServerValidate,
  isErrorCode,
  type FromReplicaConflictsQuery,
  type FromReplicaPull,
  type FromReplicaPushInput,
  type FromServerConflicts,
  type FromServerPull,
  type FromServerPush,
  type FromServerRegister,
  type FromReplicaResolveConflict,
  type FromServerResolveConflict,
  type FromReplicaValidate,
  type FromServerValidate,
} from '@concord/shared';
import type { z } from 'zod';

export interface TransportOptions {
  /** The server's base URL, e.g. `https://example.com` (routes live under `/v1`). */
  url: string;
  fetch?: typeof fetch;
  /**
   * A bearer token, or a function giving the current one. The function is asked before every
   * request, and once more when the server refuses a token (an expired one): the request is
   * then sent again with the new token.
   */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** A request not answered within this time fails like a lost connection (the event stream excepted). Default 60 s. */
  timeoutMs?: number;
}

/** How a replica talks to the server. Failures are `ConcordError`s; `details.offline` marks a network failure. */
export interface Transport {
  register(schemaVersion: number): Promise<FromServerRegister>;
  push(push: Omit<FromReplicaPushInput, 'protocol'>): Promise<FromServerPush>;
  pull(pull: Omit<FromReplicaPull, 'protocol'>): Promise<FromServerPull>;
  conflicts(query: FromReplicaConflictsQuery): Promise<FromServerConflicts>;
  resolveConflict(
    id: string,
    decision: Omit<FromReplicaResolveConflict, 'protocol'>,
  ): Promise<FromServerResolveConflict>;
  validate(request: Omit<FromReplicaValidate, 'protocol'>): Promise<FromServerValidate>;
  /** Opens the server's event stream (`GET /v1/events`, Server-Sent Events) until `signal` aborts. */
  events(signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
}

export function createHttpTransport({
  url,
  fetch: fetchFn = globalThis.fetch.bind(globalThis),
  token,
  timeoutMs = 60_000,
}: TransportOptions): Transport {
  const base = url.replace(/\/+$/, '');
  const request = async (path: string, accept: string, body?: unknown, signal?: AbortSignal) => {
    const headers: Record<string, string> = { accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const bearer = typeof token === 'function' ? await token() : token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    try {
      return await fetchFn(`${base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        body: body === undefined ? undefined : JSON.stringify({ protocol: PROTOCOL_VERSION, ...body }),
        signal: signal ?? AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ConcordError(
        'unavailable',
        `cannot reach the server: ${error instanceof Error ? error.message : String(error)}`,
        { offline: true },
      );
    }
  };
  /** The answer to a request, sent once more with a fresh token when the server refused the one it carried. */
  const authorized = async (path: string, accept: string, body?: unknown, signal?: AbortSignal) => {
    const response = await request(path, accept, body, signal);
    if (response.status !== 401 || typeof token !== 'function') return response;
    // Only a refused token is worth another: a refused replica secret stays refused.
    const refusal = (await response
      .clone()
      .json()
      .catch(() => undefined)) as { details?: { reason?: unknown } } | undefined;
    if (refusal?.details?.reason !== 'token') return response;
    await response.body?.cancel();
    return request(path, accept, body, signal);
  };
  const send = async <T extends z.ZodType>(path: string, message: T, body?: unknown): Promise<z.output<T>> => {
    const response = await authorized(path, 'application/json', body);
    const text = await response.text().catch(() => '');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ConcordError(
        response.ok ? 'internal' : 'unavailable',
        `the server answered ${response.status} without JSON`,
      );
    }
    if (!response.ok) {
      const error = json as { code?: unknown; message?: unknown; details?: unknown };
      const code = isErrorCode(error.code) ? error.code : 'internal';
      throw new ConcordError(
        code,
        typeof error.message === 'string' ? error.message : `HTTP ${response.status}`,
        error.details,
      );
    }
    const parsed = message.safeParse(json);
    if (!parsed.success) throw new ConcordError('internal', `unexpected answer from ${path}: ${parsed.error.message}`);
    return parsed.data;
  };
  return {
    register: (schemaVersion) => send('/v1/replicas', fromServerRegister, { schemaVersion }),
    push: (push) => send('/v1/push', fromServerPush, push),
    pull: (pull) => send('/v1/pull', fromServerPull, pull),
    validate: (request) => send('/v1/validate', fromServerValidate, request),
    conflicts: (query) => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) {
        if (value !== undefined && value !== '') params.set(name, String(value));
      }
      return send(`/v1/conflicts?${params}`, fromServerConflicts);
    },
    resolveConflict: (id, decision) =>
      send(`/v1/conflicts/${encodeURIComponent(id)}/resolve`, fromServerResolveConflict, decision),
    async events(signal) {
      const response = await authorized('/v1/events', 'text/event-stream', undefined, signal);
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw new ConcordError('unavailable', `the event stream answered ${response.status}`);
      }
      return response.body;
    },
  };
}
