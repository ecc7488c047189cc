// The bearer tokens of --auth-token-file. Only SHA-256 digests are kept, and a presented token is
// compared with every one of them through timingSafeEqual without stopping at a match, so neither
// a token's content nor which line matched shows in the response time.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config.js';

/** RFC 6750 §2.1 b64token: what a client can send after `Bearer ` without quoting. */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Shorter tokens are accepted but logged: they can be guessed. */
export const SHORT_TOKEN_CHARS = 16;

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export class TokenSet {
  private constructor(
    private readonly digests: readonly Buffer[],
    /** Tokens shorter than SHORT_TOKEN_CHARS. */
    readonly shortTokens: number,
  ) {}

  get size(): number {
    return this.digests.length;
  }

  /**
   * One token per line; surrounding whitespace (and a CR of CRLF files, a leading BOM) is dropped; blank lines
   * and lines starting with `#` are skipped. Throws ConfigError naming the line (never the token)
   * of a malformed entry, or when no token is left.
   */
  static parse(text: string, source: string): TokenSet {
    const digests: Buffer[] = [];
    let short = 0;
    // A byte-order mark (Windows editors) would make the first token unmatchable.
    const lines = text.replace(/^\uFEFF/, '').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '' || line.startsWith('#')) continue;
      // A token with a space or an inline comment would never match what a client sends.
      if (!B64TOKEN.test(line)) throw new ConfigError(`--auth-token-file: ${source} line ${i + 1}: not a bearer token (letters, digits and - . _ ~ + / only, optionally ending in =; comments go on their own line)`);
      if (line.length < SHORT_TOKEN_CHARS) short++;
      digests.push(digest(line));
    }
    if (digests.length === 0) throw new ConfigError(`--auth-token-file: ${source} holds no token (one per line; blank lines and # comments are ignored)`);
    return new TokenSet(digests, short);
  }

  static load(path: string): TokenSet {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ConfigError(`--auth-token-file: cannot read ${path}: ${(e as Error).message}`);
    }
    return TokenSet.parse(text, path);
  }

  /** Whether `token` is one of the set, in time independent of which one (or none) it is. */
  matches(token: string): boolean {
    const d = digest(token);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(d, known) || found;
    return found;
  }
}
