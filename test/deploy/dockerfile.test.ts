// The container image cannot be built here (no container engine on the test machines), so the
// Dockerfile's instructions are checked instead: multi-stage, base image pinned by version,
// non-root USER, HEALTHCHECK, only the build output and production dependencies in the image.
// The HEALTHCHECK command itself is run against a live server in entrypoint.test.ts.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyParts, dockerignore, imageRef, parseDockerfile, type Instruction, type Stage } from './dockerfile.js';
import { REPO } from './k8s.js';

const DOCKERFILE = join(REPO, 'Dockerfile');
const df = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const final = df.stages[df.stages.length - 1]!;
const stageByName = new Map(df.stages.filter((s) => s.name !== null).map((s) => [s.name!, s]));
const all = (s: Stage, keyword: string): Instruction[] => s.instructions.filter((i) => i.keyword === keyword);
const last = (s: Stage, keyword: string): Instruction | undefined => all(s, keyword).at(-1);
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines?: { node?: string }; dependencies?: Record<string, string> };

/** The server's source files (what `npm run build` compiles into the image), tests excluded. */
function serverSources(dir = join(REPO, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return serverSources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Packages a module loads at run time (type-only imports are erased by the compiler). */
function runtimeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\n;])\s*(import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?['"]([^'"]+)['"]/g)) if (!m[2]) out.push(m[3]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out.filter((s) => !s.startsWith('.'));
}

/** The stage a COPY --from refers to (by name or index), or null for an external image. */
function fromStage(ins: Instruction): Stage | null {
  const f = ins.flags.from;
  if (f === undefined) return null;
  return stageByName.get(f.toLowerCase()) ?? (/^\d+$/.test(f) ? (df.stages[Number(f)] ?? null) : null);
}

/** The image a stage finally rests on, following `FROM <earlier stage>`. */
function baseImage(s: Stage): string {
  const prev = stageByName.get(s.from.toLowerCase());
  return prev && prev.index < s.index ? baseImage(prev) : s.from;
}

