// Fetching JSON from the server, and polling loops that wait for each answer before the next.

export class HttpStatusError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function getJson<T>(url: string, timeoutMs = 60_000): Promise<T> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const r = await fetch(url, { signal: ctl.signal, headers: { accept: 'application/json' } });
    if (!r.ok) throw new HttpStatusError(r.status, `${r.status} ${r.statusText} for ${url}`);
    return (await r.json()) as T;
  } finally {
    clearTimeout(timer);
  }
}

export interface Poller {
  stop(): void;
  /** Run now (restarting the interval). */
  kick(): void;
}

/**
 * Call `step` every `everyMs` after the previous call settled; `errorMs` after a failure.
 * Polling pauses while the page is hidden.
 */
export function poll(step: () => Promise<void>, everyMs: number, errorMs = 5000): Poller {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  let generation = 0;
  const run = async (gen: number) => {
    timer = null;
    if (stopped || gen !== generation) return;
    let wait = everyMs;
    try {
      await step();
    } catch (e) {
      wait = errorMs;
      console.warn('poll failed', e);
    }
    if (stopped || gen !== generation) return;
    timer = setTimeout(() => void run(gen), document.hidden ? Math.max(wait, 5000) : wait);
  };
  void run(generation);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    kick() {
      if (stopped) return;
      if (timer) clearTimeout(timer);
      generation++;
      void run(generation);
    },
  };
}

/** Path segment / query helpers. */
export const enc = encodeURIComponent;

export function query(params: Record<string, string | number | null | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') parts.push(`${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
