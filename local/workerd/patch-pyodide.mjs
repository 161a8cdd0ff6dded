// Patches npm's pyodide.asm.mjs the way workerd's build patches it for its Pyodide bundle
// (workerd's src/pyodide/tools/patch_pyodide_asm.ts), so that the workerd binary's own glue
// can load it as `pyodideRuntime-internal:pyodide.asm`. Each rewrite must match exactly as
// often as expected: a Pyodide or workerd upgrade that moves the code fails here, loudly.
//
//   node local/workerd/patch-pyodide.mjs <pyodide.asm.mjs> <out.mjs>
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, parseExpressionAt } from 'acorn';
import { generate } from 'astring';

const OPTIONS = { ecmaVersion: 'latest', sourceType: 'module', allowReturnOutsideFunction: true };
const expression = (code) => parseExpressionAt(code, 0, OPTIONS);
const statements = (code) => parse(code, OPTIONS).body;
const statement = (code, index = 0) => statements(code)[index];
const isNode = (value) => value && typeof value === 'object' && typeof value.type === 'string';
const dotted = (node) => {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier') {
    const object = dotted(node.object);
    return object === undefined ? undefined : `${object}.${node.property.name}`;
  }
  return undefined;
};
const isCallOf = (node, name) => node.type === 'CallExpression' && dotted(node.callee) === name;
const isFunction = (node, name) => node.type === 'FunctionDeclaration' && node.id?.name === name;
const isVar = (node, name) => node.type === 'VariableDeclaration' && node.declarations.length === 1 && node.declarations[0].id?.name === name;
const callOf = (callee, args) => ({ type: 'CallExpression', callee: expression(callee), arguments: args, optional: false });
const renamed = (node, name) => ({ ...node, id: { type: 'Identifier', name } });
const NO_EVAL = '(() => { throw new Error("Internal Emscripten code tried to eval, this should not happen"); })()';

// name, expected matches, names imported from workerd's builtin_wrappers, the enclosing function
// (if any), match(node, container), replacement(node): a node, or a list spliced into the container.
const REWRITES = [
  { name: 'new WebAssembly.Module', expect: 4, imports: ['newWasmModule'],
    match: (n) => n.type === 'NewExpression' && dotted(n.callee) === 'WebAssembly.Module', replace: (n) => callOf('newWasmModule', n.arguments) },
  { name: 'WebAssembly.instantiate', expect: 2, imports: ['wasmInstantiate'],
    match: (n) => dotted(n) === 'WebAssembly.instantiate', replace: () => expression('wasmInstantiate') },
  { name: 'Date.now', expect: 22, imports: ['monotonicDateNow'], match: (n) => dotted(n) === 'Date.now', replace: () => expression('monotonicDateNow') },
  { name: 'crypto.getRandomValues', expect: 1, imports: ['getRandomValues'],
    match: (n) => isCallOf(n, 'crypto.getRandomValues'), replace: (n) => callOf('getRandomValues', [expression('Module'), ...n.arguments]) },
  { name: 'eval', expect: 6, match: (n) => isCallOf(n, 'eval'), replace: () => expression(NO_EVAL) },
  { name: 'loadLibData', expect: 1, imports: ['patchedLoadLibData'], match: (n) => isFunction(n, 'loadLibData'),
    replace: () => [statement('function loadLibData() { var libData = patchedLoadLibData(Module, libName, flags.rpath); return flags.loadAsync ? Promise.resolve(libData) : libData; }')] },
  { name: 'getMemory', expect: 1, match: (n) => isCallOf(n, 'getMemory'),
    replace: (n) => callOf('Module.getMemoryPatched', [expression('Module'), expression('libName'), ...n.arguments]) },
  { name: 'ffi closure alloc', expect: 1, within: 'ffi_closure_alloc_js', match: (n, c) => Array.isArray(c) && isVar(n, 'index'),
    replace: (n) => [n, statement('Module.recordFfiClosureAlloc?.(closure, index);')] },
  { name: 'ffi closure free', expect: 1, within: 'ffi_closure_free_js', match: (n, c) => Array.isArray(c) && isVar(n, 'index'),
    replace: (n) => [n, statement('Module.recordFfiClosureFree?.(closure, index);')] },
  { name: 'ffi prep closure', expect: 1, within: 'ffi_prep_closure_loc_js',
    match: (n, c) => Array.isArray(c) && n.type === 'ExpressionStatement' && isCallOf(n.expression, 'setWasmTableEntry'),
    replace: (n) => [n, statement('Module.recordFfiPrepClosureLoc?.(closure, codeloc, sig);')] },
  // Pyodide 314.0.6's stack-switching GC fix (pyodide PR 6466), as workerd applies it.
  { name: 'saveState', expect: 1, match: (n, c) => Array.isArray(c) && isFunction(n, 'saveState'),
    replace: (n) => [statement('function saveState() { const state = origSaveState(); if (state === Module.error) { return state; } state.currentFrame = HEAP32[(state.threadState + 52) / 4]; HEAP32[(state.threadState + 52) / 4] = 0; return state; }'), renamed(n, 'origSaveState')] },
  { name: 'restoreState', expect: 1, match: (n, c) => Array.isArray(c) && isFunction(n, 'restoreState'),
    replace: (n) => [statement('function restoreState(state) { origRestoreState(state); HEAP32[(state.threadState + 52) / 4] = state.currentFrame; }'), renamed(n, 'origRestoreState')] },
  { name: 'named export', expect: 1, match: (n, c) => Array.isArray(c) && n.type === 'ExportDefaultDeclaration' && n.declaration?.name === '_createPyodideModule',
    // acorn refuses to parse an export of a name its snippet does not declare: parse it beside one.
    replace: (n) => [n, statement('let _createPyodideModule; export { _createPyodideModule };', 1)] },
];

