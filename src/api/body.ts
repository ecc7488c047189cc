// Request bodies of the configuration routes (/flow, /group, /map, /threshold): read as bytes
// whatever the Content-Type (sFlow-RT accepts a JSON spec sent as text/plain or without a type)
// and parsed here, so a bad body is a 400 with a message that says what is wrong.

import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/**
 * Deepest JSON nesting accepted. Our documents are two or three levels deep; the engine's
 * validators and error messages recurse (JSON.stringify), so a 100,000-deep array would
 * otherwise overflow the stack and come back as a 500.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Replace the plugin's body parsers (encapsulated: other routes keep theirs) by a byte reader,
 * with `routeLimit` as this plugin's body limit, never above the server's --http-body-limit.
 */
export function acceptTextBodies(app: FastifyInstance, routeLimit: number): void {
  const limit = Math.min(routeLimit, app.initialConfig.bodyLimit ?? routeLimit);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => done(null, body));
  // A route's own limit outranks its parser's and is what the 413 answer quotes (errors.ts).
  app.addHook('onRoute', (route) => {
    route.bodyLimit = Math.min(route.bodyLimit ?? limit, limit);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON document of a body read by acceptTextBodies; HttpError 400 when missing, not UTF-8,
 * malformed, nested deeper than MAX_JSON_DEPTH, holding a number beyond a double (1e999 would be
 * Infinity, shown back as null), or carrying a `__proto__` key (or `constructor.prototype`, as
 * Fastify's own JSON parser refuses).
 */
export function jsonBody(body: unknown, expected = 'a JSON object'): unknown {
  let text: string;
  if (Buffer.isBuffer(body)) {
    try {
      text = utf8.decode(body);
    } catch {
      throw new HttpError(400, 'body is not valid UTF-8');
    }
  } else if (typeof body === 'string') text = body;
  else if (body === undefined || body === null) text = '';
  else return checkDocument(body);
  if (text.trim() === '') throw new HttpError(400, `empty body: expected ${expected}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
  }
  return checkDocument(doc);
}

/** Iterative, so the check itself cannot overflow the stack. */
function checkDocument(doc: unknown): unknown {
  const stack: [unknown, number][] = [[doc, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) throw new HttpError(400, 'body has a number out of range (JSON numbers must fit a double)');
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_JSON_DEPTH) throw new HttpError(400, `body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' || typeof x === 'number') stack.push([x, depth + 1]);
      continue;
    }
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (k === '__proto__') throw new HttpError(400, 'body has a "__proto__" key');
      if (k === 'constructor' && typeof x === 'object' && x !== null && Object.prototype.hasOwnProperty.call(x, 'prototype')) throw new HttpError(400, 'body has a "constructor.prototype" key');
      if (typeof x === 'object' || typeof x === 'number') stack.push([x, depth + 1]);
    }
  }
  return doc;
}
