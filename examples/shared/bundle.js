// A tiny CommonJS bundler for the example pages, so they need no bundler and
// no CDN: follows literal require() calls from the entries (React ships
// CommonJS only; sse-native/react resolves to dist/), wraps each file in a
// function and exposes the entries on `window`. Production React only: the
// development builds are left out (replaced by an empty module).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const REQUIRE = /\brequire\(\s*(['"])([^'"]+)\1\s*\)/g;

/** A classic script defining window[name] = require(spec) for every entry, specs resolved from `fromDir`. */
function bundle(entries, fromDir) {
  const ids = new Map();
  const modules = [];
  function load(file) {
    if (ids.has(file)) return ids.get(file);
    const id = modules.length;
    ids.set(file, id);
    modules.push('');
    const source = /\.development\.js$/.test(file) ? '' : fs.readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/m, '');
    const deps = {};
    for (const m of source.matchAll(REQUIRE)) {
      const spec = m[2];
      if (!(spec in deps)) deps[spec] = load(require.resolve(spec, { paths: [path.dirname(file)] }));
    }
    modules[id] = `[function (module, exports, require) {\n${source}\n}, ${JSON.stringify(deps)}]`;
    return id;
  }
  const exposed = Object.entries(entries).map(([name, spec]) => [name, load(require.resolve(spec, { paths: [fromDir] }))]);
  return `(function () {
var process = { env: { NODE_ENV: 'production' } };
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

let cached;
/** React, ReactDOM's client and sse-native/react for a page, built once per process. */
function reactBundle() {
  cached ??= bundle({ React: 'react', ReactDOMClient: 'react-dom/client', SSEReact: 'sse-native/react' }, __dirname);
  return cached;
}

module.exports = { bundle, reactBundle };
