// What GitHub Actions does to a workflow before a step runs, for the workflow
// steps run here (run-workflows.mjs): `${{ }}` expressions and matrix
// expansion. Only the parts of the language the workflows use; anything else
// is an error, never a guess.
//
// Sources: https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
// (literals, operators, loose equality, functions) and
// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstrategymatrix
// (include/exclude).

/** GitHub's loose conversion to a number for == and <. */
function toNumber(value) {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.trim() === '' ? 0 : Number(value);
  return Number.NaN;
}

function looseEqual(a, b) {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === typeof b && (typeof a !== 'object' || a === null)) return a === b;
  if (typeof a === 'object' && a !== null) return a === b;
  return toNumber(a) === toNumber(b);
}

function truthy(value) {
  return !(value === false || value === 0 || value === '' || value === null || value === undefined || Number.isNaN(value));
}

function asText(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const FUNCTIONS = {
  startsWith: (a, b) => asText(a).toLowerCase().startsWith(asText(b).toLowerCase()),
  endsWith: (a, b) => asText(a).toLowerCase().endsWith(asText(b).toLowerCase()),
  contains: (a, b) => (Array.isArray(a) ? a.some((x) => looseEqual(x, b)) : asText(a).toLowerCase().includes(asText(b).toLowerCase())),
  format: (f, ...args) => asText(f).replace(/\{(\d+)\}/g, (_, i) => asText(args[Number(i)])),
};

const COMPARISONS = {
  '==': (a, b) => looseEqual(a, b),
  '!=': (a, b) => !looseEqual(a, b),
  '<': (a, b) => toNumber(a) < toNumber(b),
  '>': (a, b) => toNumber(a) > toNumber(b),
  '<=': (a, b) => toNumber(a) <= toNumber(b),
  '>=': (a, b) => toNumber(a) >= toNumber(b),
};

function tokenize(text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated string in: ${text}`);
        if (text[i] === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (text[i] === "'") {
          i++;
          break;
        } else {
          value += text[i++];
        }
      }
      tokens.push({ kind: 'literal', value });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(text.slice(i));
      tokens.push({ kind: 'literal', value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i));
      const word = m[0];
      i += word.length;
      if (word === 'true' || word === 'false') tokens.push({ kind: 'literal', value: word === 'true' });
      else if (word === 'null') tokens.push({ kind: 'literal', value: null });
      else tokens.push({ kind: 'name', value: word });
    } else {
      const op = ['==', '!=', '<=', '>=', '&&', '||'].find((o) => text.startsWith(o, i)) ?? c;
      if (!['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '.', ',', '[', ']'].includes(op)) {
        throw new Error(`unexpected '${c}' in expression: ${text}`);
      }
      tokens.push({ kind: 'op', value: op });
      i += op.length;
    }
  }
  return tokens;
}

/**
 * Evaluates one expression (the inside of `${{ }}`, or an `if:`) against a
 * context: { github, env, matrix, runner, secrets, steps, job, status }.
 */
export function evaluate(text, context) {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (value) => tokens[at]?.kind === 'op' && tokens[at].value === value;
  const expect = (value) => {
    if (!peek(value)) throw new Error(`expected '${value}' in expression: ${text}`);
    at++;
  };

  function primary() {
    const token = tokens[at++];
    if (!token) throw new Error(`unexpected end of expression: ${text}`);
    if (token.kind === 'literal') return token.value;
    if (token.kind === 'op' && token.value === '(') {
      const value = or();
      expect(')');
      return value;
    }
    if (token.kind === 'op' && token.value === '!') return !truthy(primary());
    if (token.kind !== 'name') throw new Error(`unexpected '${token.value}' in expression: ${text}`);
    if (peek('(')) {
      at++;
      const args = [];
      while (!peek(')')) {
        args.push(or());
        if (!peek(')')) expect(',');
      }
      at++;
      if (['success', 'failure', 'always', 'cancelled'].includes(token.value)) {
        const status = context.status ?? 'success';
        return token.value === 'always' ? true : token.value === status;
      }
      const fn = FUNCTIONS[token.value];
      if (!fn) throw new Error(`function ${token.value}() is not supported here: ${text}`);
      return fn(...args);
    }
    if (!(token.value in context)) throw new Error(`unknown context '${token.value}' in expression: ${text}`);
    let value = context[token.value];
    for (;;) {
      if (peek('.')) {
        at++;
        const name = tokens[at++];
        if (name?.kind !== 'name') throw new Error(`expected a property name in expression: ${text}`);
        value = value?.[name.value];
      } else if (peek('[')) {
        at++;
        const key = or();
        expect(']');
        value = value?.[key];
      } else {
        return value === undefined ? null : value;
      }
    }
  }
  function comparison() {
    let left = primary();
    while (tokens[at]?.kind === 'op' && Object.hasOwn(COMPARISONS, tokens[at].value)) {
      const compare = COMPARISONS[tokens[at++].value];
      left = compare(left, primary());
    }
    return left;
  }
  function and() {
    let left = comparison();
    while (peek('&&')) {
      at++;
      const right = comparison();
      left = truthy(left) ? right : left;
    }
    return left;
  }
  function or() {
    let left = and();
    while (peek('||')) {
      at++;
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  }

  const value = or();
  if (at !== tokens.length) throw new Error(`unexpected '${tokens[at].value}' in expression: ${text}`);
  return value;
}

/** A string with every `${{ expr }}` replaced by its value. */
export function interpolate(text, context) {
  if (typeof text !== 'string') return text;
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, expr) => asText(evaluate(expr, context)));
}

/** An `if:` condition: a bare expression or one in `${{ }}`; status checks default to success(). */
export function condition(text, context) {
  if (text === undefined || text === null) return context.status === undefined || context.status === 'success';
  if (typeof text === 'boolean') return text;
  const inner = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(String(text));
  const expr = inner ? inner[1] : String(text);
  const usesStatus = /\b(success|failure|always|cancelled)\s*\(/.test(expr);
  const value = truthy(evaluate(expr, context));
  return usesStatus ? value : value && (context.status === undefined || context.status === 'success');
}

/** The legs of a job's matrix, each an object of values ([{}] without a matrix). */
export function expandMatrix(matrix) {
  if (!matrix) return [{}];
  if (typeof matrix === 'string') throw new Error(`a matrix from an expression (${matrix}) cannot be expanded here`);
  const { include = [], exclude = [], ...axes } = matrix;
  const original = Object.keys(axes);
  // Only include: each entry is a leg.
  if (original.length === 0) return include.length > 0 ? include.map((entry) => ({ ...entry })) : [{}];
  let legs = [{}];
  for (const [key, values] of Object.entries(axes)) {
    if (!Array.isArray(values)) throw new Error(`matrix.${key} is not a list`);
    legs = legs.flatMap((leg) => values.map((value) => ({ ...leg, [key]: value })));
  }
  const matches = (leg, pattern) => Object.entries(pattern).every(([k, v]) => looseEqual(leg[k], v));
  legs = legs.filter((leg) => !exclude.some((pattern) => matches(leg, pattern)));
  for (const entry of include) {
    // Added to every combination whose original values it does not change
    // (values added by an earlier include may be); else a leg of its own.
    const fits = legs.filter((leg) => Object.entries(entry).every(([k, v]) => !original.includes(k) || looseEqual(leg[k], v)));
    if (fits.length > 0) for (const leg of fits) Object.assign(leg, entry);
    else legs.push({ ...entry });
  }
  return legs;
}
