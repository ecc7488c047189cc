import type { FastifyReply } from 'fastify';

/** Send a JSON answer as sFlow-RT does: `application/json`, no charset parameter. */
export function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type('application/json').send(JSON.stringify(body));
}