describe('Dockerfile', () => {
  it('is multi-stage: a build stage with the toolchain, a small runtime stage', () => {
    expect(df.stages.length).toBeGreaterThanOrEqual(2);
    const builds = df.stages.filter((s) => all(s, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)));
    expect(builds.length, 'a stage runs `npm run build`').toBeGreaterThanOrEqual(1);
    expect(builds).not.toContain(final);
  });

  it('pins every base image by version (no untagged or `latest` images)', () => {
    for (const s of df.stages) {
      const ref = baseImage(s);
      expect(ref, `stage ${s.name ?? s.index}: unresolved build arg in FROM`).not.toMatch(/\$/);
      const { tag, digest } = imageRef(ref);
      expect(tag !== null || digest !== null, `stage ${s.name ?? s.index}: ${ref} has no tag`).toBe(true);
      if (tag !== null) {
        expect(tag, `stage ${s.name ?? s.index}: ${ref}`).not.toBe('latest');
        // A version, not a floating major tag: node:20.20.2-alpine3.22, not node:20 or node:lts.
        expect(tag, `stage ${s.name ?? s.index}: ${ref} is not pinned to a full version`).toMatch(/^v?\d+\.\d+\.\d+/);
      }
    }
  });

  it('runs on Node 20 (the engines the project supports) in a small image', () => {
    const { name, tag } = imageRef(baseImage(final));
    expect(name).toMatch(/(^|\/)node$/);
    expect(tag).toMatch(/^20\./);
    expect(tag, 'a slim base (alpine or slim)').toMatch(/alpine|slim/);
    expect(pkg.engines?.node).toMatch(/20/);
  });

  it('runs as a non-root user, by number (Kubernetes runAsNonRoot can only verify a numeric user)', () => {
    const user = last(final, 'USER');
    expect(user, 'the runtime stage sets USER').toBeDefined();
    const [uid, gid] = user!.args.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    if (gid !== undefined) expect(Number(gid)).toBeGreaterThan(0);
    // Nothing after USER switches back.
    const idx = final.instructions.indexOf(user!);
    expect(final.instructions.slice(idx + 1).filter((i) => i.keyword === 'RUN')).toEqual([]);
  });

  it('has a HEALTHCHECK that asks the server for /status through `sflowscope health`', () => {
    const hc = last(final, 'HEALTHCHECK');
    expect(hc, 'the runtime stage has a HEALTHCHECK').toBeDefined();
    expect(hc!.args).not.toMatch(/^NONE\b/i);
    expect(hc!.exec, 'HEALTHCHECK CMD in exec form (no shell needed)').not.toBeNull();
    // `health` reads the same flags and environment as `serve` (port, bind, TLS): entrypoint.test.ts
    // runs it against the live server, secure-overlay.test.ts against an HTTPS one.
    expect(hc!.exec).toEqual(['node', 'dist/cli/main.js', 'health']);
    for (const f of ['interval', 'timeout', 'start-period', 'retries']) expect(hc!.flags[f], `--${f}`).toBeDefined();
  });

  it('starts `node dist/cli/main.js serve` in exec form (signals reach node)', () => {
    expect(all(final, 'ENTRYPOINT')).toEqual([]);
    expect(last(final, 'CMD')?.exec).toEqual(['node', 'dist/cli/main.js', 'serve']);
    expect(last(final, 'WORKDIR')?.args).toMatch(/^\//);
  });

  it('exposes the API port (TCP 8008) and the sFlow port (UDP 6343)', () => {
    const ports = all(final, 'EXPOSE').flatMap((e) => e.args.split(/\s+/));
    expect(ports).toContain('8008/tcp');
    expect(ports).toContain('6343/udp');
  });

  it('carries only the build output and production dependencies', () => {
    for (const ins of [...all(final, 'COPY'), ...all(final, 'ADD')]) {
      const { sources } = copyParts(ins);
      const stage = fromStage(ins);
      if (ins.flags.from !== undefined) {
        expect(stage, `line ${ins.line}: COPY --from=${ins.flags.from} names a stage of this Dockerfile`).not.toBeNull();
        for (const src of sources) {
          if (/node_modules/.test(src)) {
            // node_modules must come from a stage that installed production dependencies only.
            const installs = all(stage!, 'RUN').filter((r) => /\bnpm (ci|install|i)\b/.test(r.args));
            expect(installs.length, `line ${ins.line}: stage ${stage!.name} installs node_modules`).toBeGreaterThan(0);
            for (const r of installs) expect(r.args, `line ${r.line}: dev dependencies installed in ${stage!.name}`).toMatch(/--omit=dev|--production\b|--only=prod/);
          } else {
            expect(src, `line ${ins.line}: only dist/ or node_modules from another stage`).toMatch(/(^|\/)dist\/?$/);
          }
        }
      } else {
        expect(ins.keyword, `line ${ins.line}: ADD fetches or unpacks; use COPY`).toBe('COPY');
        for (const src of sources) expect(['package.json'], `line ${ins.line}: ${src} copied from the build context into the image`).toContain(src);
      }
    }
    // No dependency install without --omit=dev in the runtime stage itself.
    for (const r of all(final, 'RUN')) if (/\bnpm (ci|install|i)\b/.test(r.args)) expect(r.args).toMatch(/--omit=dev/);
  });

  it("the server's code loads only production dependencies (all the image has)", () => {
    const deps = new Set(Object.keys(pkg.dependencies ?? {}));
    const builtins = new Set(builtinModules);
    const sources = serverSources();
    expect(sources.length).toBeGreaterThan(0);
    for (const file of sources) {
      for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('node:') || builtins.has(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        expect(deps.has(name), `${relative(REPO, file)} imports ${spec}: not in package.json dependencies, so not in the image`).toBe(true);
      }
    }
    expect(runtimeImports("import type { A } from 'x';\nimport {\n  b,\n} from 'y';\nimport 'z';\nconst m = await import('w');")).toEqual(['y', 'z', 'w']);
  });

  it('copies only files that exist and that .dockerignore lets through, and sends no junk to the builder', () => {
    const ignored = dockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
    for (const s of df.stages) {
      for (const ins of all(s, 'COPY')) {
        if (ins.flags.from !== undefined) continue;
        for (const src of copyParts(ins).sources) {
          expect(existsSync(join(REPO, src)), `line ${ins.line}: ${src} exists`).toBe(true);
          expect(ignored(src), `line ${ins.line}: ${src} is excluded by .dockerignore`).toBe(false);
        }
      }
      for (const ins of all(s, 'ADD')) expect(ins.args, `line ${ins.line}: ADD of a URL`).not.toMatch(/https?:\/\//);
    }
    for (const p of ['node_modules', 'node_modules/fastify/package.json', 'dist/cli/main.js', '.git', 'test/deploy/dockerfile.test.ts', 'bench', 'docs', 'src/app.test.ts', 'data']) {
      expect(ignored(p), `${p} is sent to the builder`).toBe(true);
    }
    expect(ignored('src/cli/serve.ts')).toBe(false);
  });

  it('gives `npm run build` every input its script names (the UI build too)', () => {
    const script = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build!;
    const build = df.stages.find((st) => all(st, 'RUN').some((r) => /npm run build\b/.test(r.args)))!;
    expect(build, 'a stage runs npm run build').toBeDefined();
    const copied = all(build, 'COPY').filter((c) => c.flags.from === undefined).flatMap((c) => copyParts(c).sources).map((x) => x.replace(/\/$/, ''));
    // Files the script passes to its tools (`-p tsconfig.json`, `--config web/vite.config.ts`): the
    // top-level file or folder each lives in must be in the stage, and the Vite root is its folder.
    const inputs = [...script.matchAll(/(?:-p|--config)\s+(\S+)/g)].map((m) => m[1]!.split('/')[0]!);
    expect(inputs).toEqual(expect.arrayContaining(['tsconfig.json', 'web']));
    for (const top of inputs) expect(copied, `the build stage copies ${top}`).toContain(top);
    expect(dockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'))('web/index.html'), 'web/ reaches the builder').toBe(false);
  });

  it('reads Dockerfile syntax the way Docker does (parser self-check)', () => {
    const t = parseDockerfile(
      ['# syntax=docker/dockerfile:1', 'ARG BASE=node:1.2.3', 'FROM ${BASE} AS one', 'RUN a \\', '  # comment inside', '  && b', 'COPY --from=one --chown=1:1 ["x y", "/z"]', 'FROM one', 'HEALTHCHECK --interval=5s CMD ["true"]', 'USER 10:10'].join('\n'),
    );
    expect(t.stages.map((s) => [s.name, s.from])).toEqual([
      ['one', 'node:1.2.3'],
      [null, 'one'],
    ]);
    expect(t.stages[0]!.instructions[1]!.args).toBe('a && b');
    expect(copyParts(t.stages[0]!.instructions[2]!)).toEqual({ sources: ['x y'], dest: '/z' });
    expect(t.stages[0]!.instructions[2]!.flags).toEqual({ from: 'one', chown: '1:1' });
    expect(t.stages[1]!.instructions[1]!.exec).toEqual(['true']);
    expect(imageRef('registry:5000/a/b:1.0@sha256:ab')).toEqual({ name: 'registry:5000/a/b', tag: '1.0', digest: 'sha256:ab' });
    expect(imageRef('registry:5000/a/b')).toEqual({ name: 'registry:5000/a/b', tag: null, digest: null });
    const ig = dockerignore('*\n!src\nsrc/**/*.test.ts\n');
    expect([ig('src/a.ts'), ig('src/a.test.ts'), ig('src/x/y.test.ts'), ig('README.md')]).toEqual([false, true, true, true]);
  });
});
