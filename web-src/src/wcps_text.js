// Reading a WCPS query's text just enough to place an image result on the map: split off the
// return clause, take apart a top-level encode(...) call, and write the small metadata
// queries (crsSet, domain) that give the result's CRS and geographic extent.

/**
 * Top-level tokens of ``text`` with their offsets: strings and comments are skipped as
 * units, brackets tracked, so that "return" or "," inside them do not count.
 */
function scan(text, visit) {
  let depth = 0;
  for (let i = 0; i < text.length; ) {
    const ch = text[i];
    if (ch === '"') {
      i += 1;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i += 1;
    } else if (text.startsWith("--", i)) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      if ("([{".includes(ch)) depth += 1;
      else if (")]}".includes(ch)) depth -= 1;
      if (visit(i, ch, depth) === false) return;
      i += 1;
    }
  }
}

/** [head, expression] around the query's top-level ``return`` keyword, or null. */
export function splitReturn(query) {
  let at = -1;
  scan(query, (i, ch, depth) => {
    if (depth === 0 && /return/i.test(query.substr(i, 6)) && !/\w/.test(query[i - 1] || "") && !/\w/.test(query[i + 6] || "")) {
      at = i;
      return false;
    }
    return true;
  });
  return at < 0 ? null : [query.slice(0, at), query.slice(at + 6)];
}

/** The arguments (as text) of ``expr`` when it is a single encode(...) call, else null. */
export function encodeArguments(expr) {
  const m = /^\s*encode\s*\(/i.exec(expr);
  if (!m) return null;
  const start = m[0].length;
  const inner = expr.slice(start);
  const args = [];
  let from = 0;
  let end = -1;
  scan(inner, (i, ch, depth) => {
    if (depth === 0 && ch === ",") {
      args.push(inner.slice(from, i));
      from = i + 1;
    } else if (depth === -1 && ch === ")") {
      args.push(inner.slice(from, i));
      end = i;
      return false;
    }
    return true;
  });
  if (end < 0 || inner.slice(end + 1).replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, "").trim()) return null;
  return args.map((a) => a.trim());
}

/** The format string of an encode(...) return, lower-cased, or null. */
export function encodeFormat(query) {
  const parts = splitReturn(query);
  const args = parts && encodeArguments(parts[1]);
  if (!args || args.length < 2) return null;
  const m = /^"(.*)"$/s.exec(args[1]);
  return m ? m[1].toLowerCase() : null;
}

/**
 * Metadata queries about the encoded value of ``query``: its CRS (crsSet) and the extent of
 * each named axis (domain). Null when the query does not return encode(...).
 */
export function metadataQueries(query, axisNames) {
  const parts = splitReturn(query);
  const args = parts && encodeArguments(parts[1]);
  if (!args) return null;
  const [head, value] = [parts[0], args[0]];
  return {
    crs: `${head}return crsSet(${value})`,
    domains: axisNames.map((axis) => `${head}return domain(${value}, ${axis})`),
  };
}