// Depth first, children before parents; returns how many extra nodes were spliced in at `key`.
function visit(node, container, key, counts, functions) {
  const scope = node.type === 'FunctionDeclaration' && node.id ? [...functions, node.id.name] : functions;
  for (const field of Object.keys(node)) {
    const child = node[field];
    if (Array.isArray(child)) {
      for (let i = 0; i < child.length; i++) if (isNode(child[i])) i += visit(child[i], child, i, counts, scope);
    } else if (isNode(child)) visit(child, node, field, counts, scope);
  }
  for (const rewrite of REWRITES) {
    if (rewrite.within && !functions.includes(rewrite.within)) continue;
    if (!rewrite.match(node, container)) continue;
    counts.set(rewrite.name, (counts.get(rewrite.name) ?? 0) + 1);
    const replacement = rewrite.replace(node);
    if (!Array.isArray(replacement)) {
      container[key] = replacement;
      return 0;
    }
    container.splice(key, 1, ...replacement);
    return replacement.length - 1;
  }
  return 0;
}

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node local/workerd/patch-pyodide.mjs <pyodide.asm.mjs> <out.mjs>');
  process.exit(2);
}
const ast = parse(readFileSync(input, 'utf8'), OPTIONS);
const counts = new Map();
visit(ast, null, 0, counts, []);
const imports = new Set(['addEventListener', 'location']);
for (const rewrite of REWRITES) if (counts.get(rewrite.name)) for (const name of rewrite.imports ?? []) imports.add(name);
ast.body.unshift(statement(`import { ${[...imports].sort().join(', ')} } from "pyodide-internal:builtin_wrappers";`));
const wrong = REWRITES.filter((r) => (counts.get(r.name) ?? 0) !== r.expect)
  .map((r) => `${r.name}: ${counts.get(r.name) ?? 0} matches, expected ${r.expect}`);
if (wrong.length) {
  console.error(`patch-pyodide: ${input} does not look like the Pyodide this patch list was written for:\n  ${wrong.join('\n  ')}`);
  process.exit(1);
}
writeFileSync(output, generate(ast));
console.log(`patch-pyodide: ${REWRITES.length} rewrites, every match count as expected`);
