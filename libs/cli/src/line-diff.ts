/** One line of a diff: kept (" "), removed ("-") or added ("+"). */
export interface DiffLine {
  readonly mark: ' ' | '-' | '+';
  readonly text: string;
}

/** The lines of `before` and `after` as a longest-common-subsequence diff (fine for policy files: hundreds of lines). */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push({ mark: ' ', text: a[i]! });
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      lines.push({ mark: '-', text: a[i++]! });
    } else {
      lines.push({ mark: '+', text: b[j++]! });
    }
  }
  return lines;
}

/** A unified-style diff of two file sets (name → text): changed files only, `context` lines around each change. */
export function diffFileSets(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>, labels: { before: string; after: string }, context = 3): string[] {
  const out: string[] = [];
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const old = before.get(name);
    const now = after.get(name);
    if (old === now) continue;
    out.push(`--- ${old === undefined ? '/dev/null' : `${labels.before}/${name}`}`, `+++ ${now === undefined ? '/dev/null' : `${labels.after}/${name}`}`);
    const lines = diffLines(old ?? '', now ?? '');
    const changed = lines.map((line, index) => (line.mark === ' ' ? -1 : index)).filter((index) => index >= 0);
    let shownUntil = -1;
    for (const index of changed) {
      const from = Math.max(index - context, shownUntil + 1);
      if (from > shownUntil + 1 && shownUntil >= 0) out.push('@@');
      for (let k = from; k <= Math.min(index + context, lines.length - 1); k++) {
        if (k <= shownUntil) continue;
        out.push(`${lines[k]!.mark}${lines[k]!.text}`);
        shownUntil = k;
      }
    }
  }
  return out;
}
