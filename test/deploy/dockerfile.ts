// A small Dockerfile reader for the deployment tests (no container engine on the test machines):
// instructions with their flags and arguments, grouped by build stage, ARG defaults resolved in
// FROM lines; and a .dockerignore matcher with Docker's rules.

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY... */
  keyword: string;
  /** `--name=value` flags in front of the arguments (COPY --from=build, HEALTHCHECK --interval=30s). */
  flags: Record<string, string>;
  /** The text after the keyword and its flags, continuation lines joined. */
  args: string;
  /** The JSON array of the exec form (RUN/CMD/ENTRYPOINT/HEALTHCHECK CMD ["a", "b"]), when used. */
  exec: string[] | null;
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  index: number;
  /** `AS name`, lower-cased, or null. */
  name: string | null;
  /** The image (or earlier stage) this stage starts from, build args substituted. */
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Instructions before the first FROM (ARG only). */
  preamble: Instruction[];
  stages: Stage[];
  /** Global build args (ARG before the first FROM) with their defaults. */
  args: Record<string, string>;
}

const FLAGGED = new Set(['COPY', 'ADD', 'RUN', 'HEALTHCHECK', 'FROM']);

function parseExec(s: string): string[] | null {
  const t = s.trim();
  if (!t.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null; // Docker then takes it as the shell form
  }
}

/** Substitute `$VAR` and `${VAR}` (also `${VAR:-default}`) from `vars`. */
export function substitute(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, def: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const v = vars[name];
    return v !== undefined && v !== '' ? v : (def ?? '');
  });
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  // Parser directives (`# syntax=...`, `# escape=...`) are only read at the very top.
  let escape = '\\';
  for (const l of lines) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(l);
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape') escape = m[2]!;
  }
  const logical: { text: string; line: number }[] = [];
  let cur: { text: string; line: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    // Comment lines are dropped, also inside a continued instruction.
    if (trimmed.startsWith('#')) continue;
    if (cur === null && trimmed === '') continue;
    const continued = trimmed.endsWith(escape);
    const body = continued ? trimmed.slice(0, -escape.length).trimEnd() : trimmed;
    if (cur === null) cur = { text: body, line: i + 1 };
    else cur.text += ` ${body}`;
    if (!continued) {
      logical.push(cur);
      cur = null;
    }
  }
  if (cur !== null) logical.push(cur);

  const df: Dockerfile = { preamble: [], stages: [], args: {} };
  for (const { text: t, line } of logical) {
    const m = /^(\S+)\s*(.*)$/s.exec(t);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    let rest = m[2]!.trim();
    const flags: Record<string, string> = {};
    if (FLAGGED.has(keyword)) {
      for (;;) {
        const f = /^--([a-zA-Z-]+)(?:=(\S*))?\s*/.exec(rest);
        if (!f) break;
        flags[f[1]!] = f[2] ?? 'true';
        rest = rest.slice(f[0].length);
      }
    }
    let exec: string[] | null = null;
    if (keyword === 'HEALTHCHECK') {
      const c = /^CMD\s+(.*)$/is.exec(rest);
      exec = c ? parseExec(c[1]!) : null;
    } else if (keyword === 'RUN' || keyword === 'CMD' || keyword === 'ENTRYPOINT' || keyword === 'COPY' || keyword === 'ADD') {
      exec = parseExec(rest);
    }
    const ins: Instruction = { keyword, flags, args: rest, exec, line };
    if (keyword === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!f) throw new Error(`line ${line}: cannot read FROM ${rest}`);
      df.stages.push({ index: df.stages.length, name: f[2]?.toLowerCase() ?? null, from: substitute(f[1]!, df.args), instructions: [ins] });
    } else if (df.stages.length === 0) {
      if (keyword !== 'ARG') throw new Error(`line ${line}: only ARG may come before the first FROM, found ${keyword}`);
      const a = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(rest);
      if (a) df.args[a[1]!] = (a[2] ?? '').replace(/^"(.*)"$/, '$1');
      df.preamble.push(ins);
    } else {
      df.stages[df.stages.length - 1]!.instructions.push(ins);
    }
  }
  return df;
}

/** COPY/ADD sources and destination (shell or JSON form). */
export function copyParts(ins: Instruction): { sources: string[]; dest: string } {
  const parts = ins.exec ?? ins.args.split(/\s+/).filter((s) => s !== '');
  if (parts.length < 2) throw new Error(`line ${ins.line}: ${ins.keyword} needs a source and a destination`);
  return { sources: parts.slice(0, -1), dest: parts[parts.length - 1]! };
}

/** Split an image reference into name, tag and digest. */
export function imageRef(ref: string): { name: string; tag: string | null; digest: string | null } {
  let rest = ref;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  let tag: string | null = null;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}

// ---- .dockerignore ---------------------------------------------------------------------------

interface IgnoreRule {
  negate: boolean;
  re: RegExp;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches any number of directories, `**` anything.
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Docker's .dockerignore rules: last matching line wins; a line matching a directory covers what is inside. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) continue;
    const negate = l.startsWith('!');
    const pat = (negate ? l.slice(1) : l).trim().replace(/^\/+/, '').replace(/\/+$/, '');
    if (pat === '') continue;
    rules.push({ negate, re: globToRegExp(pat) });
  }
  return (path: string) => {
    const p = path.replace(/^\.\//, '').replace(/\/+$/, '');
    const prefixes: string[] = [];
    const segs = p.split('/');
    for (let i = 1; i <= segs.length; i++) prefixes.push(segs.slice(0, i).join('/'));
    let ignored = false;
    for (const r of rules) if (prefixes.some((x) => r.re.test(x))) ignored = !r.negate;
    return ignored;
  };
}
