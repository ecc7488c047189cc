// Light and dark themes: the choice is remembered; by default the system preference wins.

export type Theme = 'light' | 'dark';
const KEY = 'sflowscope_theme';
const listeners = new Set<(t: Theme) => void>();

export function currentTheme(): Theme {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

export function initTheme(): Theme {
  let t: string | null = null;
  try {
    t = localStorage.getItem(KEY);
  } catch {
    /* storage disabled */
  }
  const theme: Theme = t === 'dark' || t === 'light' ? t : matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  document.documentElement.dataset.theme = theme;
  return theme;
}

export function setTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
  try {
    localStorage.setItem(KEY, t);
  } catch {
    /* storage disabled */
  }
  for (const l of listeners) l(t);
}

export function onThemeChange(fn: (t: Theme) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Colours the charts read (kept in step with styles.css). */
export function chartColors(): { text: string; muted: string; grid: string; bg: string } {
  const cs = getComputedStyle(document.documentElement);
  const v = (n: string, d: string) => cs.getPropertyValue(n).trim() || d;
  return { text: v('--fg', '#222'), muted: v('--muted', '#666'), grid: v('--border', '#ddd'), bg: v('--panel', '#fff') };
}
