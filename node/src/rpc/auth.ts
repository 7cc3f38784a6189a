import { createHash, timingSafeEqual } from 'node:crypto';
import { MutualError } from '@mutual/interface';
import type { FastifyRequest } from 'fastify';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * A preHandler that lets a request through only with `Authorization: Bearer <admin token>`.
 * Both sides are hashed first so the comparison is constant-time whatever the lengths, and
 * the time it takes says nothing about how much of a guess was right.
 */
export function requireAdmin(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header.trim()) : null;
    if (!m?.[1]) throw new MutualError('UNAUTHORIZED', 'this route needs the admin token: Authorization: Bearer <token from <data>/admin.token>');
    if (!timingSafeEqual(digest(m[1]), expected)) throw new MutualError('UNAUTHORIZED', 'the admin token is not this node\'s');
  };
}
