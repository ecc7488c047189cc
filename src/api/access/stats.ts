// Counters of refused requests, published in /analyzer/json (docs/security.md).

export interface AccessStats {
  /** Writes refused with 403 because the server runs with --readonly. */
  httpReadonlyRefused: number;
  /** Requests refused with 401 (no bearer token, or one that matches none). */
  httpAuthFailures: number;
  /** Of those, the ones that did present a bearer token: a wrong or revoked token, or guessing. */
  httpAuthInvalidTokens: number;
  /** Writes refused with 429 by --write-rate-limit. */
  httpWritesRateLimited: number;
  /** Cross-origin requests (preflights included) from an origin --cors-origin does not list. */
  httpCorsRefused: number;
}

export function newAccessStats(): AccessStats {
  return { httpReadonlyRefused: 0, httpAuthFailures: 0, httpAuthInvalidTokens: 0, httpWritesRateLimited: 0, httpCorsRefused: 0 };
}
