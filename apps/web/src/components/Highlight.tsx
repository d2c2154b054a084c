// Search highlights come HTML-escaped with the matches in <mark></mark>.
// They are turned into React text and <mark> elements, never innerHTML
// (highlightRuns is the SDK's, shared with the mobile app).
import { highlightRuns } from "@emporium/sdk";

// Re-exported for the tests and pages that split fragments themselves.
export { highlightRuns };

export function Highlight({ fragment }: { fragment: string }) {
  return (
    <>
      {highlightRuns(fragment).map(([text, marked], i) => (marked ? <mark key={i}>{text}</mark> : <span key={i}>{text}</span>))}
    </>
  );
}
