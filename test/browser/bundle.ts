// A tiny CommonJS bundler for the browser tests, so no bundler dependency is
// needed: React 19 ships CommonJS only. Follows literal require() calls from
// the entries, wraps each file in a function, and exposes the entries on
// `window` under the given names. TypeScript entries are transpiled with the
// installed compiler.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const REQUIRE = /\brequire\(\s*(['"])([^'"]+)\1\s*\)/g;

/** Returns a classic script defining `window[name]` for every entry (absolute path or package name). */
export function bundle(entries: Record<string, string>, fromDir: string): string {
  const ids = new Map<string, number>();
  const modules: string[] = [];

  function load(file: string): number {
    const known = ids.get(file);
    if (known !== undefined) return known;
    const id = modules.length;
    ids.set(file, id);
    modules.push('');
    let source = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.ts')) {
      source = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true },
      }).outputText;
    }
    const deps: Record<string, number> = {};
    for (const m of source.matchAll(REQUIRE)) {
      const spec = m[2];
      if (spec in deps) continue;
      deps[spec] = load(resolve(spec, path.dirname(file)));
    }
    modules[id] =
      `[function (module, exports, require) {\n${source}\n}, ${JSON.stringify(deps)}]`;
    return id;
  }

  const exposed = Object.entries(entries).map(([name, spec]) => [name, load(resolve(spec, fromDir))] as const);
  return `(function () {
var process = { env: { NODE_ENV: 'development' } };
var defs = [${modules.join(',\n')}];
var cache = [];
function req(id) {
  if (cache[id]) return cache[id].exports;
  var module = (cache[id] = { exports: {} });
  var def = defs[id];
  def[0].call(module.exports, module, module.exports, function (spec) {
    if (!(spec in def[1])) throw new Error('bundle: unknown require ' + spec);
    return req(def[1][spec]);
  });
  return module.exports;
}
${exposed.map(([name, id]) => `window[${JSON.stringify(name)}] = req(${id});`).join('\n')}
})();`;
}

function resolve(spec: string, dir: string): string {
  if (spec.startsWith('.') || path.isAbsolute(spec)) {
    const base = path.resolve(dir, spec);
    for (const c of [base, `${base}.ts`, `${base}.js`, path.join(base, 'index.js')]) {
      if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
    }
  }
  return require.resolve(spec, { paths: [dir] });
}
