// Validation of Kubernetes objects against the Kubernetes OpenAPI schemas, offline, with the
// `kubernetes-models` package (generated from the Kubernetes OpenAPI spec; 4.5.x = Kubernetes
// 1.33): its validators check types, required fields, enums and formats (quantities, ports...).
// On top, like `kubectl apply --validate=strict` against a real API server, unknown fields
// (typos) and fields the API documents as deprecated are errors: those come from the same
// generated type declarations, read with the TypeScript compiler.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const require = createRequire(import.meta.url);

/** Where kubernetes-models is installed, or null when it is not. */
export function kubernetesModelsDir(): string | null {
  try {
    return dirname(require.resolve('kubernetes-models/package.json'));
  } catch {
    return null;
  }
}

/** `apps/v1` → `apps/v1`, `v1` → `v1`: the package's folder for an API group version. */
function gvPath(apiVersion: string): string {
  return apiVersion;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Validate with the model's generated JSON-schema validator; returns the error messages. */
export async function validateWithModel(obj: { apiVersion: string; kind: string }): Promise<string[]> {
  let mod: Record<string, unknown>;
  try {
    const specifier = ['kubernetes-models', gvPath(obj.apiVersion), obj.kind].join('/');
    mod = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
  } catch (e) {
    return [`no schema for ${obj.apiVersion} ${obj.kind}: ${(e as Error).message}`];
  }
  const Model = mod[obj.kind] as ModelClass | undefined;
  if (typeof Model !== 'function') return [`kubernetes-models has no ${obj.kind} in ${obj.apiVersion}`];
  try {
    new Model(structuredClone(obj)).validate();
    return [];
  } catch (e) {
    return String((e as Error).message)
      .split(/, (?=data\/)/)
      .map((m) => m.trim());
  }
}

const DEPRECATED_DOC = /(^|\.\s+)Deprecated[:.]|\bis deprecated\b|\bdeprecated alias\b|\bdeprecated field\b|\bdeprecated in favou?r\b/i;

/**
 * Unknown and deprecated fields, by walking each object alongside its generated TypeScript
 * interface (`IDeployment`...), the way the API server's strict field validation does.
 */
export class StrictFieldChecker {
  private readonly checker: ts.TypeChecker;
  private readonly types = new Map<string, ts.Type>();

  constructor(modelsDir: string, kinds: readonly { apiVersion: string; kind: string }[]) {
    const unique = [...new Map(kinds.map((k) => [`${k.apiVersion}/${k.kind}`, k])).values()];
    // A virtual module in the project that holds node_modules/kubernetes-models, naming each
    // kind's interface.
    const root = join(modelsDir, '..', '..', '__sflowscope_kinds__.ts');
    const source = unique.map((k, i) => `import type { I${k.kind} as T${i} } from 'kubernetes-models/${gvPath(k.apiVersion)}/${k.kind}';\nexport type K${i} = T${i};`).join('\n');
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const readFile = host.readFile.bind(host);
    host.getSourceFile = (f, lang, onError, create) => (f === root ? ts.createSourceFile(f, source, lang, true) : getSourceFile(f, lang, onError, create));
    host.fileExists = (f) => f === root || fileExists(f);
    host.readFile = (f) => (f === root ? source : readFile(f));
    const program = ts.createProgram([root], options, host);
    const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === root);
    if (diags.length > 0) throw new Error(`cannot load kubernetes-models types: ${diags.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
    this.checker = program.getTypeChecker();
    const sf = program.getSourceFile(root)!;
    let i = 0;
    for (const st of sf.statements) {
      if (ts.isTypeAliasDeclaration(st)) {
        const k = unique[i++]!;
        this.types.set(`${k.apiVersion}/${k.kind}`, this.checker.getTypeAtLocation(st.name));
      }
    }
  }

  /** Problems in one object: `spec.template.spec.containers[0].imagePullPolicyy: unknown field`. */
  check(obj: { apiVersion: string; kind: string }): string[] {
    const t = this.types.get(`${obj.apiVersion}/${obj.kind}`);
    if (!t) return [`no type for ${obj.apiVersion} ${obj.kind}`];
    const out: string[] = [];
    this.walk(obj, t, '', out);
    return out;
  }

  private walk(value: unknown, type: ts.Type, path: string, out: string[]): void {
    if (value === null || typeof value !== 'object') return;
    const c = this.checker;
    let t = c.getNonNullableType(type);
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.NonPrimitive)) return;
    if (t.isUnion()) {
      const candidates = t.types.filter((u) => (u.flags & ts.TypeFlags.Object) !== 0 && c.isArrayType(u) === Array.isArray(value));
      if (candidates.length === 0) return; // a primitive where an object is: the schema validator reports it
      t = candidates.find((u) => Object.keys(value).every((k) => c.getPropertyOfType(u, k) !== undefined)) ?? candidates[0]!;
    }
    if (Array.isArray(value)) {
      if (!c.isArrayType(t)) return;
      const elem = c.getTypeArguments(t as ts.TypeReference)[0]!;
      value.forEach((v, i) => this.walk(v, elem, `${path}[${i}]`, out));
      return;
    }
    const index = c.getIndexInfosOfType(t).find((ii) => ii.keyType.flags & ts.TypeFlags.String);
    for (const [key, v] of Object.entries(value)) {
      const p = path === '' ? key : `${path}.${key}`;
      const prop = c.getPropertyOfType(t, key);
      if (!prop) {
        if (index) this.walk(v, index.type, p, out);
        else out.push(`${p}: unknown field`);
        continue;
      }
      const doc = ts.displayPartsToString(prop.getDocumentationComment(c));
      if (DEPRECATED_DOC.test(doc)) out.push(`${p}: deprecated field (${doc.replace(/\s+/g, ' ').slice(0, 160)})`);
      this.walk(v, c.getTypeOfSymbol(prop), p, out);
    }
  }

  /** Whether the interface of `apiVersion/kind` has property path `a.b.c` (schema version probe). */
  hasPath(apiVersion: string, kind: string, dotted: string): boolean {
    let t = this.types.get(`${apiVersion}/${kind}`);
    for (const seg of dotted.split('.')) {
      if (!t) return false;
      t = this.checker.getNonNullableType(t);
      if (this.checker.isArrayType(t)) t = this.checker.getTypeArguments(t as ts.TypeReference)[0];
      const p = t && this.checker.getPropertyOfType(t, seg);
      t = p ? this.checker.getTypeOfSymbol(p) : undefined;
    }
    return t !== undefined;
  }
}
