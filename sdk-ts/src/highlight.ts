// Search highlights (SearchHit.highlights) come HTML-escaped with the
// matches wrapped in <mark></mark>. highlightRuns turns a fragment into runs
// of plain text, so a shop front renders them as text (React elements,
// React Native <Text>), never as HTML.

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", apos: "'" };

function decode(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|apos|#(\d+));/g, (m, name: string, num?: string) =>
    num ? String.fromCodePoint(Number(num)) : (ENTITIES[name] ?? m),
  );
}

/** Splits a fragment into plain and marked runs: "a <mark>b</mark>" → [["a ", false], ["b", true]]. */
export function highlightRuns(fragment: string): [string, boolean][] {
  const runs: [string, boolean][] = [];
  const parts = fragment.split(/(<mark>[\s\S]*?<\/mark>)/);
  for (const part of parts) {
    if (!part) continue;
    const marked = part.startsWith("<mark>") && part.endsWith("</mark>");
    runs.push([decode(marked ? part.slice(6, -7) : part), marked]);
  }
  return runs;
}
