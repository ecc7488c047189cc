// Request bodies of the configuration routes (/group, /map, /threshold): read as text whatever the
// Content-Type (sFlow-RT accepts a JSON spec sent as text/plain or without a type) and parsed
// here, so a bad body is a 400 with a message that says what is wrong.

import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/** Replace the plugin's body parsers (encapsulated: other routes keep theirs) by a text reader. */
export function acceptTextBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
}

/** The JSON document of a body read by acceptTextBodies; HttpError 400 when missing or malformed. */
export function jsonBody(body: unknown): unknown {
  if (body === undefined || body === null || (typeof body === 'string' && body.trim() === '')) throw new HttpError(400, 'empty body: expected a JSON object');
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
  }
}
