/**
 * Reads docker-compose.yml for its test without a YAML dependency: the subset the file is written
 * in — block mappings and `- ` lists by indentation, `|` block scalars, flow `[…]` / `{…}`, quoted
 * and plain scalars, `#` comments on their own lines. Anything else throws, so the file cannot
 * drift into a form this reads wrongly.
 */
type Value = string | Value[] | { [key: string]: Value };

function splitFlow(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let current = '';
  for (const ch of body) {
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

function scalar(text: string): Value {
  const t = text.trim();
  if (t.startsWith('[')) {
    if (!t.endsWith(']')) throw new Error(`unclosed flow list: ${t}`);
    return splitFlow(t.slice(1, -1)).map(scalar);
  }
  if (t.startsWith('{')) {
    if (!t.endsWith('}')) throw new Error(`unclosed flow map: ${t}`);
    return Object.fromEntries(splitFlow(t.slice(1, -1)).map((pair) => {
      const i = pair.indexOf(':');
      if (i < 0) throw new Error(`flow map entry without key: ${pair}`);
      return [pair.slice(0, i).trim(), scalar(pair.slice(i + 1))];
    }));
  }
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  return t;
}

export function parseComposeYaml(text: string): Record<string, Value> {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  let i = 0;
  const indentOf = (l: string) => l.length - l.trimStart().length;
  function block(indent: number): Value {
    if (lines[i].trimStart().startsWith('- ')) {
      const list: Value[] = [];
      while (i < lines.length && indentOf(lines[i]) === indent && lines[i].trimStart().startsWith('- ')) list.push(scalar(lines[i++].trimStart().slice(2)));
      return list;
    }
    const map: Record<string, Value> = {};
    while (i < lines.length && indentOf(lines[i]) === indent) {
      const line = lines[i++].trim();
      const m = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line);
      if (!m) throw new Error(`unsupported line: ${line}`);
      const [, key, rest] = m;
      if (rest === '|') {
        const body: string[] = [];
        while (i < lines.length && indentOf(lines[i]) > indent) body.push(lines[i++].trim());
        map[key] = body.join('\n');
      } else if (rest !== undefined) map[key] = scalar(rest);
      else if (i < lines.length && indentOf(lines[i]) > indent) map[key] = block(indentOf(lines[i]));
      else map[key] = '';
    }
    if (i < lines.length && indentOf(lines[i]) > indent) throw new Error(`bad indentation: ${lines[i]}`);
    return map;
  }
  return block(0) as Record<string, Value>;
}
